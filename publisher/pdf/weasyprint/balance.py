"""Balanced columns where a multi-column box ends, for WeasyPrint 70.0 (the tracker's "body in
two balanced columns").

`layout.column.columns_layout` first lays the columns out at the full height left on the page
and balances only if everything fits: `max(consumed_heights) <= max_height`. A full left column
measures a few 1e-13 px more than that height (floating-point sums of line heights), so on the
last page of most articles, where the columns continue from the page before, WeasyPrint takes
the content for overflowing and keeps the left column full and the right one short. Where it
does balance, it grows the columns from their average height by whole boxes (a line, a heading
with its margins) and stops at the first height that fits, up to two lines off.

`install()` wraps `columns_layout`: it gives the columns a hair more room than the page has left
(so the comparison holds), and when a balanced box then ends on this page with columns more than
a line apart, it finds by bisection the least column height at which the content still fits and
lays the box out again with no more room than that.

WeasyPrint keeps widows and orphans only where it could push lines on to the next page, so not in
a box that opens a page (`page_is_empty`): there a balanced box may leave a paragraph's last line
alone at the top of its second column. Balanced columns can always move that line, so where the
box opens a page and ends on it, the wrapper lays it out as if matter stood above, and keeps that
layout when it differs and still fits. The wrapper depends on private WeasyPrint code: import
it only through `publisher.pdf.weasyprint`, which checks the version first.
"""

from __future__ import annotations

from weasyprint.layout import block, column
from weasyprint.text import line_break

# The bisection's precision, in CSS px.
_PRECISION = 1.0
# Room added to the page's so that rounding errors of float sums do not make a column that
# exactly fills it overflow.
_ROUNDING = 1e-6

_original_columns_layout = column.columns_layout


def _feet(box) -> list[float]:
    """The bottom of the content of each column of a laid-out multi-column box."""
    feet = []
    for col in box.children:
        flow = [child for child in col.children if child.is_in_normal_flow()]
        feet.append(flow[-1].position_y + flow[-1].margin_height() - flow[-1].margin_bottom
                    if flow else col.position_y)
    return feet


def columns_layout(context, box, bottom_space, skip_stack, containing_block, page_is_empty,
                   absolute_boxes, fixed_boxes, adjoining_margins, first_letter_style,
                   first_line_style):
    def lay_out(room: float, absolute: list, fixed: list, empty: bool):
        return _original_columns_layout(
            context, box, room, skip_stack, containing_block, empty, absolute, fixed,
            adjoining_margins, first_letter_style, first_line_style)

    def ends_here(result) -> bool:
        new_box, resume_at = result[0], result[1]
        return (new_box is not None and resume_at is None
                and all(child.is_column for child in new_box.children))

    result = lay_out(bottom_space - _ROUNDING, absolute_boxes, fixed_boxes, page_is_empty)
    if (not ends_here(result) or box.style["column_fill"] != "balance"
            or box.style["height"] != "auto"):
        return result
    feet = _feet(result[0])
    if page_is_empty:  # lay out as if matter stood above, so that widows and orphans hold
        kept = lay_out(bottom_space - _ROUNDING, [], [], False)
        if kept[0] is not None:
            block.remove_placeholders(context, [kept[0]], [], [])
        if not ends_here(kept):
            return result
        page_is_empty = False
        if _feet(kept[0]) != feet:
            block.remove_placeholders(context, [result[0]], absolute_boxes, fixed_boxes)
            result = lay_out(bottom_space - _ROUNDING, absolute_boxes, fixed_boxes, False)
            feet = _feet(result[0])
    new_box = result[0]
    # Columns a line apart are as balanced as the lines allow.
    if len(feet) < 2 or max(feet) - min(feet) <= line_break.strut(box.style)[0] + _PRECISION:
        return result
    top = new_box.children[0].position_y

    def room(height: float) -> float:
        return max(bottom_space, context.page_bottom - top - height) - _ROUNDING

    # `high` fits; `low`, below the columns' average, does not.
    high = max(feet) - top
    low = sum(foot - top for foot in feet) / len(feet) - _PRECISION
    while high - low > _PRECISION:
        middle = (low + high) / 2
        trial, trial_resume = lay_out(room(middle), [], [], page_is_empty)[:2]
        if trial is not None:
            block.remove_placeholders(context, [trial], [], [])
        if trial is not None and trial_resume is None:
            high = middle
        else:
            low = middle
    if high >= max(feet) - top:
        return result
    block.remove_placeholders(context, [new_box], absolute_boxes, fixed_boxes)
    return lay_out(room(high), absolute_boxes, fixed_boxes, page_is_empty)


def install():
    """Patch WeasyPrint's multi-column layout to balance the columns where a box ends; return
    what undoes it."""
    block.columns_layout = columns_layout

    def restore() -> None:
        block.columns_layout = _original_columns_layout

    return restore
