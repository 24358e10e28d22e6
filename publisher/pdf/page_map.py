"""Where each printed page begins in the text: the page map the EPUB's page list is made from.

`page_firsts(pages, issue)` reads where each page of a laid-out document (a section of the
print layout) begins, and `fill` makes one `PageStart` per printed page of them, labelled with
the folios of the PDF's page labels; they need nothing else, so a cached layout can feed them as
well as a fresh one.
A position is an item, one of the text blocks of its Markdown body (`text_blocks`, the same on
the print and the EPUB side) and a count of the block's characters before the page begins,
whitespace and invisible format characters not counted: print inserts spaces (rule 6) that the
EPUB does not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from publisher.source.model import Issue

# Elements that hold a run of text, in the Markdown body's HTML (source/markup.py).
TEXT_BLOCK_TAGS = frozenset(("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figcaption"))
# Print containers of an item's opening (its title block or 编者按) and of its body, and what
# the layout adds to a body (a brief's headline and end note, the 微书摘 label).
OPENING_CLASSES = frozenset(("title-block", "brief-head", "editor-note", "series-title"))
BODY_CLASSES = frozenset(("body", "box", "brief"))
ADDED_CLASSES = frozenset(("brief-head", "end-note", "excerpt-label"))


@dataclass(frozen=True)
class PageStart:
    """A printed page begins in item `item` (its order number): before its title block when
    `block` is None, else `offset` characters into its body's text block `block`. `item` is
    None for a page before any item (the cover, the 目录); a page of the 目录 that begins at an
    entry names that entry's item (`entry`, its anchor)."""

    folio: str
    item: int | None
    block: int | None = None
    offset: int = 0
    entry: str | None = None


def folios(labels) -> list[str]:
    """The printed folio of each page, from the PDF's page labels (pdf/pages.py `Label`s)."""
    return [label.prefix or str(label.start + page - label.first)
            for label in labels for page in range(label.first, label.last + 1)]


def counted(text: str) -> int:
    """Characters of `text` that both editions show: no whitespace, no format characters."""
    # A printable text has no format character and no whitespace but the space: most lines,
    # counted without asking for each character's category (40,000 of them an edit).
    if text.isprintable():
        return len(text) - text.count(" ")
    return sum(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in text)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split())


def text_blocks(container) -> list:
    """The outermost text blocks of an item's body, in order, without what the layout adds
    (an ElementTree or lxml element: the print HTML or the EPUB's body fragment)."""
    blocks: list = []

    def visit(element) -> None:
        for child in element:
            if _classes(child) & ADDED_CLASSES:
                continue
            if _local(child.tag) in TEXT_BLOCK_TAGS:
                blocks.append(child)
            else:
                visit(child)

    visit(container)
    return blocks


def _positions(root, issue: Issue) -> dict[int, tuple[int, int | None]]:
    """id() of each element of the print HTML inside an item → (item order, body block index,
    or None for the item's opening)."""
    orders = {a.anchor: a.order for a in issue.articles}
    where: dict[int, tuple[int, int | None]] = {}
    for element in root.iter():
        order = orders.get(element.get("data-item"))
        if order is None:
            continue
        if _classes(element) & BODY_CLASSES:
            for index, block in enumerate(text_blocks(element)):
                for inner in block.iter():
                    where[id(inner)] = (order, index)
        for opening in element.iter():
            if _classes(opening) & OPENING_CLASSES:
                for inner in opening.iter():
                    where.setdefault(id(inner), (order, None))
    return where


def _text_boxes(box) -> Iterator:
    """Laid-out text boxes under `box`, in reading order; generated text (::before) skipped."""
    from weasyprint.formatting_structure.boxes import TextBox

    if isinstance(box, TextBox):
        if "::" not in (box.element_tag or ""):
            yield box
    for child in getattr(box, "children", ()):
        yield from _text_boxes(child)


def page_firsts(pages: list, issue: Issue) -> list[tuple[int, int | None, int] | None]:
    """Where the item text of each of `pages` begins: (item order, body block or None, offset),
    or None for a page without item text or repeated. A document that holds whole items (a
    section of the issue) gives the same as the issue laid out whole."""
    # Imported here, as in boxes.py: importing WeasyPrint logs its progress until
    # publisher/pdf/__init__.py has quieted it.
    from publisher.pdf.weasyprint import require_pinned

    require_pinned()
    where = _positions(pages[0]._page_box.children[0].element, issue) if pages else {}
    seen: dict[tuple[int, int], int] = {}  # characters of a block laid out on earlier pages
    begun: set[int] = set()  # items with text on earlier pages
    laid_out: set[int] = set()
    firsts: list[tuple[int, int | None, int] | None] = []
    for page in pages:
        first = None
        if id(page) in laid_out:  # a repeated blank page: no text of its own
            firsts.append(None)
            continue
        laid_out.add(id(page))
        on_page: set[int] = set()
        for box in _text_boxes(page._page_box):
            position = where.get(id(box.element))
            if position is None:
                continue
            order, block = position
            on_page.add(order)
            size = counted(box.text)
            if block is None:
                here = (order, None, 0)
            else:
                here = (order, block, seen.get((order, block), 0))
                seen[(order, block)] = here[2] + size
            if first is None and size:
                # A page that begins an item at its body's first character begins the item:
                # its opening is one without text of its own here (the back cover's feature
                # title, an untitled item's column heading).
                first = (order, None, 0) if here[1:] == (0, 0) and order not in begun else here
        begun |= on_page
        firsts.append(first)
    return firsts


def fill(folios: list[str], firsts: list, entries: list[str | None]) -> list[PageStart]:
    """Pages before the first with item text begin outside the items, at the 目录 entry that
    `entries` gives a page, if any; a later page without item text begins where the next page
    with some does, or at the end where the one before it does."""
    positions = list(firsts)
    for index in reversed(range(len(positions) - 1)):
        positions[index] = positions[index] or positions[index + 1]
    opening = next((i for i, first in enumerate(firsts) if first), len(firsts))
    out = [PageStart(folio, None, entry=entry)
           for folio, entry in zip(folios[:opening], entries, strict=False)]
    for folio, position in zip(folios[opening:], positions[opening:], strict=True):
        position = position or (out[-1].item, out[-1].block, out[-1].offset)
        out.append(PageStart(folio, *position))
    return out
