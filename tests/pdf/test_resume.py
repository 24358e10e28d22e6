"""A section laid out again after an edit, from the first page the edit can change
(`publisher.pdf.weasyprint.resume`, issue #11): the pages before it are taken from its last
layout, and the document is the one laying the edited section out afresh makes."""

from __future__ import annotations

import uuid
from contextlib import nullcontext

import pytest
import weasyprint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from weasyprint.formatting_structure.boxes import TextBox
from weasyprint.layout import page as layout_page
from weasyprint.text.fonts import FontConfiguration

from publisher.pdf.weasyprint import lines, patched, resume
from tests.pdf.test_grid import _TEXT, BODY, LINE, PITCH, paragraph


@pytest.fixture(autouse=True)
def _forgotten():
    resume.forget()
    yield
    resume.forget()


def items_html(items: list[str], lines_a_column: int = 10) -> str:
    """`items` (each an item's HTML) as briefs in two balanced columns on the line grid, on
    pages of `lines_a_column` lines a column."""
    body = "".join(f'<article data-item="item-{n}" data-bookmark="第{n}条">{item}</article>'
                   for n, item in enumerate(items))
    return ('<html lang="zh"><head><style>'
            f"@page {{ size: 520.1pt {60 + PITCH * lines_a_column}pt; margin: 30pt 29pt }}"
            f"body {{ margin: 0; font: {BODY}pt/{PITCH}pt 'Noto Serif CJK SC' }}"
            "div { columns: 2; column-gap: 2em; column-fill: balance; width: calc(44em + 0.02pt);"
            f" --line-grid: snap; --line: {PITCH}pt }}"
            "article { bookmark-level: 1; bookmark-label: attr(data-bookmark) }"
            "p { margin: 0; text-align: justify; orphans: 2; widows: 2 }"
            f"h2 {{ font: bold {BODY}pt/{PITCH}pt 'Noto Sans CJK SC'; margin: {PITCH / 2}pt 0;"
            " break-after: avoid; --line-grid: none }"
            f"article + article {{ margin-top: {PITCH / 2}pt; padding-top: {PITCH / 2 - 0.5}pt;"
            " border-top: 0.5pt solid gray }"
            f"</style></head><body><div>{body}</div></body></html>")


def laid_out(html: str, fonts=None, *, kept: bool = True) -> tuple[object, bytes]:
    """The document of `html` and its PDF, its section kept (`resume.section`) with its lines
    (`lines.carried`) unless not `kept`."""
    with patched(uuid.UUID(int=0)), lines.carried() if kept else nullcontext(), \
            resume.section("section") if kept else nullcontext():
        document = weasyprint.HTML(string=html).render(font_config=fonts)
        return document, document.write_pdf()


def made(monkeypatch) -> list[int]:
    """The numbers of the pages laid out from now on."""
    numbers: list[int] = []
    make_page = layout_page.make_page

    def counted(context, root_box, page_type, resume_at, page_number, page_state):
        numbers.append(page_number)
        return make_page(context, root_box, page_type, resume_at, page_number, page_state)

    monkeypatch.setattr(layout_page, "make_page", counted)
    return numbers


def test_an_edit_near_the_end_lays_out_again_only_the_pages_from_its_item(monkeypatch):
    """Twelve briefs over five pages; an edit in the last: the pages before the one where its
    item begins, less the page whose layout looked ahead at it, come from the last layout, and
    the document is the one laying the edited section out afresh makes: the same PDF, whose
    bookmarks and links name the items, and every run of text belongs to the new document."""
    items = [paragraph(6 + n % 5) for n in range(12)]
    fonts = FontConfiguration()
    numbers = made(monkeypatch)
    _, first = laid_out(items_html(items), fonts)
    pages = len(numbers)
    assert pages >= 5

    items[-1] = f"<p>改{(LINE * 8)[1:]}</p>"
    numbers.clear()
    document, edited = laid_out(items_html(items), fonts)
    assert 1 < numbers[0] <= pages - 1 and numbers == list(range(numbers[0], pages + 1))
    _, afresh = laid_out(items_html(items), kept=False)
    assert edited == afresh and edited != first

    elements = {id(element) for element in document._html.etree_element.iter()}
    texts = [box for page in document.pages for box in page._page_box.descendants()
             if isinstance(box, TextBox)]
    assert texts and all(id(box.element) in elements for box in texts)


def test_an_edit_in_the_first_item_that_moves_every_break_lays_out_every_page(monkeypatch):
    items = [paragraph(8) for _ in range(8)]
    fonts = FontConfiguration()
    numbers = made(monkeypatch)
    laid_out(items_html(items), fonts)
    pages = len(numbers)
    items[0] = paragraph(11)
    numbers.clear()
    _, edited = laid_out(items_html(items), fonts)
    assert numbers == list(range(1, pages + 2))
    assert edited == laid_out(items_html(items), kept=False)[1]


def test_the_pages_after_an_edit_that_ends_where_it_did_come_from_the_last_layout(monkeypatch):
    """A sentence rewritten on the first page in as many lines: the first page is laid out
    again, ends where it did, and the pages after it are taken as they were (this layout
    breaks before an item there either way); the same PDF as laying the section out afresh,
    every run of text in the new document."""
    items = [paragraph(8) for _ in range(8)]
    fonts = FontConfiguration()
    numbers = made(monkeypatch)
    _, first = laid_out(items_html(items), fonts)
    pages = len(numbers)
    assert pages >= 4
    items[0] = f"<p>改{paragraph(8)[4:]}"
    numbers.clear()
    document, edited = laid_out(items_html(items), fonts)
    assert numbers == [1]
    assert edited == laid_out(items_html(items), kept=False)[1] and edited != first
    elements = {id(element) for element in document._html.etree_element.iter()}
    assert all(id(box.element) in elements for page in document.pages
               for box in page._page_box.descendants() if isinstance(box, TextBox))
    # An element added, though in as many lines: the pages after are laid out again, as
    # selectors and the box tree may place what follows otherwise.
    items[0] = f"<p><span>又</span>{paragraph(8)[4:]}"
    numbers.clear()
    _, added = laid_out(items_html(items), fonts)
    assert numbers == list(range(1, pages + 1))
    assert added == laid_out(items_html(items), kept=False)[1]


def test_the_page_that_looked_ahead_at_an_edit_is_taken_if_the_next_page_answers_as_before(
        monkeypatch):
    """Items with headings over seven pages; the last rewritten. The sixth page's balancing
    laid the seventh out ahead (it asks how many lines that page wants pushed on), so it read
    into the edit. It is taken on trust, and the seventh's layout answers its question: with
    as many lines wanted as before, only the seventh is laid out; with the item's end too
    short to balance alone there (lines wanted now), the sixth is laid out again, then the
    seventh. Either way, the PDF of laying the section out afresh."""
    items = [("<h2>一、标题</h2>" if n % 3 == 0 else "") + paragraph(3 + n % 5)
             for n in range(12)]
    fonts = FontConfiguration()
    numbers = made(monkeypatch)
    laid_out(items_html(items, 6), fonts)
    assert len(numbers) == 7
    for length, laid_out_again in ((3, [7]), (1, [7, 6, 7])):
        items[-1] = paragraph(length)
        numbers.clear()
        _, edited = laid_out(items_html(items, 6), fonts)
        assert numbers == laid_out_again
        assert edited == laid_out(items_html(items, 6), kept=False)[1]


def test_pages_are_kept_for_the_same_fonts_and_section_only(monkeypatch):
    """Another font configuration (a font file changed) or another section starts afresh."""
    items = [paragraph(7) for _ in range(10)]
    fonts = FontConfiguration()
    numbers = made(monkeypatch)
    laid_out(items_html(items), fonts)
    edited = [*items[:-1], paragraph(3)]
    numbers.clear()
    laid_out(items_html(edited), FontConfiguration())
    assert len(numbers) > 2 and numbers == list(range(1, len(numbers) + 1))
    numbers.clear()
    with patched(uuid.UUID(int=0)), lines.carried(), resume.section("another"):
        weasyprint.HTML(string=items_html(edited)).render(font_config=fonts)
    assert numbers[0] == 1


# Blocks of any text, lead-ins and headings; items of one to three of them.
_BLOCK = st.one_of(
    _TEXT.map(lambda text: f"<p>{text}</p>"),
    st.tuples(st.text(alphabet="坚持开展活动", min_size=2, max_size=6), _TEXT).map(
        lambda lead: f'<p class="lead"><strong>{lead[0]}</strong>{lead[1]}</p>'),
    st.just("<h2>一、标题</h2>"))
_ITEMS = st.lists(st.lists(_BLOCK, min_size=1, max_size=3).map("".join), min_size=2,
                  max_size=10)


@settings(max_examples=10, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=_ITEMS, edit=st.tuples(st.integers(), _BLOCK))
def test_a_section_laid_out_again_after_any_edit_is_the_one_laid_out_afresh(items, edit):
    """Briefs of any text across pages, one of them rewritten: the document laid out from
    the pages of the last layout that serve is the one laid out afresh, byte for byte."""
    at, block = edit
    edited = [*items]
    edited[at % len(items)] = block
    fonts = FontConfiguration()
    laid_out(items_html(items, 6), fonts)
    _, again = laid_out(items_html(edited, 6), fonts)
    assert again == laid_out(items_html(edited, 6), kept=False)[1]
    resume.forget()


def test_the_sample_section_edited_near_its_end_is_the_one_laid_out_afresh(tmp_path,
                                                                            monkeypatch):
    """In the sample, the briefs of 要闻要论 (six pages): a sentence of 150-zizhiqu-yantao, on
    the fifth, is laid out again; the fourth, which looked ahead at it, is taken, as the
    fifth's layout gives the answer it had; the sixth, after the fifth ends where it did, is
    taken; the section's PDF is the one its layout from the first page makes."""
    import shutil

    from publisher.context import resolve
    from publisher.pdf import sections
    from publisher.source.load import load_issue
    from tests.conftest import SAMPLE

    issue = tmp_path / "issue"
    shutil.copytree(SAMPLE, issue)
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sections, "_lines_kept", True)

    def section_pdf() -> bytes:
        context = resolve(load_issue(issue))
        job = next(job for job in sections.issue_jobs(context, press=False)
                   if job.name == "item-020")
        done: dict = {}
        sections._lay_out_here(context, [job], [0], done, lambda how, job: None,
                               sections.shared_digest(context, tmp_path / "out"))
        return done[0].pdf

    section_pdf()
    article = issue / "articles" / "150-zizhiqu-yantao.md"
    text = article.read_text(encoding="utf-8")
    body = text.index("\n---", 3) + 4
    at = text.index("。", body)
    article.write_text(text[:at] + "，再议" + text[at:], encoding="utf-8")
    numbers = made(monkeypatch)
    again = section_pdf()
    assert numbers == [5]
    resume.forget()
    numbers.clear()
    assert section_pdf() == again and numbers == [1, 2, 3, 4, 5, 6]
