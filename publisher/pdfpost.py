"""What WeasyPrint cannot do, done on its output: the press page plan and page labels (pypdf).

The layout marks its special pages with ids (`cover`, `back-cover`, `press-blank`); the page
plan reads them to number pages like the printed folios and to pad a press run to fours.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject

COVER, BACK_COVER, BLANK = "cover", "back-cover", "press-blank"


@dataclass(frozen=True)
class Label:
    """Pages `first`..`last` (0-based, inclusive): labelled `prefix`, or numbered from `start`."""

    first: int
    last: int
    prefix: str | None = None
    start: int | None = None


@dataclass(frozen=True)
class PagePlan:
    order: list  # WeasyPrint pages in print order, the blank page repeated `blanks` times
    blanks: int
    labels: tuple[Label, ...]


def page_plan(document, *, press: bool) -> PagePlan:
    """Drop or repeat the press blank page so the count is a multiple of 4; label the pages.

    The cover counts no folio (the layout's `@page cover` does not increment `page`), so the
    page after it is 1 and labels match the printed folios.
    """
    pages = list(document.pages)
    blank = next((i for i, p in enumerate(pages) if BLANK in p.anchors), None)
    blanks = 0
    if blank is not None:
        del pages[blank]
        blanks = -len(pages) % 4 if press else 0
        pages[blank:blank] = [document.pages[blank]] * blanks
    labels = []
    first = 0
    if pages and COVER in pages[0].anchors:
        labels.append(Label(0, 0, prefix="封面"))
        first = 1
    last = len(pages) - 1
    back = pages and BACK_COVER in pages[-1].anchors and last >= first
    if back:
        last -= 1
    if last >= first:
        labels.append(Label(first, last, start=1))
    if back:
        labels.append(Label(last + 1, last + 1, prefix="封底"))
    return PagePlan(pages, blanks, tuple(labels))


def finish(data: bytes, target: Path, labels: tuple[Label, ...], *,
           bleed: float | None = None) -> None:
    """Write WeasyPrint's PDF to `target` with page labels, keeping its deterministic /ID.

    `bleed` (points) sets each BleedBox that far around the TrimBox: WeasyPrint puts it at
    most 10 pt out, and its CSS bleed here is wider to keep the crop marks off the bleed.
    """
    writer = PdfWriter(clone_from=PdfReader(BytesIO(data)))
    if bleed is not None:
        for page in writer.pages:
            trim = page.trimbox
            page.bleedbox = RectangleObject((trim.left - bleed, trim.bottom - bleed,
                                             trim.right + bleed, trim.top + bleed))
    for label in labels:
        writer.set_page_label(label.first, label.last,
                              style="/D" if label.start else None,
                              prefix=label.prefix, start=label.start or 0)
    writer.page_mode = "/UseOutlines"  # open with the bookmarks shown
    with target.open("wb") as out:
        writer.write(out)
