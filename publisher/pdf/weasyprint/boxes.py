"""Reading WeasyPrint's laid-out boxes (private `_page_box` trees)."""

from __future__ import annotations

from collections.abc import Iterator

from publisher.pdf.weasyprint import require_pinned
from publisher.source.model import Article, Issue


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
