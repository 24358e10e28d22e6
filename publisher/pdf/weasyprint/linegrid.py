"""The line grid (行格) for WeasyPrint 70.0: every line of body text on its page's grid.

The text block is a whole number of line pitches high (`publisher.pdf.grid`), so the grid's
lines are the page's content bottom less whole pitches. `install()` wraps
`layout.inline.get_next_linebox`: a line of a box whose style sets `--line-grid: snap` and
whose line height is the grid's pitch (`--line`) starts on the next line of the grid below
where it would start (or on the one just above, when it is only a little past it), with its
text on the baseline where the document's font puts it, the line box itself a whole pitch on
the grid. The room left above goes to whatever came before
(a heading, a title block, a box's padding, a rule between briefs), so those may take any
height and the text after them still lines up across the gutter; full columns end on the
block's last line.

It depends on private WeasyPrint code: import it only through `publisher.pdf.weasyprint`,
which checks the version first.
"""

from __future__ import annotations

from weasyprint.layout import inline
from weasyprint.text import line_break

from publisher.pdf.weasyprint.lines import next_line

# Within this (CSS px) of a grid line, a line is on it: float sums of line heights drift.
_TOLERANCE = 0.01

_original_get_next_linebox = inline.get_next_linebox


def grid_pitch(style) -> float | None:
    """The grid's pitch in CSS px where `style` asks for the grid, else None."""
    if not any(getattr(token, "value", None) == "snap" for token in style["__line_grid"]):
        return None
    line = next((t for t in style["__line"] if t.type == "dimension"), None)
    if line is None or line.unit != "pt":
        return None
    pitch = line.value * 4 / 3
    height = style["line_height"]
    return pitch if getattr(height, "unit", None) == "px" and abs(height.value - pitch) < 0.01 \
        else None


def snapped(position_y: float, page_bottom: float, pitch: float) -> float:
    """The line of the grid (page_bottom less whole pitches) for a line that would start at
    `position_y`: the next one down, or the one just above when `position_y` is less than a
    quarter pitch past it (a line with a bold run in another font is a little taller than
    the pitch, and would otherwise push the next line a whole pitch down)."""
    past = (position_y - page_bottom) % pitch
    if past < _TOLERANCE or pitch - past < _TOLERANCE:
        return position_y
    return position_y - past if past < pitch / 4 else position_y + pitch - past


def get_next_linebox(context, linebox, position_y, *args, **kwargs):
    """A line laid out from the grid's line, its baseline where a line of the document's own
    font puts it: a line in 楷 or with a bold run in 黑 shares the baseline of the line across
    the gutter."""
    if (pitch := grid_pitch(linebox.style)) is None:
        return next_line(context, linebox, position_y, *args, **kwargs)
    position_y = snapped(position_y, context.page_bottom, pitch)
    line, resume_at = next_line(context, linebox, position_y, *args, **kwargs)
    if line is not None:
        baseline = _root_baseline(linebox.style)
        # Only the text moves: the line box stays on the grid, a whole pitch high (a bold run
        # in another font makes it a hair taller), so its paragraph and a box around it keep
        # whole lines.
        if abs(shift := position_y + baseline - line.position_y - line.baseline) > _TOLERANCE:
            for child in line.children:
                child.translate(dy=shift)
        if pitch < line.height < pitch * 1.25:
            line.height = pitch
    return line, resume_at


# The key of `_root_baseline`'s answer in a document's style cache.
_ROOT_BASELINE = "publisher: the root's baseline"


def _root_baseline(style) -> float:
    """Where the document's own font puts a line's baseline, below its top: asked by every
    line on the grid, and kept in the style cache that all the document's styles share
    (WeasyPrint's `strut` builds its own cache key for each line, a tenth of a layout)."""
    cache = style.cache
    if (baseline := cache.get(_ROOT_BASELINE)) is None:
        root = style
        while root.parent_style is not None:
            root = root.parent_style
        baseline = cache[_ROOT_BASELINE] = line_break.strut(root)[1]
    return baseline


def install():
    """Patch WeasyPrint to set body lines on the line grid; return what undoes it."""
    inline.get_next_linebox = get_next_linebox

    def restore() -> None:
        inline.get_next_linebox = _original_get_next_linebox

    return restore
