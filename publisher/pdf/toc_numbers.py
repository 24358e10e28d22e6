"""The 目录's page numbers, drawn over a 目录 laid out without them.

The front pages are laid out once, with the sections, while no page number is known: each
number's cell (the element of class `toc-page` that links to its item) is left empty, and
`cells` notes where it stood. Once the sections are laid out, the furniture document
(`sections.furniture_html`) prints each number on the 目录's page in a copy of its entry, at
the entry's place: the same elements with the same classes, so the layouts' rules set the
number as they would have in the 目录 itself, with what the cell's `::before` adds (the 目录
leaves it out, as it leaves out the `::after` counter of the issue laid out whole).
`OVERLAY_CSS` hides everything of the copy but the number, and takes away what would move it:
the ancestors' own boxes, margins, columns and page breaks. Laying the 目录 out again with its
numbers cost a second at the end of every build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

# A user stylesheet of the furniture document (user !important rules win over the layouts').
OVERLAY_CSS = """
html, body { margin: 0 !important; padding: 0 !important; border: 0 !important; }
.furniture { position: relative !important; }
.publisher-toc-ancestor {
  display: block !important; position: static !important; float: none !important;
  margin: 0 !important; padding: 0 !important; border: 0 !important;
  width: auto !important; height: auto !important;
  column-count: auto !important; column-width: auto !important;
  break-before: auto !important; break-after: auto !important; page: auto !important;
  transform: none !important; visibility: hidden !important;
}
.publisher-toc-row {
  position: absolute !important; margin: 0 !important; box-sizing: border-box !important;
  break-before: auto !important; page: auto !important; visibility: hidden !important;
}
.publisher-toc-number { visibility: visible !important; box-sizing: border-box !important; }
.publisher-toc-number::after { content: none !important; }
"""
_TAG = re.compile(r"[a-z][a-z0-9]*\Z")


@dataclass(frozen=True)
class TocCell:
    """Where one page number of the 目录 goes: its page of the front, the item it links to, the
    border boxes of its entry (CSS px from the page's content box) and of the cell (its height:
    a table cell's is its row's, which its content is aligned in), and the elements around it,
    as (tag, class): the entry's ancestors below <body>, the entry, the entry's children before
    the cell, and the cell."""

    page: int
    anchor: str
    box: tuple[float, float, float, float]  # left, top, width, height
    cell_height: float
    ancestors: tuple[tuple[str, str], ...]
    entry: tuple[str, str]
    before: tuple[tuple[str, str], ...]
    cell: tuple[str, str]

    def to_json(self) -> list:
        return [self.page, self.anchor, self.box, self.cell_height, self.ancestors, self.entry,
                self.before, self.cell]

    @classmethod
    def from_json(cls, data: list) -> TocCell:
        page, anchor, box, cell_height, ancestors, entry, before, cell = data
        return cls(page, anchor, tuple(box), cell_height, tuple(map(tuple, ancestors)),
                   tuple(entry), tuple(map(tuple, before)), tuple(cell))


def _named(element) -> tuple[str, str]:
    tag = element.tag if _TAG.match(element.tag) else "div"
    return tag, element.get("class") or ""


def _walk(box, path: tuple = ()):
    """Each box of the tree under `box`, with the boxes above it."""
    from weasyprint.formatting_structure import boxes

    yield box, path
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.Box):
            yield from _walk(child, (*path, box))


def cells(document) -> list[TocCell]:
    """Where each page number of the 目录 (a laid-out WeasyPrint document) stands: every
    element of class `toc-page` with a link to an item."""
    found: list[TocCell] = []
    seen = set()
    parents = {}  # element → its parent (ElementTree's elements do not know it)
    for index, page in enumerate(document.pages):
        page_box = page._page_box
        left, top = page_box.content_box_x(), page_box.content_box_y()
        for box, path in _walk(page_box):
            if not parents and getattr(box, "element", None) is not None:
                parents = {child: parent for parent in box.element.iter() for child in parent}
            element = getattr(box, "element", None)
            if (element is None or element in seen
                    or "toc-page" not in (element.get("class") or "").split()
                    or not (element.get("href") or "").startswith("#")):
                continue
            seen.add(element)
            entry = parents[element]
            around = [above for above in path if above.element is entry]
            if not around:
                continue
            outer = around[1] if around[0].is_table_wrapper else around[0]
            ancestors = []
            above = parents.get(entry)
            while above is not None and above.tag not in ("body", "html"):
                ancestors.append(_named(above))
                above = parents.get(above)
            before = []
            for sibling in entry:
                if sibling is element:
                    break
                if isinstance(sibling.tag, str):
                    before.append(_named(sibling))
            found.append(TocCell(
                index, element.get("href")[1:],
                (round(outer.border_box_x() - left, 4), round(outer.border_box_y() - top, 4),
                 round(outer.border_width(), 4), round(outer.border_height(), 4)),
                round(box.border_height(), 4),
                tuple(reversed(ancestors)), _named(entry), tuple(before), _named(element)))
    return found


def overlay(numbers: tuple[tuple[TocCell, str], ...]) -> Markup:
    """The markup that prints `numbers` ((cell, folio) of one page) in the furniture."""
    html = []
    for cell, folio in numbers:
        left, top, width, height = cell.box
        html += [f'<{tag} class="{escape(kind)} publisher-toc-ancestor">'
                 for tag, kind in cell.ancestors]
        tag, kind = cell.entry
        html.append(f'<{tag} class="{escape(kind)} publisher-toc-row" style="left: {left}px; '
                    f'top: {top}px; width: {width}px; height: {height}px">')
        html += [f'<{tag} class="{escape(kind)}"></{tag}>' for tag, kind in cell.before]
        tag, kind = cell.cell
        html.append(f'<{tag} class="{escape(kind)} publisher-toc-number" '
                    f'style="height: {cell.cell_height}px">{escape(folio)}</{tag}>')
        html.append(f"</{cell.entry[0]}>")
        html += [f"</{tag}>" for tag, _ in reversed(cell.ancestors)]
    return Markup("".join(html))
