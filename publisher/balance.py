"""Balanced columns where a multi-column box ends, for WeasyPrint 70.0 (the tracker's "body in
two balanced columns").

WeasyPrint balances `column-fill: balance` by laying the columns out at the average height and
then adding, each round, the height of the box that did not fit (`lost_space` in
`layout.column.columns_layout`). For a paragraph split at a column's foot that is the height of
its whole remainder, so one round can jump past the room left on the page, and WeasyPrint then
falls back to full columns: the left one full, the right one short. That happens on the last
page of most articles, where the columns continue from the page before.

`install()` wraps `columns_layout`: when a balanced box ends on this page with columns of
unequal length, it searches by bisection for the lowest column height at which the rest still
fits, and lays the box out again with no more room than that, so WeasyPrint's own balancing
ends at that height. The wrapper depends on private WeasyPrint code, so it refuses any other
version.
"""

from __future__ import annotations

import weasyprint
from weasyprint.layout import block, column
from weasyprint.text import line_break

from .errors import BuildError
from .justify import WEASYPRINT_VERSION

# The bisection's precision, in CSS px.
_PRECISION = 1.0

_original_columns_layout = column.columns_layout


def _feet(box) -> list[float]:
    """The bottom of the content of each column of a laid-out multi-column box."""
    feet = []
    for col in box.children:
        if not col.is_column:
            continue
        flow = [child for child in col.children if child.is_in_normal_flow()]
        feet.append(flow[-1].position_y + flow[-1].margin_height() - flow[-1].margin_bottom
                    if flow else col.position_y)
    return feet


def columns_layout(context, box, bottom_space, skip_stack, containing_block, page_is_empty,
                   absolute_boxes, fixed_boxes, adjoining_margins, first_letter_style,
                   first_line_style):
    def lay_out(room: float, absolute: list, fixed: list):
        return _original_columns_layout(
            context, box, room, skip_stack, containing_block, page_is_empty, absolute, fixed,
            adjoining_margins, first_letter_style, first_line_style)

    result = lay_out(bottom_space, absolute_boxes, fixed_boxes)
    new_box, resume_at = result[0], result[1]
    if (new_box is None or resume_at is not None or box.style["column_fill"] != "balance"
            or box.style["height"] != "auto"
            or not all(child.is_column for child in new_box.children)):
        return result
    feet = _feet(new_box)
    # Columns a line apart are as balanced as the lines allow.
    if len(feet) < 2 or max(feet) - min(feet) <= line_break.strut(box.style)[0] + _PRECISION:
        return result
    top = new_box.children[0].position_y

    def room(height: float) -> float:
        return max(bottom_space, context.page_bottom - top - height)

    # `high` fits; `low`, below the columns' average, does not.
    high = max(feet) - top
    low = sum(foot - top for foot in feet) / len(feet) - _PRECISION
    while high - low > _PRECISION:
        middle = (low + high) / 2
        trial, trial_resume = lay_out(room(middle), [], [])[:2]
        if trial is not None:
            block.remove_placeholders(context, [trial], [], [])
        if trial is not None and trial_resume is None:
            high = middle
        else:
            low = middle
    if high >= max(feet) - top:
        return result
    block.remove_placeholders(context, [new_box], absolute_boxes, fixed_boxes)
    return lay_out(room(high), absolute_boxes, fixed_boxes)


def install() -> None:
    """Patch WeasyPrint's multi-column layout to balance the columns where a box ends."""
    if weasyprint.__version__ != WEASYPRINT_VERSION:
        raise BuildError(
            f"publisher.balance patches WeasyPrint {WEASYPRINT_VERSION}, but "
            f"{weasyprint.__version__} is installed: install weasyprint=={WEASYPRINT_VERSION}"
        )
    block.columns_layout = columns_layout
