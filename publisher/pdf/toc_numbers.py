"""The 目录's page numbers, drawn over a 目录 laid out without them.

The front pages are laid out once, with the sections, while no page number is known: each
number's cell (the element of class `toc-page` that links to its item) is left empty, and
`cells` notes where it stood. Once the sections are laid out, the furniture document
(`sections.furniture_html`) prints each number on the 目录's page in a copy of its entry, at
the entry's place: the same elements with the same attributes, so the layouts' rules set the
number as they would have in the 目录 itself, with what the cell's `::before` adds (the 目录
leaves it out, as it leaves out the `::after` counter of the issue laid out whole).
`OVERLAY_CSS` hides everything of the copy but the number, and takes away what would move it:
the ancestors' own boxes, margins, columns and page breaks. Laying the 目录 out again with its
numbers cost a second at the end of every build.
"""

from __future__ import annotations

import itertools
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
  width: auto !important; height: auto !important; min-height: 0 !important;
  max-height: none !important; overflow: visible !important;
  column-count: auto !important; column-width: auto !important;
  break-before: auto !important; break-after: auto !important; page: auto !important;
  transform: none !important; visibility: hidden !important;
}
.publisher-toc-ancestor::before, .publisher-toc-ancestor::after { content: none !important; }
.publisher-toc-row {
  position: absolute !important; margin: 0 !important; box-sizing: border-box !important;
  break-before: auto !important; page: auto !important; visibility: hidden !important;
}
.publisher-toc-number { visibility: visible !important; box-sizing: border-box !important; }
.publisher-toc-number::after { content: none !important; }
/* A copy keeps its element's id, for the layouts' rules, but is no link target: an ancestor is
   copied on each page of the 目录. */
.publisher-toc-ancestor, .publisher-toc-row, .publisher-toc-row * {
  -weasy-anchor: initial !important;
}
"""
_TAG = re.compile(r"[a-z][a-z0-9]*\Z")
_ATTRIBUTE = re.compile(r"[a-zA-Z_][-a-zA-Z0-9_.:]*\Z")
_VOID = {"area", "br", "col", "embed", "hr", "img", "input", "source", "track", "wbr"}
# An element copied into the furniture: its tag and attributes.
Element = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class TocCell:
    """Where one page number of the 目录 goes: its page of the front, the item it links to, the
    border boxes of its entry (CSS px from the page's content box) and of the cell (its height,
    as a table cell's is its row's, which its content is aligned in; none for a cell out of the
    flow, which its own rules place in the entry), and the elements around it: the entry's
    ancestors below <body> (each with its place in the document, which tells the ancestors that
    entries share), the entry, the entry's children before the cell, and the cell."""

    page: int
    anchor: str
    box: tuple[float, float, float, float]  # left, top, width, height
    cell_height: float | None
    ancestors: tuple[tuple[int, Element], ...]
    entry: Element
    before: tuple[Element, ...]
    cell: Element

    def to_json(self) -> list:
        return [self.page, self.anchor, self.box, self.cell_height, self.ancestors, self.entry,
                self.before, self.cell]

    @classmethod
    def from_json(cls, data: list) -> TocCell:
        return cls(*_tupled(data))


def _tupled(data):
    return tuple(map(_tupled, data)) if isinstance(data, list) else data


def _copied(element) -> Element:
    tag = element.tag if _TAG.match(element.tag) else "div"
    return tag, tuple((name, value) for name, value in element.attrib.items()
                      if _ATTRIBUTE.match(name))


def cells(document) -> list[TocCell]:
    """Where each page number of the 目录 (a laid-out WeasyPrint document) stands: every
    element of class `toc-page` with a link to an item."""
    from publisher.pdf.weasyprint.geometry import Ancestry, has_class

    ancestry = Ancestry(document)
    found: list[TocCell] = []
    seen = set()
    for index, page in enumerate(document.pages):
        page_box = page._page_box
        left, top = page_box.content_box_x(), page_box.content_box_y()
        boxes_of: dict = {}  # element → its boxes on this page, outermost first
        for box in page_box.descendants(placeholders=True):  # absolutely placed ones too
            if getattr(box, "element", None) is not None:
                boxes_of.setdefault(box.element, []).append(box)
        for element, (box, *_) in boxes_of.items():
            if (element in seen or not has_class(box, "toc-page")
                    or not (element.get("href") or "").startswith("#")):
                continue
            seen.add(element)
            _, entry, *above = ancestry.lineage(box)
            if entry not in boxes_of:
                continue
            wrapper, *inner = boxes_of[entry]
            outer = inner[0] if wrapper.is_table_wrapper else wrapper
            ancestors = [(ancestry.place(each), _copied(each))
                         for each in itertools.takewhile(
                             lambda each: each.tag not in ("body", "html"), above)]
            siblings = list(entry)
            before = siblings[:siblings.index(element)]
            found.append(TocCell(
                index, element.get("href")[1:],
                (round(outer.border_box_x() - left, 4), round(outer.border_box_y() - top, 4),
                 round(outer.border_width(), 4), round(outer.border_height(), 4)),
                None if box.style["position"] in ("absolute", "fixed")
                else round(box.border_height(), 4),
                tuple(reversed(ancestors)), _copied(entry),
                tuple(_copied(sibling) for sibling in before if isinstance(sibling.tag, str)),
                _copied(element)))
    return found


def _opening(element: Element, kind: str = "", style: str = "") -> str:
    """The start tag of a copy of `element`, with the class `kind` added and `style` after its
    own style."""
    tag, attributes = element
    given = dict(attributes)
    if kind:
        given["class"] = f"{given.get('class', '')} {kind}".strip()
    if style:
        given["style"] = f"{given.get('style', '')}; {style}".lstrip("; ")
    return f"<{tag}" + "".join(f' {name}="{escape(value)}"' for name, value in given.items()) \
        + ">"


def overlay(numbers: tuple[tuple[TocCell, str], ...]) -> Markup:
    """The markup that prints `numbers` ((cell, folio) of one page) in the furniture: the
    entries' copies, in copies of their ancestors (one for the entries that share it), and
    the items they link to, as empty targets."""
    html = []
    opened: list[tuple[int, Element]] = []
    for cell, folio in numbers:
        while opened and opened != list(cell.ancestors[:len(opened)]):
            html.append(f"</{opened.pop()[1][0]}>")
        for ancestor in cell.ancestors[len(opened):]:
            html.append(_opening(ancestor[1], "publisher-toc-ancestor"))
            opened.append(ancestor)
        left, top, width, height = cell.box
        html.append(_opening(cell.entry, "publisher-toc-row", f"left: {left}px; top: {top}px; "
                             f"width: {width}px; height: {height}px"))
        html += [_opening(sibling) + ("" if sibling[0] in _VOID else f"</{sibling[0]}>")
                 for sibling in cell.before]
        height = "" if cell.cell_height is None else f"height: {cell.cell_height}px"
        html.append(_opening(cell.cell, "publisher-toc-number", height)
                    + f"{escape(folio)}</{cell.cell[0]}>")
        html.append(f"</{cell.entry[0]}>")
    html += [f"</{ancestor[1][0]}>" for ancestor in reversed(opened)]
    html += [f'<span id="{escape(anchor)}"></span>'
             for anchor in dict.fromkeys(cell.anchor for cell, _ in numbers)]
    return Markup("".join(html))
