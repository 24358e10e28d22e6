"""Pure helpers of the print path, tested on their own: the page plan, the gaps justification may
open, the text frames `publisher check` finds, and the PDF names the final write escapes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from publisher.check import PrintedLine, find_frames
from publisher.pdf import pages
from publisher.pdf.pages import BACK_COVER, BLANK, COVER, INSIDE_COVER, Label, page_plan


def document(*anchors: str | None) -> SimpleNamespace:
    """A laid-out document as page_plan sees it: pages with their anchors."""
    return SimpleNamespace(pages=[SimpleNamespace(anchors={a: None} if a else {}, name=i)
                                  for i, a in enumerate(anchors)])


def names(pages) -> list[int]:
    return [page.name for page in pages]


@pytest.mark.parametrize("inside, press, order, blanks, labels", [
    # Cover, 封二, three pages: six with the back cover, even, so no 封三.
    (3, False, [0, 1, 2, 3, 4, 6], 0,
     (Label(0, 0, "封面"), Label(1, 1, "封二"), Label(2, 4, start=1), Label(5, 5, "封底"))),
    # Two inside pages: the blank page becomes 封三 so the back cover falls on a left page.
    (2, False, [0, 1, 2, 3, 4, 5], 0,
     (Label(0, 0, "封面"), Label(1, 1, "封二"), Label(2, 3, start=1), Label(4, 4, "封三"),
      Label(5, 5, "封底"))),
    # Press pads to fours: one numbered blank page, then 封三.
    (3, True, [0, 1, 2, 3, 4, 5, 5, 6], 1,
     (Label(0, 0, "封面"), Label(1, 1, "封二"), Label(2, 5, start=1), Label(6, 6, "封三"),
      Label(7, 7, "封底"))),
])
def test_the_page_plan_puts_the_back_cover_last_on_a_left_page(inside, press, order, blanks,
                                                                 labels):
    doc = document(COVER, INSIDE_COVER, *[None] * inside, BLANK, BACK_COVER)
    plan = page_plan(doc, press=press)
    assert names(plan.order) == order
    assert len(plan.order) % (4 if press else 2) == 0
    assert plan.blanks == blanks
    assert plan.labels == labels


def test_an_issue_without_covers_is_numbered_from_its_first_page():
    plan = page_plan(document(None, None, BLANK), press=False)
    assert names(plan.order) == [0, 1]
    assert plan.labels == (Label(0, 1, start=1),)


@pytest.mark.parametrize("before, after, opens", [
    ("党", "建", True),      # between two Han characters
    ("党", "，", True),      # before a full-width mark
    ("2", "0", False),       # inside a run of digits: the run stays whole
    ("年", "2", True),       # Han beside a digit
    ("—", "—", False),       # inside a doubled dash, never split
    ("…", "…", False),
    ("党", " ", False),      # around a space, which stretches already
    ("\u200b", "党", False),  # a format character has no width to widen
])
def test_the_gaps_justification_may_open(before, after, opens):
    from publisher.pdf.weasyprint import require_pinned

    require_pinned()
    from publisher.pdf.weasyprint.justify import expandable

    assert expandable(before, after) is opens


@pytest.mark.parametrize("total, step, grid, foot", [
    (20 * 24, 24, True, 100 + 10 * 24),    # 20 lines in two columns: 10 each, on the grid
    (21 * 24, 24, True, 100 + 11 * 24),    # 21: the longer column, 11 lines, sets the foot
    (21.5 * 24, 12, True, 100 + 11 * 24),  # a box ending half a line off the grid: 10.75 → 11
    (20.5 * 24, 12, True, 100 + 10.5 * 24),  # 10.25 → 10.5, a box's foot
    (21 * 24 + 7, 24, False, 107 + 11 * 24),  # off the grid: whole lines from the top
])
def test_balanced_columns_end_at_the_even_share_rounded_down_the_grid(total, step, grid, foot):
    from publisher.pdf.weasyprint import require_pinned

    require_pinned()
    from publisher.pdf.weasyprint.balance import balanced_foot

    # The columns start on the grid of a page whose text ends at 988 (pitch 24), 100 from its
    # top, or off it at 107.
    top = 107 if not grid else 100
    assert balanced_foot(top, total, 2, 988, step, grid) == pytest.approx(foot)


EM = 10.5
PITCH = 17.5


def line(page: int, row: int, x0: float, chars: int) -> PrintedLine:
    """A body line of `chars` characters one em wide, its baseline on row `row`."""
    glyphs = tuple({"text": "党", "x0": x0 + i * EM, "x1": x0 + (i + 1) * EM, "size": EM}
                   for i in range(chars))
    return PrintedLine(page=page, y=100 + row * PITCH, chars=glyphs, body=True)


def test_frames_are_found_from_line_starts_and_continued_line_ends():
    # Two columns of 21 characters, a 3-em gutter; each starts with an indented line and has a
    # short last line.
    left, right = 50.0, 50.0 + 24 * EM
    lines = [line(1, 0, left + 2 * EM, 19), line(1, 1, left, 21), line(1, 2, left, 21),
             line(1, 3, left, 5),
             line(1, 0, right + 2 * EM, 19), line(1, 1, right, 21), line(1, 2, right, 21),
             line(1, 3, right, 9)]
    frames = find_frames(lines, EM)
    assert set(frames) == set(lines)
    assert {(f.left, f.right) for f in frames.values()} == {
        (left, left + 21 * EM), (right, right + 21 * EM)}
    # The short last lines keep their paragraph's frame.
    assert frames[lines[3]] == frames[lines[1]] and frames[lines[7]] == frames[lines[5]]


def test_a_single_line_makes_no_frame():
    assert find_frames([line(1, 0, 50.0, 21)], EM) == {}


def test_each_name_is_written_as_pypdf_escapes_it_however_often_it_comes(monkeypatch):
    from pypdf.generic import NameObject

    monkeypatch.setattr(pages, "_ESCAPED_NAMES_KEPT", 3)
    monkeypatch.setattr(pages, "_escaped_names", {})
    names = ["/Type", "/A B", "/AB", "/A(", "/宋体", "/Type", "/宋", "/A B", "/AB", "/宋体"]
    assert [NameObject(name).renumber() for name in names] == \
        [pages._escape_name(NameObject(name)) for name in names]
    assert NameObject("/A B").renumber() == b"/A#20B"
    assert len(pages._escaped_names) <= 3
