"""No text vanishes between an article and the outputs: what the source says, the PDF and the
EPUB print, or the tool refuses the source with its own error."""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from publisher.errors import IssueErrors
from publisher.source.load import load_issue
from publisher.source.markup import to_html
from tests.conftest import ROOTS, SAMPLE

HAN = re.compile(r"[\u3400-\u9fff]")
MANIFEST = (ROOTS / "good-minimal" / "issue.yaml").read_text(encoding="utf-8")


def han(text: str) -> list[str]:
    """The Chinese characters of a text in order: markup is ASCII, so these are its words."""
    return HAN.findall(text)


def source_han(root: Path) -> dict[str, list[str]]:
    """Each article's Chinese characters, read from the file itself, not through the parser."""
    return {path.name: han(path.read_text(encoding="utf-8").split("\n---\n", 1)[1])
            for path in sorted((root / "articles").glob("*.md"))}


def epub_han(epub: Path) -> list[str]:
    with zipfile.ZipFile(epub) as book:
        return han("".join(
            "".join(etree.fromstring(book.read(name)).itertext())
            for name in sorted(book.namelist()) if name.endswith(".xhtml")
            and not name.endswith(("nav.xhtml", "cover.xhtml", "contents.xhtml"))))


def pdf_han(pdf: Path) -> Counter:
    import pdfplumber

    with pdfplumber.open(pdf) as document:
        return Counter(han("".join(page.extract_text() or "" for page in document.pages)))


def is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    rest = iter(haystack)
    return all(ch in rest for ch in needle)


@pytest.fixture(scope="module")
def kept(tmp_path_factory) -> tuple[Path, Path]:
    """tests/roots/text-kept (nesting the layout sets, a tab, CRLF, a 3,000-character line,
    emphasis, a web link, a box) built once into a PDF and an EPUB."""
    from publisher.build import build

    pdf, epub = build(ROOTS / "text-kept", tmp_path_factory.mktemp("kept"))
    return pdf, epub


@pytest.mark.parametrize("root", ["text-kept", "sample"])
def test_every_character_of_the_sources_reaches_both_outputs(request, kept, root):
    if root == "sample":
        folder = SAMPLE
        pdf, epub = request.getfixturevalue("sample_pdf"), request.getfixturevalue("sample_epub")
    else:
        folder, (pdf, epub) = ROOTS / root, kept
    sources = source_han(folder)
    in_epub, in_pdf = epub_han(epub), pdf_han(pdf)
    # The EPUB keeps reading order; the PDF's columns do not extract in order, so count there.
    everything = [ch for chars in sources.values() for ch in chars]
    assert is_subsequence(everything, in_epub)
    assert not Counter(everything) - in_pdf
    if root == "text-kept":
        assert "最后一段必须在" in "".join(in_epub)


def test_links_go_to_the_web_or_to_items_of_the_issue(kept):
    from pypdf import PdfReader

    pdf, epub = kept
    uris = [annotation.get_object()["/A"]["/URI"] for page in PdfReader(pdf).pages
            for annotation in page.get("/Annots") or []
            if "/URI" in annotation.get_object().get("/A", {})]
    assert uris == ["https://www.gov.cn/"]
    with zipfile.ZipFile(epub) as book:
        first = etree.fromstring(book.read("EPUB/010-a.xhtml"))
        names = set(book.namelist())
    hrefs = [a.get("href") for a in first.iter("{http://www.w3.org/1999/xhtml}a")]
    assert hrefs == ["https://www.gov.cn/", "020-b.xhtml"]
    assert "EPUB/020-b.xhtml" in names  # no dangling link (EPUBCheck's RSC-007, RSC-012)
    assert to_html("[下一篇](20-b.md)").strip() == '<p><a href="#item-020">下一篇</a></p>'


# ------------------------------------------------------------------- generated sources

WORDS = st.text(alphabet="党建引领发展基层组织", min_size=1, max_size=6)
# Markup characters, and separators and controls that must be refused: rarer than words, so
# that most generated articles load and their text is compared.
MARKUP = st.sampled_from(["\t", "*", "**", "`", "_", " ", "\\", "[", "]", "(", ")", "<", ">",
                          ":", "!", "-", "\r\n"])
REFUSED = st.sampled_from(["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d",
                           "\x1e", "\x1b", "\x00", "\ufffe", "\uffff", "\r", "\ue000"])
INLINE = st.lists(st.one_of(WORDS, WORDS, WORDS, WORDS, MARKUP, MARKUP, REFUSED),
                  min_size=1, max_size=6).map("".join)


@st.composite
def blocks(draw) -> str:
    kind = draw(st.sampled_from(["text", "list", "quote", "excerpt", "heading", "long"]))
    text = draw(INLINE)
    depth = draw(st.integers(1, 24))
    if kind == "list":
        return "\n".join("  " * i + f"- {text}{i}" for i in range(depth))
    if kind == "quote":
        return ">" * depth + " " + text
    if kind == "excerpt":
        nested = min(depth, 3)
        return "\n".join(["::: excerpt"] * nested + [text] + [":::"] * nested)
    if kind == "heading":
        return draw(st.sampled_from(["## ", "### "])) + text
    if kind == "long":
        return text * 300
    return text


ARTICLES = st.tuples(INLINE, st.lists(blocks(), min_size=1, max_size=6).map("\n\n".join))


def _load(title: str, body: str):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "articles").mkdir()
        (root / "issue.yaml").write_text(MANIFEST, encoding="utf-8")
        article = f"---\ncolumn: yaowen\ntitle: {title}\n---\n\n{body}\n"
        (root / "articles" / "10-a.md").write_bytes(article.encode("utf-8"))
        return load_issue(root).articles[0]


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(ARTICLES)
def test_generated_sources_arrive_whole_or_are_refused(generated):
    title, body = generated
    try:
        article = _load(title, body)
    except IssueErrors as refused:
        assert refused.errors and all(error.path for error in refused.errors)
        return
    html = to_html(article.body, lambda src: src)
    # Well-formed XML (the EPUB's documents are XHTML), and every character of the body in it.
    printed = "".join(etree.fromstring(f"<div>{html}</div>").itertext())
    assert han(printed) == han(body)
    assert han("".join(article.title)) == han(title)
