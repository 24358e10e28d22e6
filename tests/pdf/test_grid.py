"""The line grid (行格, issue #13): every line of body text on its page's grid, whatever height
the headings, title blocks, boxes, rules and pictures above it take; facing columns share
baselines and full columns end on the block's last line. Rule 9 of `publisher check` measures
it; the positions here are read from the PDF's glyphs directly."""

from __future__ import annotations

import uuid
from collections import defaultdict
from pathlib import Path

import pdfplumber
import pytest
import weasyprint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.build import build
from publisher.check import check_pdf
from publisher.context import resolve
from publisher.pdf.html import issue_html
from publisher.source.load import load_issue
from tests.conftest import ROOTS

PITCH = 17.5
BODY = 10.5


@pytest.fixture(scope="module")
def grid_pdf(tmp_path_factory) -> Path:
    return build(ROOTS / "typeset-grid", tmp_path_factory.mktemp("grid"), pdf=True,
                 epub=False)[0]


def baselines(pdf: Path) -> dict[tuple[int, str], list[float]]:
    """Baselines of body-size glyphs of text (not of the 黑体 headings, which stand centred in
    their two lines) by page and column (left or right of the page's middle), the running head
    and folio left out."""
    found: dict[tuple[int, str], set[float]] = defaultdict(set)
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages, 1):
            for char in page.chars:
                if (round(char["size"], 1) != BODY or not char["text"].strip()
                        or "Sans" in char["fontname"]):
                    continue
                y = round(page.height - char["matrix"][5], 1)
                if 80 < y < page.height - 70:
                    side = "left" if char["x0"] < page.width / 2 else "right"
                    found[number, side].add(y)
    return {key: sorted(ys) for key, ys in found.items()}


def phases(pdf: Path) -> list[float]:
    return [y % PITCH for ys in baselines(pdf).values() for y in ys]


def test_lines_after_headlines_headings_rules_and_boxes_stay_on_the_grid(grid_pdf):
    report = check_pdf(grid_pdf)
    totals = report.totals()
    assert [totals[rule] for rule in (1, 2, 4, 5, 6, 7, 8, 9)] == [0] * 8, report.format()
    found = phases(grid_pdf)
    assert len(found) > 60
    # One grid: the same phase on every page and column.
    assert all(min(abs(a - found[0]), PITCH - abs(a - found[0])) < 0.2 for a in found), found


def test_bare_weasyprint_sets_the_same_issue_off_the_grid(tmp_path):
    issue = load_issue(ROOTS / "typeset-grid")
    pdf = tmp_path / "bare.pdf"
    weasyprint.HTML(string=issue_html(resolve(issue)),
                    base_url=issue.root.resolve().as_uri() + "/").write_pdf(pdf)
    report = check_pdf(pdf)
    assert report.totals()[9] > 10, report.format()
    assert not report.passed


def test_facing_columns_share_baselines(grid_pdf):
    lines = baselines(grid_pdf)
    shared = 0
    for (page, side), ys in lines.items():
        if side == "right" and (page, "left") in lines:
            left = lines[page, "left"]
            shared += len(set(ys) & set(left))
            assert all(min(abs(y - x) % PITCH for x in left) < 0.2 for y in ys)
    assert shared > 10


def test_the_sample_sets_its_body_text_on_the_grid_at_its_trim_and_at_a4(sample_pdf, a4_sample):
    for pdf in (sample_pdf, a4_sample[1]):
        report = check_pdf(pdf)
        assert report.totals()[9] == 0, report.format()
        assert report.passed


def test_full_columns_end_on_the_blocks_last_line(sample_pdf):
    """Folio 6 (要闻要论): the next brief's head and two lines do not fit under the right column's
    last brief; the lines it leaves open before the page's briefs instead, one before each, so
    both columns end on the block's last line."""
    from pypdf import PdfReader

    page = PdfReader(sample_pdf).page_labels.index("6") + 1
    lines = baselines(sample_pdf)
    assert max(lines[page, "left"]) == max(lines[page, "right"])


# From a line's top to that of a 一、 heading after it, in lines: the heading's own space.
HEAD = 1.6
# One full line of a 21-character column.
LINE = "社区党建工作要坚持以人民为中心的发展思想不"


def paragraph(lines: int, lead: str = "") -> str:
    """A paragraph of `lines` full lines; `lead`, a bold lead-in that opens it."""
    text = (LINE * lines)[len(lead):]
    return f'<p class="lead"><strong>{lead}</strong>{text}</p>' if lead else f"<p>{text}</p>"


def columns_pdf(tmp_path: Path, body: str, lines: int = 10, font_config=None) -> Path:
    """`body` in two columns on the grid, `lines` a column, one-line paragraphs kept whole
    (widows and orphans of 2), 一、 headings two lines high and kept with their text, and a
    rule a line high (as between briefs) above each section after another; laid out with
    `font_config`, else a font configuration of its own."""
    return columns_document(tmp_path, body, lines, font_config)[1]


def columns_document(tmp_path: Path, body: str, lines: int = 10,
                     font_config=None) -> tuple[object, Path]:
    """`columns_pdf`'s document as WeasyPrint laid it out, and the PDF."""
    from publisher.pdf.weasyprint import patched

    html = ('<html lang="zh"><head><style>'
            f"@page {{ size: 520.1pt {60 + PITCH * lines}pt; margin: 30pt 29pt }}"
            f"body {{ margin: 0; font: {BODY}pt/{PITCH}pt 'Noto Serif CJK SC' }}"
            "div { columns: 2; column-gap: 2em; column-fill: balance; width: calc(44em + 0.02pt);"
            f" --line-grid: snap; --line: {PITCH}pt }}"
            "p { margin: 0; text-align: justify; orphans: 2; widows: 2 }"
            f"h2 {{ font: bold {BODY}pt/{PITCH}pt 'Noto Sans CJK SC'; margin: {PITCH / 2}pt 0;"
            " break-after: avoid; --line-grid: none }"
            f"section + section {{ margin-top: {PITCH / 2}pt; padding-top: {PITCH / 2 - 0.5}pt;"
            " border-top: 0.5pt solid gray }"
            f"</style></head><body><div>{body}</div></body></html>")
    pdf = tmp_path / "columns.pdf"
    with patched(uuid.uuid4()):
        document = weasyprint.HTML(string=html).render(font_config=font_config)
        document.write_pdf(pdf)
    return document, pdf


def rows(pdf: Path) -> dict[tuple[int, str], list[tuple[float, str]]]:
    """Each column's rows of text by page, top down, as (top, "head" or "body")."""
    found: dict[tuple[int, str], set] = defaultdict(set)
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages, 1):
            for char in page.chars:
                side = "left" if char["x0"] < page.width / 2 else "right"
                kind = "head" if "Sans" in char["fontname"] else "body"
                found[number, side].add((round(char["top"], 1), kind))
    return {key: sorted(found[key]) for key in sorted(found)}


def heads_space(column: list[tuple[float, str]]) -> list[float]:
    """The space above each heading of a column, from the line before it, in lines."""
    return [round((top - column[i - 1][0]) / PITCH, 1)
            for i, (top, kind) in enumerate(column) if kind == "head" and i]


def heads_after(column: list[tuple[float, str]]) -> list[float]:
    """The space below each heading of a column, to the line after it, in lines."""
    return [round((column[i + 1][0] - top) / PITCH, 1)
            for i, (top, kind) in enumerate(column[:-1]) if kind == "head"]


def test_a_short_column_takes_lines_across_the_gutter(tmp_path, monkeypatch):
    """The right column ends three lines short: 二、 and the two lines it keeps do not fit
    under it, and it has no heading of its own to open them before. They open around the
    left column's 一、 instead (two above it, one below: it stands in the middle of its
    lines), three lines move across, and both columns end on the block's last line."""
    from publisher.pdf.weasyprint import balance

    body = (paragraph(3) + "<h2>一、标题</h2>" + paragraph(8) + paragraph(4)
            + "<h2>二、标题</h2>" + paragraph(4))
    found = rows(columns_pdf(tmp_path, body))
    left, right = found[1, "left"], found[1, "right"]
    assert left[-1] == right[-1] and len(right) == 10
    assert found[2, "left"][0][1] == "head"  # 二、 opens page 2

    monkeypatch.setattr(balance, "_level", lambda context, result, *rest: (result, {}))
    before = rows(columns_pdf(tmp_path, body))
    assert round((before[1, "right"][-1][0] - before[1, "left"][-1][0]) / PITCH) == -3
    assert heads_space(left) == [HEAD + 2] and heads_space(before[1, "left"]) == [HEAD]
    assert heads_after(left) == [heads_after(before[1, "left"])[0] + 1]


def test_the_lines_a_full_page_opens_are_shared_over_its_headings(tmp_path, monkeypatch):
    """Three lines short in the right column: one opens before each of the page's three
    headings, not three before the right column's one."""
    from publisher.pdf.weasyprint import balance

    body = (paragraph(1) + "<h2>一、标题</h2>" + paragraph(1) + "<h2>二、标题</h2>" + paragraph(6)
            + "<h2>三、标题</h2>" + paragraph(3) + "<h2>四、标题</h2>" + paragraph(4))
    found = rows(columns_pdf(tmp_path, body))
    assert found[1, "left"][-1] == found[1, "right"][-1]
    assert heads_space(found[1, "left"]) + heads_space(found[1, "right"]) == [HEAD + 1] * 3

    monkeypatch.setattr(balance, "_level", lambda context, result, *rest: (result, {}))
    before = rows(columns_pdf(tmp_path, body))
    spaces = heads_space(before[1, "left"]) + heads_space(before[1, "right"])
    assert spaces == [HEAD, HEAD, HEAD + 3]


def test_balanced_columns_end_a_line_apart_at_most(tmp_path, monkeypatch):
    """Ten lines, balanced: five and five would leave the third paragraph's first line alone
    at the left column's foot, six and four its last alone atop the right one (orphans and
    widows of 2), so WeasyPrint sets four and six. A line opens before the bold lead-in of the
    shorter column instead: five and six."""
    from publisher.pdf.weasyprint import balance

    body = paragraph(2) + paragraph(2, lead="坚持开展活动") + paragraph(3) + paragraph(3)
    found = rows(columns_pdf(tmp_path, body))
    assert (len(found[1, "left"]), len(found[1, "right"])) == (4, 6)
    assert round((found[1, "right"][-1][0] - found[1, "left"][-1][0]) / PITCH) == 1

    monkeypatch.setattr(balance, "_closer", lambda context, result, *rest: result)
    before = rows(columns_pdf(tmp_path, body))
    assert round((before[1, "right"][-1][0] - before[1, "left"][-1][0]) / PITCH) == 2


def test_a_first_column_short_takes_lines_from_the_page_before(tmp_path, monkeypatch):
    """Page 2's left column ends three lines short: 二、 and its two lines do not fit under it,
    and nothing stands before it on that page to open them before. They open on page 1,
    around 一、 (two above, one below), and the three lines they push on fill page 2's left
    column."""
    from publisher.pdf.weasyprint import balance

    body = paragraph(2) + "<h2>一、标题</h2>" + paragraph(23) + "<h2>二、标题</h2>" + paragraph(14)
    found = rows(columns_pdf(tmp_path, body))
    assert heads_space(found[1, "left"]) == [HEAD + 2]
    assert len(found[2, "left"]) == len(found[2, "right"]) + 1 == 10  # 二、 takes two lines
    assert found[2, "right"][0][1] == "head"

    monkeypatch.setattr(balance, "_ahead", lambda context, result, *rest: result)
    before = rows(columns_pdf(tmp_path, body))
    assert len(before[2, "left"]) == 7


def test_balanced_columns_with_nothing_to_open_before_leave_an_orphan(tmp_path, monkeypatch):
    """Ten lines of plain paragraphs, balanced: five and five would leave the third
    paragraph's first line alone at the left column's foot (an orphan), so WeasyPrint sets
    four and six. With no heading or lead-in to open a line before, the orphan is allowed
    (Chinese composition does; a last line alone atop a column it does not): five and five."""
    from publisher.pdf.weasyprint import balance

    body = paragraph(2) + paragraph(2) + paragraph(3) + paragraph(3)
    found = rows(columns_pdf(tmp_path, body))
    assert (len(found[1, "left"]), len(found[1, "right"])) == (5, 5)
    assert found[1, "left"][-1] == found[1, "right"][-1]

    monkeypatch.setattr(balance, "_closer", lambda context, result, *rest: result)
    before = rows(columns_pdf(tmp_path, body))
    assert (len(before[1, "left"]), len(before[1, "right"])) == (4, 6)


def rules(pdf: Path) -> list[tuple[int, float]]:
    """The rules drawn (a line or a thin rectangle, or both), as (page, top)."""
    with pdfplumber.open(pdf) as document:
        return [(number, round(shape["top"], 1)) for number, page in enumerate(document.pages, 1)
                for shape in page.lines + page.rects]


def test_a_brief_that_opens_a_column_leaves_its_rule_and_the_column_holds_a_line_more(
        tmp_path, monkeypatch):
    """The second section opens the right column: the rule that parts it from the first, and
    the space around it, go, and the column holds ten lines, level with the left one, where
    WeasyPrint set the rule under the running head and nine lines."""
    from publisher.pdf.weasyprint import balance

    body = f"<section>{paragraph(10)}</section><section>{paragraph(14)}</section>"
    pdf = columns_pdf(tmp_path, body)
    found = rows(pdf)
    assert len(found[1, "left"]) == len(found[1, "right"]) == 10
    assert found[1, "left"][0][0] == found[1, "right"][0][0]
    assert rules(pdf) == []

    monkeypatch.setattr(balance, "_without_ruled_tops",
                        lambda context, tree, lay_out, absolute, fixed: lay_out(absolute, fixed))
    before = columns_pdf(tmp_path, body)
    right = rows(before)[1, "right"]
    assert len(right) == 9
    assert rules(before) and all(page == 1 and top < right[0][0] for page, top in rules(before))


def test_a_brief_that_fits_at_a_column_foot_only_without_its_rule_keeps_to_the_next_column(
        tmp_path, monkeypatch):
    """Two lines are left under the first section: the second, a line of rule and two lines
    at least, does not fit there and opens the right column, where its rule goes. Without
    the rule it would fit under the first, where it needs the rule: it keeps to the right
    column's top, and no brief stands anywhere without its rule."""
    from publisher.pdf.weasyprint import balance

    body = f"<section>{paragraph(8)}</section><section>{paragraph(14)}</section>"
    pdf = columns_pdf(tmp_path, body)
    found = rows(pdf)
    assert (len(found[1, "left"]), len(found[1, "right"])) == (8, 10)
    assert rules(pdf) == []

    monkeypatch.setattr(balance, "_KEPT_TO_COLUMN", {})
    before = columns_pdf(tmp_path, body)
    assert len(rows(before)[1, "left"]) == 10  # the second section at its foot, and no rule
    assert rules(before) == []


def test_a_few_last_lines_alone_on_a_page_take_lines_from_the_page_before(tmp_path, monkeypatch):
    """Twenty-two lines: page 2 would hold the last two, in its left column only. A line opens
    before each lead-in of page 1, two more lines go on, and page 2 ends two and two."""
    from publisher.pdf.weasyprint import balance

    body = (paragraph(5) + paragraph(5, lead="坚持开展活动") + paragraph(5, lead="完善制度机制")
            + paragraph(7))
    found = rows(columns_pdf(tmp_path, body))
    assert (len(found[2, "left"]), len(found[2, "right"])) == (2, 2)
    assert len(found[1, "left"]) + len(found[1, "right"]) == 18

    monkeypatch.setattr(balance, "_ahead", lambda context, result, *rest: result)
    before = rows(columns_pdf(tmp_path, body))
    assert len(before[2, "left"]) == 2 and (2, "right") not in before


def test_a_heading_that_opens_a_column_takes_a_line_more_for_a_short_tail(tmp_path,
                                                                          monkeypatch):
    """Page 2 would hold the last three lines alone, in its left column (two and one would
    leave the last alone atop the right one). Page 1 has nothing to open a line before but
    二、, which keeps to the top of its right column (with its rule it does not fit under the
    first section): it takes a line more below it, one more line goes on, and page 2 ends
    two and two."""
    from publisher.pdf.weasyprint import balance

    body = (f"<section>{paragraph(8)}</section>"
            f"<section><h2>二、标题</h2>{paragraph(11)}</section>")
    found = rows(columns_pdf(tmp_path, body))
    assert (len(found[2, "left"]), len(found[2, "right"])) == (2, 2)
    assert found[1, "right"][0][1] == "head"

    monkeypatch.setattr(balance, "_head_atop", lambda column: None)
    before = rows(columns_pdf(tmp_path, body))
    assert len(before[2, "left"]) == 3 and (2, "right") not in before
    assert heads_after(found[1, "right"]) == [heads_after(before[1, "right"])[0] + 1]


def chars(pdf: Path) -> list[tuple[int, str, float, float]]:
    with pdfplumber.open(pdf) as document:
        return [(number, char["text"], round(char["x0"], 3), round(char["top"], 3))
                for number, page in enumerate(document.pages, 1) for char in page.chars]


def test_a_page_laid_out_again_lays_each_line_out_once(tmp_path, monkeypatch):
    """A layout tried again (here, a brief that opens a column, laid out again without its
    rule) takes the lines it laid out before from `lines.next_line`, moved to where they now
    stand, and sets the same page as laying them out afresh: 24 lines, each laid out once."""
    from publisher.pdf.weasyprint import lines

    body = f"<section>{paragraph(10)}</section><section>{paragraph(14)}</section>"
    laid: list[int] = []
    original = lines._lay_out_line
    monkeypatch.setattr(lines, "_lay_out_line",
                        lambda *args: (laid.append(1), original(*args))[1])
    found = chars(columns_pdf(tmp_path, body))
    assert len(laid) == 24

    monkeypatch.setattr(lines, "plain", lambda box: False)  # nothing is kept
    laid.clear()
    assert chars(columns_pdf(tmp_path, body)) == found
    assert len(laid) > 30, len(laid)


def test_a_layout_carried_over_lays_out_again_only_the_paragraph_an_edit_changed(
        tmp_path, monkeypatch):
    """In `watch`, inside `lines.carried`, the lines of a section's last layout serve its next,
    laid out with the same font configuration: after an edit, only the edited paragraph is
    broken into lines again, and the page is the one laying it out afresh sets. Each line's
    boxes belong to the new document, whose elements say which item a run of text is in; a
    paragraph that comes twice in the same style is laid out once."""
    from weasyprint.formatting_structure.boxes import TextBox
    from weasyprint.text.fonts import FontConfiguration

    from publisher.pdf.weasyprint import lines

    def body(middle: str) -> str:
        return (f"<section>{paragraph(10)}</section><section>{middle}</section>"
                f"<section>{paragraph(6)}</section>")

    laid: list[int] = []
    original = lines._lay_out_line
    monkeypatch.setattr(lines, "_lay_out_line",
                        lambda *args: (laid.append(1), original(*args))[1])
    edited = body(f"<p>改{(LINE * 14)[1:]}</p>")
    fonts = FontConfiguration()
    with lines.carried():
        columns_pdf(tmp_path, body(paragraph(14)), font_config=fonts)
        assert len(laid) == 30
        laid.clear()
        document, pdf = columns_document(tmp_path, edited, font_config=fonts)
        assert len(laid) == 14
    found = chars(pdf)
    elements = {id(element) for element in document._html.etree_element.iter()}
    texts = [box for page in document.pages for box in _boxes(page._page_box)
             if isinstance(box, TextBox)]
    assert len(texts) >= 30 and all(id(box.element) in elements for box in texts)

    laid.clear()  # outside `carried`, or with other fonts, a layout starts afresh
    assert chars(columns_pdf(tmp_path, edited, font_config=fonts)) == found
    assert len(laid) == 30
    laid.clear()
    with lines.carried():
        columns_pdf(tmp_path, edited, font_config=FontConfiguration())
    assert len(laid) == 30

    laid.clear()  # the same paragraph twice
    columns_pdf(tmp_path, f"<section>{paragraph(6)}{paragraph(6)}</section>")
    assert len(laid) == 6
    laid.clear()  # …but not where it inherits another style
    columns_pdf(tmp_path, f'<section>{paragraph(6)}</section>'
                          f'<section style="letter-spacing: 0.5pt">{paragraph(6)}</section>')
    assert len(laid) > 12


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


# Text that stresses where lines break: Han, marks that hang or are trimmed at a line's ends,
# and runs of digits that cannot break.
_TEXT = st.text(alphabet="社区党建工作要坚持以人民为中心的发展思想，。、；：“”《》（）2015１０",
                min_size=1, max_size=260)
_BLOCK = st.one_of(
    _TEXT.map(lambda text: f"<p>{text}</p>"),
    st.tuples(st.text(alphabet="坚持开展活动", min_size=2, max_size=6), _TEXT).map(
        lambda lead: f'<p class="lead"><strong>{lead[0]}</strong>{lead[1]}</p>'),
    st.just("<h2>一、标题</h2>"),
    st.just("</section><section>"))


@settings(max_examples=12, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blocks=st.lists(_BLOCK, min_size=1, max_size=14))
def test_lines_kept_for_trial_layouts_set_the_pages_that_laying_them_out_afresh_sets(
        tmp_path, blocks):
    """Paragraphs of any text, headings and briefs, across pages and balanced at their end: the
    pages set from kept lines are the pages set from lines laid out each time."""
    from publisher.pdf.weasyprint import lines

    body = f"<section>{''.join(blocks)}</section>"
    kept = chars(columns_pdf(tmp_path, body))
    with pytest.MonkeyPatch.context() as afresh:
        afresh.setattr(lines, "plain", lambda box: False)  # nothing is kept
        assert chars(columns_pdf(tmp_path, body)) == kept


@settings(max_examples=8, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blocks=st.lists(_BLOCK, min_size=1, max_size=12), edit=st.tuples(st.integers(), _BLOCK))
def test_lines_carried_to_an_edited_section_set_the_pages_that_laying_them_out_afresh_sets(
        tmp_path, blocks, edit):
    """A section laid out in `watch` after any edit of one block (its text, or the block
    swapped for another kind) from the lines of its last layout sets the pages that laying
    the edited section out afresh sets: the same PDF, byte for byte, as a first layout of
    it, and the same glyphs where they stand as where no line is kept."""
    from weasyprint.text.fonts import FontConfiguration

    from publisher.pdf.weasyprint import lines

    at, block = edit
    edited = [*blocks]
    edited[at % len(blocks)] = block
    fonts = FontConfiguration()
    with lines.carried():
        columns_pdf(tmp_path, f"<section>{''.join(blocks)}</section>", font_config=fonts)
        carried = columns_pdf(tmp_path, f"<section>{''.join(edited)}</section>",
                              font_config=fonts).read_bytes()
    assert columns_pdf(tmp_path, f"<section>{''.join(edited)}</section>").read_bytes() == carried
    (tmp_path / "carried.pdf").write_bytes(carried)
    with pytest.MonkeyPatch.context() as afresh:
        afresh.setattr(lines, "plain", lambda box: False)  # nothing is kept
        assert chars(columns_pdf(tmp_path, f"<section>{''.join(edited)}</section>")) == \
            chars(tmp_path / "carried.pdf")
