"""The printed pages in the EPUB: a page list with every folio of the PDF, each marker where its
printed page begins, the NCX's pageList, the metadata that announces them; and the imprint."""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise
from urllib.parse import urldefrag

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from publisher.epub.body import PageBreak, body_xhtml, with_word_breaks
from publisher.pdf.page_map import counted
from tests.conftest import ROOTS
from tests.epub.conftest import EPUB_TYPE, NS, Book

SENTINEL = "\ue000"
WRAPPER = f'xmlns="{NS["x"]}" xmlns:epub="{NS["epub"]}"'
SPACE = re.compile(r"\s+")


def _page_list(book: Book) -> list[tuple[str, str]]:
    nav = book.xml(book.name(book.item("nav").get("href")))
    (pages,) = [n for n in nav.iterfind(".//x:nav", NS) if n.get(EPUB_TYPE) == "page-list"]
    return [("".join(a.itertext()), a.get("href")) for a in pages.iterfind(".//x:a", NS)]


@pytest.fixture(scope="module")
def printed_pages(sample_pdf) -> list[tuple[str, str]]:
    """(folio, text without whitespace) of each page of the sample's PDF."""
    from pypdf import PdfReader

    reader = PdfReader(sample_pdf)
    return [(label, SPACE.sub("", page.extract_text() or ""))
            for label, page in zip(reader.page_labels, reader.pages, strict=True)]


def test_page_list_has_every_printed_folio(book, printed_pages):
    entries = _page_list(book)
    assert [folio for folio, _ in entries] == [folio for folio, _ in printed_pages]
    assert {str(n) for n in range(1, 61)} <= {folio for folio, _ in entries}
    for folio, href in entries:
        target, anchor = urldefrag(href)
        (marker,) = book.xml(book.name(target)).xpath(f"//*[@id='{anchor}']")
        assert marker.get(EPUB_TYPE) == "pagebreak" and marker.get("role") == "doc-pagebreak"
        assert marker.get("aria-label") == folio


def test_each_marker_stands_where_its_printed_page_begins(book, printed_pages):
    """The text after each marker in an item is the text at the top of its printed page, and
    the text before it in its document is on the page before."""
    printed = dict(printed_pages)
    before = {folio: text for (_, text), (folio, _) in pairwise(printed_pages)}
    checked = 0
    for href in book.spine()[1:]:  # the 目录 on, the cover being a picture
        body = book.xml(book.name(href)).find("x:body", NS)
        markers = body.xpath(".//*[@role='doc-pagebreak']")
        for name in body.xpath(".//*[@class='column-name' or contains(@class, 'column-heading')]"):
            name.text = ""  # print sets it in the page's furniture, laid over the text
        for marker in markers:
            marker.text = SENTINEL
        text = SPACE.sub("", "".join(body.itertext()))
        for marker, at in zip(markers, [m.start() for m in re.finditer(SENTINEL, text)],
                              strict=True):
            following = text[at + 1:at + 7]
            if following.startswith(SENTINEL) or not following:
                continue  # a page with no text of its own (a blank page) begins where the next
            folio = marker.get("aria-label")
            assert following in printed[folio], folio
            preceding = text[max(0, at - 6):at]
            assert SENTINEL in preceding or preceding in before[folio], folio
            checked += 1
    assert checked >= 55  # the inside pages with text


def test_a_page_that_opens_a_column_is_marked_before_the_columns_name(book):
    """Print sets the column's name on the page that opens it (卷首语 on p. 3): a marker at the
    item's opening stands before the name, not between it and the title."""
    checked = 0
    for href in book.spine()[2:]:
        body = book.xml(book.name(href)).find("x:body", NS)
        order = list(body.iter())
        names = body.xpath(".//*[@class='column-name']")
        titles = body.xpath(".//x:h1", namespaces=NS)
        if not names or not titles:
            continue
        openings = [m for m in body.xpath(".//*[@role='doc-pagebreak']")
                    if order.index(m) < order.index(titles[0])]
        for marker in openings:
            assert order.index(marker) < order.index(names[0]), (href, marker.get("aria-label"))
            checked += 1
    assert checked >= 5


def test_ncx_page_list_mirrors_the_nav(book):
    ncx = book.xml(book.name(book.manifest[book.opf.find(".//opf:spine", NS).get("toc")]
                             .get("href")))
    targets = ncx.findall("ncx:pageList/ncx:pageTarget", NS)
    assert [(t.findtext("ncx:navLabel/ncx:text", namespaces=NS),
             t.find("ncx:content", NS).get("src")) for t in targets] == _page_list(book)
    numbered = [t for t in targets if t.get("type") == "normal"]
    assert [t.get("value") for t in numbered] == [str(n) for n in range(1, len(numbered) + 1)]
    assert ncx.find(".//ncx:meta[@name='dtb:maxPageNumber']", NS).get("content") == str(
        len(numbered))


def test_metadata_announces_the_printed_pages(book, sample_issue):
    features = set(book.meta("schema:accessibilityFeature"))
    assert {"pageNavigation", "printPageNumbers"} <= features
    (source,) = book.dc("source")
    assert sample_issue.magazine in source and sample_issue.label in source
    assert book.meta("pageBreakSource") == [source]
    assert book.opf.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"


def test_imprint_from_issue_yaml(elements_epub, book):
    epub = Book(elements_epub)
    assert epub.dc("publisher") == ["测试月刊社"]
    assert epub.dc("rights") == ["版权所有 © 2016 测试月刊社"]
    assert epub.dc("description") == ["用来检验 EPUB 元素的小刊。"]
    assert epub.dc("source") == ["urn:issn:1234-5679", "CN64-0000/D"]
    assert epub.meta("pageBreakSource") == ["urn:issn:1234-5679"]
    # the sample, an internal publication, is published by its 编印单位; its issue.yaml names
    # no rights or description: none is made up
    assert book.dc("publisher") == ["共产党人杂志社（示例）"]
    assert book.dc("rights") == book.dc("description") == []
    imprint = book.xml(book.name("contents.xhtml")).xpath("//*[@class='imprint-page']")[0]
    text = "".join(imprint.itertext())
    for mark in ("编印单位共产党人杂志社（示例）", "准印证号宁新出管字【2015】第0219号",
                 "内部资料，免费交流", "发送对象全区各级党组织（示例）"):
        assert mark in text, mark


def test_an_epub_built_with_the_pdf_is_the_epub_built_alone(elements_epub, tmp_path):
    """The PDF build hands its page map over; laying the issue out again finds the same."""
    from publisher.build import build

    _, epub = build(ROOTS / "epub-elements", tmp_path, pdf=True, epub=True)
    assert epub.read_bytes() == elements_epub.read_bytes()
    assert _page_list(Book(epub))


@given(st.text())
def test_a_character_counts_unless_it_is_whitespace_or_a_format_character(text):
    """`counted` takes a line that needs no lookup (printable: no format character, no
    whitespace but the space) by its length, and any other character by character."""
    assert counted(text) == sum(not ch.isspace() and unicodedata.category(ch) != "Cf"
                                for ch in text)
    assert counted(text + "\u200b\u3000\u00ad \n") == counted(text)


def test_markers_go_before_the_counted_character():
    breaks = [(0, 3, PageBreak("5", "page-5")), (1, 0, PageBreak("6", "page-6")),
              (1, 0, PageBreak("7", "page-7")), (1, 99, PageBreak("8", "page-8"))]
    html = '<p>ab c<strong>de</strong>f</p>\n<h2>“x</h2>\n'
    root = etree.fromstring(f'<div {WRAPPER}>{body_xhtml(html, breaks, "e")}</div>')
    first, second = root
    assert first[0].text in ("", None)
    assert (first[0][0].get("id"), first[0][0].tail) == ("page-5", "de")
    assert first.text == "ab c" and counted(first.text) == 3
    # two pages at one place keep their order; 99 is past the end of the block
    assert [m.get("id") for m in second] == ["page-6", "page-7", "page-8"]
    assert second[1].tail == "“x" and second.text in ("", None)


def test_an_excerpt_is_a_labelled_quotation_with_its_source():
    html = ('<aside class="excerpt"><p class="excerpt-label">微书摘</p>\n<p>一段。</p>\n'
            '<p>二段。</p>\n<p class="attribution">——某人《某书》</p>\n</aside>\n')
    root = etree.fromstring(f'<div {WRAPPER}>{body_xhtml(html, [], "item-1-x")}</div>')
    (aside,) = root
    label, quote, attribution = aside
    assert aside.get("aria-labelledby") == label.get("id") == "item-1-x-1"
    assert [p.text for p in quote] == ["一段。", "二段。"]
    assert quote.tag == f"{{{NS['x']}}}blockquote"
    assert attribution.find("x:cite", NS).text == "——某人《某书》"


def test_word_breaks_stand_between_words_only():
    assert with_word_breaks("五中全会公报不能错过的7个要点") == (
        "五中全会<wbr/>公报<wbr/>不能<wbr/>错过<wbr/>的7个<wbr/>要点")
    # never beside a mark or a space (三严三实 is one word: the desk's dictionary), and escaped
    assert with_word_breaks("践行“三严三实” 贵在忠诚") == "践行“三严三实” 贵在<wbr/>忠诚"
    assert with_word_breaks("<党建>") == "&lt;党建&gt;"
