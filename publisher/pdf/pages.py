"""What WeasyPrint cannot do, done on its output: the page plan and page labels (pypdf).

The layout marks its special pages with ids (`cover`, `inside-front-cover`, `blank-page`,
`back-cover`); the page plan reads them to number pages like the printed folios and to put the
back cover last on a left page, padding a press run to fours.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject

COVER, INSIDE_COVER, BACK_COVER, BLANK = ("cover", "inside-front-cover", "back-cover",
                                          "blank-page")


@dataclass(frozen=True)
class Label:
    """Pages `first`..`last` (0-based, inclusive): labelled `prefix`, or numbered from `start`."""

    first: int
    last: int
    prefix: str | None = None
    start: int | None = None


@dataclass(frozen=True)
class PagePlan:
    order: list  # WeasyPrint pages in print order, the blank page repeated as needed
    blanks: int  # blank pages added among the numbered ones (not counting 封三)
    labels: tuple[Label, ...]


def page_plan(document, *, press: bool) -> PagePlan:
    """Drop or repeat the blank page before the back cover; label the pages.

    Pages go as in print: 封面 (a right page), 封二, then folio 1 on a right page, so odd folios
    fall on right pages; the back cover (封底) is last, a left page, so the count is even, and in
    press a multiple of 4. The blank pages that make it so are numbered, but for the last one,
    the inside back cover (封三). The cover and 封二 count no folio (the layout's `@page cover`
    and `@page inside-cover` do not increment `page`), so labels match the printed folios.
    """
    pages = list(document.pages)
    back = bool(pages) and BACK_COVER in pages[-1].anchors
    blank = next((i for i, p in enumerate(pages) if BLANK in p.anchors), None)
    pads = 0
    if blank is not None:
        del pages[blank]
        pads = -len(pages) % (4 if press else 2 if back else 1)
        pages[blank:blank] = [document.pages[blank]] * pads
    inside_back = back and pads > 0
    labels = []
    first, last = 0, len(pages) - 1
    for anchor, prefix in ((COVER, "封面"), (INSIDE_COVER, "封二")):
        if first <= last and anchor in pages[first].anchors:
            labels.append(Label(first, first, prefix=prefix))
            first += 1
    ending = [prefix for prefix, present in (("封三", inside_back), ("封底", back)) if present]
    last -= len(ending)
    if last >= first:
        labels.append(Label(first, last, start=1))
    labels += [Label(last + i, last + i, prefix=prefix) for i, prefix in enumerate(ending, 1)]
    return PagePlan(pages, pads - inside_back, tuple(labels))


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
