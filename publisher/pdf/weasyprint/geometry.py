"""Where things landed on WeasyPrint's laid-out pages (private `_page_box` trees), in points
from the page's top, for the checks an editor or a printer would make by eye."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from publisher.pdf.weasyprint import require_pinned

PT_PER_PX = 0.75


@dataclass(frozen=True)
class ColumnSet:
    """Columns set side by side on one page: where each one's content ends, and the item that
    ends the set (the last in its last non-empty column)."""

    page: int
    item: str | None
    bottoms: tuple[float, ...]


@dataclass(frozen=True)
class Spacing:
    """The space above and below a boxed block (a 微书摘), to the lines beside it."""

    page: int
    item: str | None
    above: float
    below: float


@dataclass(frozen=True)
class Picture:
    """A picture laid out: its page, item, file (its `src`) and the pixels it prints per inch
    across (None for a drawing, which has no pixels)."""

    page: int
    item: str | None
    src: str
    ppi: float | None


@dataclass(frozen=True)
class Gap:
    """Space in a column between one line (or picture) and the next."""

    page: int
    item: str | None  # the item of what comes after the space
    height: float


@dataclass(frozen=True)
class PageFill:
    """How far down a page's content goes, and where its text block ends."""

    page: int
    content_bottom: float
    block_bottom: float


def column_sets(document, ancestry: Ancestry) -> Iterator[ColumnSet]:
    require_pinned()
    for index, page in enumerate(document.pages):
        for count, columns in _column_rows(page._page_box):
            # WeasyPrint makes no box for a column left empty: it ends where the row starts.
            empty = columns[0].position_y * PT_PER_PX
            bottoms = tuple(_content_bottom(c) for c in columns)
            bottoms += (empty,) * max(0, count - len(columns))
            filled = [c for c in columns if _in_flow(c)]
            last = _in_flow(filled[-1])[-1] if filled else None
            yield ColumnSet(index, ancestry.item(last) if last else None, bottoms)


def boxed_spacing(document, ancestry: Ancestry, tag: str = "aside") -> Iterator[Spacing]:
    """The space around each `tag` box that has lines both above and below it in its column
    (or its full-width block)."""
    require_pinned()
    for index, page in enumerate(document.pages):
        for flow in _flows(page._page_box):
            parts = list(_flat(flow, tag))
            for at, box in enumerate(parts):
                if _tag(box) != tag or at == 0 or at == len(parts) - 1:
                    continue
                top, bottom = _top(box), _bottom(box)
                yield Spacing(index, ancestry.item(box), top - _bottom(parts[at - 1]),
                              _top(parts[at + 1]) - bottom)


def column_gaps(document, ancestry: Ancestry) -> Iterator[Gap]:
    """The space between each two lines or pictures that follow one another in a column."""
    require_pinned()
    for index, page in enumerate(document.pages):
        for flow in _flows(page._page_box):
            if not getattr(flow, "is_column", False):
                continue
            parts = list(_flat(flow, None))
            for before, after in itertools.pairwise(parts):
                yield Gap(index, ancestry.item(after), _top(after) - _bottom(before))


def pictures(document, ancestry: Ancestry) -> Iterator[Picture]:
    """Every picture laid out."""
    require_pinned()
    from weasyprint.formatting_structure.boxes import ReplacedBox
    from weasyprint.images import RasterImage

    def visit(box):
        if isinstance(box, ReplacedBox):
            yield box
        for child in getattr(box, "children", ()):
            yield from visit(child)

    for index, page in enumerate(document.pages):
        for box in visit(page._page_box):
            image = box.replacement
            # CSS pixels: 96 to the inch
            ppi = image.width / (box.width / 96) if isinstance(image, RasterImage) \
                and box.width else None
            yield Picture(index, ancestry.item(box), box.element.get("src") or "", ppi)


# Values of `break-before` that start a new page.
FORCED_BREAKS = frozenset({"page", "left", "right", "recto", "verso"})


def forced_breaks(document) -> set[int]:
    """The pages a forced break opened: each holds the start of a block that asks for a page
    break before it (an item that opens a page, a column's run), whose element has no box on
    the page before."""
    require_pinned()

    def elements(box) -> Iterator[tuple[int, str]]:
        for child in getattr(box, "children", ()):
            if getattr(child, "element", None) is not None:
                yield id(child.element), child.style["break_before"]
            yield from elements(child)

    found, before = set(), set()
    for index, page in enumerate(document.pages):
        here, forcing = set(), set()
        for element, value in elements(page._page_box):
            here.add(element)
            if value in FORCED_BREAKS:  # not every box of an element (a ::before's) asks it
                forcing.add(element)
        if forcing - before:
            found.add(index)
        before = here
    return found


def pages_holding(document, test: Callable[[object], bool]) -> list[int]:
    """The pages with a box whose element passes `test`."""
    require_pinned()

    def holds(box) -> bool:
        element = getattr(box, "element", None)
        return (element is not None and test(element)) or any(
            holds(child) for child in getattr(box, "children", ()))

    return [index for index, page in enumerate(document.pages) if holds(page._page_box)]


def page_fill(document) -> Iterator[PageFill]:
    require_pinned()
    from weasyprint.formatting_structure.boxes import MarginBox

    for index, page in enumerate(document.pages):
        box = page._page_box
        lines = [b for child in box.children if not isinstance(child, MarginBox)
                 for b in _flat(child, None)]
        bottom = max((_bottom(b) for b in lines), default=box.content_box_y() * PT_PER_PX)
        yield PageFill(index, bottom, (box.content_box_y() + box.height) * PT_PER_PX)


def _column_rows(box) -> Iterator[tuple[int, list]]:
    """The columns of each multi-column box, one list per row of columns, with the number of
    columns the box asks for."""
    children = list(getattr(box, "children", ()))
    columns = [c for c in children if getattr(c, "is_column", False)]
    rows: dict[float, list] = {}
    for column in columns:
        rows.setdefault(round(column.position_y, 1), []).append(column)
    count = box.style["column_count"] if columns else None
    for row in rows.values():
        yield (count if isinstance(count, int) else len(row),
               sorted(row, key=lambda c: c.position_x))
    for child in children:
        if not getattr(child, "is_column", False):
            yield from _column_rows(child)


def _flows(box) -> Iterator:
    """Each column, and each full-width block outside the columns."""
    for child in getattr(box, "children", ()):
        if getattr(child, "is_column", False) or has_class(child, "wide"):
            yield child
        else:
            yield from _flows(child)


def _flat(box, keep: str | None) -> Iterator:
    """Line boxes and pictures in reading order; a `keep` box is yielded whole."""
    from weasyprint.formatting_structure.boxes import LineBox, ReplacedBox

    for child in getattr(box, "children", ()):
        if keep and _tag(child) == keep:
            yield child
        elif isinstance(child, (LineBox, ReplacedBox)):
            if _has_text(child) or isinstance(child, ReplacedBox):
                yield child
        else:
            yield from _flat(child, keep)


def _has_text(line) -> bool:
    return any(getattr(b, "text", "").strip() or _has_text(b)
               for b in getattr(line, "children", ()))


def _in_flow(column) -> list:
    return [c for c in column.children if c.is_in_normal_flow() and list(_flat(c, None))]


def _content_bottom(column) -> float:
    parts = [b for child in _in_flow(column) for b in _flat(child, None)]
    return max((_bottom(b) for b in parts), default=column.position_y * PT_PER_PX)


def _top(box) -> float:
    return box.border_box_y() * PT_PER_PX


def _bottom(box) -> float:
    return (box.border_box_y() + box.border_height()) * PT_PER_PX


def _tag(box) -> str | None:
    element = getattr(box, "element", None)
    return element.tag if element is not None else None


def has_class(box, name: str) -> bool:
    element = getattr(box, "element", None)
    return element is not None and name in (element.get("class") or "").split()


class Ancestry:
    """Boxes' elements and their ancestors: WeasyPrint's ElementTree elements know no parent."""

    def __init__(self, document):
        require_pinned()
        root = document.pages[0]._page_box.children[0].element if document.pages else None
        self._root = root
        self._parents = {} if root is None else {child: parent for parent in root.iter()
                                                 for child in parent}
        self._places: dict | None = None

    def _chain(self, box) -> Iterator:
        element = getattr(box, "element", None)
        while element is not None:
            yield element
            element = self._parents.get(element)

    def lineage(self, box) -> list:
        """The box's element, then its ancestors up to the root."""
        return list(self._chain(box))

    def place(self, element) -> int:
        """Where `element` comes in the document, in document order."""
        if self._places is None:
            self._places = {each: at for at, each in enumerate(self._root.iter())}
        return self._places[element]

    def item(self, box) -> str | None:
        """The data-item of the box's element or of its nearest ancestor that has one."""
        return next((e.get("data-item") for e in self._chain(box) if e.get("data-item")), None)

    def classes(self, box) -> set[str]:
        return {name for e in self._chain(box) for name in (e.get("class") or "").split()}
