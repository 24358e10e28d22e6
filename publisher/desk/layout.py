"""Where each item of an issue stands in its laid-out PDF: its printed lines and folios.

Every item's box carries a named destination (`item-NNN`, its anchor) at its top-left corner.
A page is read as the magazine reads: bands top to bottom, parted by lines that cross the gutter
(full-width titles, 编者按), and in a band the left column before the right. A printed line
belongs to the last item whose anchor comes before it in that order. Running heads and folios
stand outside the text block and belong to no item.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from publisher.check import PrintedLine, read_printed_lines
from publisher.errors import PublisherError


def _version(pdf: Path) -> tuple[int, int]:
    stat = pdf.stat()
    return stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=4)
def _printed_lines(pdf: Path, mtime_ns: int, size: int) -> list[PrintedLine]:
    """Reading a PDF's lines takes seconds a page: `diff` after `stats` in one process (and
    the tests) read each file once while it stays unchanged."""
    return read_printed_lines(pdf)


@dataclass(frozen=True)
class Anchor:
    name: str  # item-NNN
    page: int  # 1-based, as PrintedLine.page
    x: float
    y: float  # from the top of the page


@dataclass(frozen=True)
class PageGeometry:
    """A page's text block: its left and right edges and, on a two-column page, the gutter."""

    left: float
    right: float
    gutter: tuple[float, float] | None

    def spans(self, line: PrintedLine) -> bool:
        """Whether a line stands across the page: over the gutter, or on a one-column page."""
        return self.gutter is None or (line.x0 < self.gutter[0] and line.x1 > self.gutter[1])

    def column(self, x: float) -> int:
        return 1 if self.gutter is None or x < sum(self.gutter) / 2 else 2


def read_pdf(pdf: Path):
    """pypdf's reader of `pdf`, or the one line that says why there is none."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs what it repairs in a damaged file; the one line the user needs is ours.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not pdf.is_file():
        raise PublisherError("no such PDF", pdf)
    try:
        reader = PdfReader(pdf)
        reader.page_labels  # noqa: B018 (a text file named .pdf may fail only here)
    except PdfReadError as exc:
        raise PublisherError(f"not a readable PDF ({exc})", pdf) from None
    return reader


# Set in the copy `publisher diff -o` highlights: its pages are a proof's with yellow on them.
MARKED_KEY = "/PublisherMarked"


def recorded_texts(metadata: dict) -> str | None:
    """The digest of the articles a PDF was made from, as `publisher build` records it in the
    PDF's `metadata`."""
    from publisher.pdf.pages import TEXTS_KEY

    return metadata.get(TEXTS_KEY)


def pdf_metadata(pdf: Path) -> dict:
    return read_pdf(pdf).metadata or {}


def require_texts(pdf: Path, issue) -> None:
    """Refuse a PDF not made from the issue's articles as they are now: its counts, fees and
    pages would be another issue's, or an earlier proof's."""
    from publisher.build import texts_digest

    metadata = pdf_metadata(pdf)
    if MARKED_KEY in metadata:
        raise PublisherError("is a copy `publisher diff -o` marked in yellow, not a proof: "
                             "give the proof it was made from", pdf)
    recorded = recorded_texts(metadata)
    if recorded != texts_digest(issue):
        raise PublisherError(
            f"was not made from the articles of {issue.root} as they are now: "
            + ("build it again, or leave --pdf out to use the issue's own PDF" if recorded
               else "not a PDF this version of `publisher build` made"), pdf)


class LaidOutIssue:
    """An issue's PDF read back: page labels, anchors, and the printed lines of each item."""

    def __init__(self, pdf: Path):
        from pypdf.errors import PdfReadError

        self.pdf = Path(pdf)
        reader = read_pdf(self.pdf)
        try:
            self.labels = list(reader.page_labels)
            heights = [float(page.mediabox.height) for page in reader.pages]
            self.widths = [float(page.mediabox.width) for page in reader.pages]
            self.anchors = {
                name: Anchor(name, reader.get_destination_page_number(dest) + 1,
                             float(dest.left or 0),
                             heights[reader.get_destination_page_number(dest)] - float(dest.top))
                for name, dest in reader.named_destinations.items()
                if name.startswith("item-")
            }
            self.lines = _printed_lines(self.pdf.resolve(), *_version(self.pdf))
        except PdfReadError as exc:
            raise PublisherError(f"not a readable PDF ({exc})", self.pdf) from None
        if not self.anchors:
            raise PublisherError("no item anchors (item-NNN): not a PDF `publisher build` made",
                                 self.pdf)

    @cached_property
    def em(self) -> float:
        body = [c["size"] for line in self.lines if line.body for c in line.chars]
        return max(set(body), key=body.count) if body else 10.0

    @cached_property
    def text_block(self) -> tuple[float, float]:
        """The first and last baselines of body lines: running heads and folios stand outside."""
        ys = [line.y for line in self.lines if line.body]
        return min(ys), max(ys)

    @cached_property
    def geometry(self) -> dict[int, PageGeometry]:
        pages: dict[int, list[PrintedLine]] = {}
        for line in self.lines:
            if self.in_text_block(line):
                pages.setdefault(line.page, []).append(line)
        out = {}
        for page, lines in pages.items():
            body = [ln for ln in lines if ln.body]
            # A page set mostly in other type, as the 目录 is, has the columns of its own lines.
            if 2 * len(body) < len(lines):
                body = lines
            left, right = min(ln.x0 for ln in body), max(ln.x1 for ln in body)
            middle = (left + right) / 2
            # A column's edge is where several lines end or start (two, for a balanced tail of
            # four lines); a short last line or a flush-right end note on a one-column page is
            # no column.
            ends = Counter(round(ln.x1) for ln in body if ln.x1 < middle)
            starts = Counter(round(ln.x0) for ln in body if ln.x0 > middle)
            first = [ln.x1 for ln in body if ln.x1 < middle and ends[round(ln.x1)] >= 2]
            second = [ln.x0 for ln in body if ln.x0 > middle and starts[round(ln.x0)] >= 2]
            gutter = (max(first), min(second)) if first and second else None
            out[page] = PageGeometry(left, right, gutter)
        return out

    def _geometry(self, page: int) -> PageGeometry:
        """The page's text block; on a page without body lines, the page itself."""
        return self.geometry.get(page) or PageGeometry(0, self.widths[page - 1], None)

    def _spanning(self, page: int) -> list[float]:
        geometry = self._geometry(page)
        return sorted(ln.y for ln in self.lines if ln.page == page and geometry.spans(ln))

    def _line_key(self, line: PrintedLine, spans: list[float]) -> tuple:
        geometry = self._geometry(line.page)
        if geometry.spans(line):
            return line.page, sum(y <= line.y for y in spans), 0, line.y
        return line.page, sum(y < line.y for y in spans), geometry.column(line.x0), line.y

    def _anchor_key(self, anchor: Anchor, spans: list[float]) -> tuple:
        """An anchor stands where its first line does: a full-width title opens a band."""
        geometry = self._geometry(anchor.page)
        if geometry.gutter is None:
            reach = geometry.right
        else:
            reach = geometry.gutter[0] if geometry.column(anchor.x) == 1 else geometry.right
        below = [ln for ln in self.lines if ln.page == anchor.page and ln.y > anchor.y
                 and ln.x1 > anchor.x and ln.x0 < reach]
        if below:
            first = min(below, key=lambda ln: ln.y)
            page, band, column, _ = self._line_key(first, spans)
            return page, band, column, anchor.y
        return anchor.page, sum(y < anchor.y for y in spans), geometry.column(anchor.x), anchor.y

    def in_text_block(self, line: PrintedLine) -> bool:
        """Within half an em of the body's first and last baselines: a line set smaller at the
        top of the block (the 目录's) has its baseline higher; running heads and folios stand
        lines away."""
        top, bottom = self.text_block
        return top - self.em / 2 <= line.y <= bottom + self.em / 2

    @cached_property
    def _spans(self) -> dict[int, list[float]]:
        pages = {ln.page for ln in self.lines} | {a.page for a in self.anchors.values()}
        return {page: self._spanning(page) for page in pages}

    @cached_property
    def reading_order(self) -> list[PrintedLine]:
        """Every printed line, page by page in reading order: running head and folio first,
        then the text block's bands, and in a band its columns."""
        def key(line: PrintedLine) -> tuple:
            if not self.in_text_block(line):
                return line.page, -1, 0, line.y
            return self._line_key(line, self._spans[line.page])

        return sorted(self.lines, key=key)

    @cached_property
    def item_lines(self) -> dict[str, list[PrintedLine]]:
        """The printed lines of each item, by anchor name, in reading order."""
        starts = sorted((self._anchor_key(a, self._spans[a.page]), name)
                        for name, a in self.anchors.items())
        out: dict[str, list[PrintedLine]] = {name: [] for name in self.anchors}
        at = -1
        for line in self.reading_order:
            if not self.in_text_block(line):
                continue
            key = self._line_key(line, self._spans[line.page])
            while at + 1 < len(starts) and starts[at + 1][0] <= key:
                at += 1
            # Items run on over numbered pages only: 封三 and the 封底's own heading are not
            # the last article's.
            if at >= 0 and (self.anchors[starts[at][1]].page == line.page
                            or self.labels[line.page - 1].isdigit()):
                out[starts[at][1]].append(line)
        return out

    def pages_of(self, anchor: str) -> tuple[int, int]:
        """The first and last page (1-based) where the item prints."""
        lines = self.item_lines.get(anchor) or []
        first = self.anchors[anchor].page
        return first, max([first, *(ln.page for ln in lines)])

    @cached_property
    def _short_ends_across(self) -> set[int]:
        """The short last lines of paragraphs set across a two-column page (an 编者按's): they
        stop before the gutter, but follow a line across, one line below it and at its left
        edge, with nothing beside them."""
        pages: dict[int, list[PrintedLine]] = {}
        for line in self.lines:
            pages.setdefault(line.page, []).append(line)
        out: set[int] = set()
        for page, lines in pages.items():
            geometry = self._geometry(page)
            if geometry.gutter is None:
                continue
            for line in lines:
                if geometry.spans(line):
                    continue
                near = [other for other in lines
                        if other is not line and -self.em / 2 < line.y - other.y < 1.8 * self.em]
                if (all(line.y - other.y > self.em / 2 for other in near)
                        and any(geometry.spans(other) and abs(other.x0 - line.x0) < self.em
                                for other in near)):
                    out.add(id(line))
        return out

    def capacity(self, line: PrintedLine) -> int:
        """Characters a full line holds where `line` stands: a column's or the block's width."""
        geometry = self._geometry(line.page)
        if geometry.spans(line) or id(line) in self._short_ends_across:
            width = geometry.right - geometry.left
        elif geometry.column(line.x0) == 1:
            width = geometry.gutter[0] - geometry.left
        else:
            width = geometry.right - geometry.gutter[1]
        return round(width / self.em)
