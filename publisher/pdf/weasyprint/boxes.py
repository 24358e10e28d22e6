"""Reading and mending WeasyPrint's laid-out boxes (private `_page_box` trees)."""

from __future__ import annotations

from collections.abc import Iterator

from publisher.pdf.weasyprint import require_pinned
from publisher.source.model import Article, Issue


def drop_rules_at_column_tops(document) -> None:
    """A brief that opens a column needs no rule, nor the space around it, to part it from the
    one before: WeasyPrint keeps both at a column break, and the rule would stand under the
    running head. Remove them and move the column's content up by what they took."""
    require_pinned()

    def visit(box) -> None:
        for child in getattr(box, "children", ()):
            if not getattr(child, "is_column", False):
                visit(child)
                continue
            flow = [c for c in child.children if c.is_in_normal_flow()]
            if not flow or not flow[0].border_top_width:
                continue
            first = flow[0]
            lift = first.margin_top + first.border_top_width + first.padding_top
            first.margin_top = first.border_top_width = first.padding_top = 0
            for moved in [*first.children, *flow[1:]]:
                moved.translate(dy=-lift)

    for page in document.pages:
        visit(page._page_box)


def text_boxes(document, issue: Issue) -> Iterator[tuple[int, Article | None, object]]:
    """Every laid-out run of text as (page index, the item it belongs to or None, TextBox)."""
    require_pinned()
    from weasyprint.formatting_structure.boxes import TextBox

    items = {a.anchor: a for a in issue.articles}

    def visit(box, item: Article | None):
        element = getattr(box, "element", None)
        if element is not None and element.get("data-item") in items:
            item = items[element.get("data-item")]
        if isinstance(box, TextBox):
            yield box, item
        for child in getattr(box, "children", ()):
            yield from visit(child, item)

    for index, page in enumerate(document.pages):
        for box, item in visit(page._page_box, None):
            yield index, item, box
