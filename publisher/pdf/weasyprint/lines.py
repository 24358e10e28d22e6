"""Each line of a document laid out once, for WeasyPrint 70.0.

Balancing (`publisher.pdf.weasyprint.balance`) lays a multi-column box out several times: at
the page's height, at the balanced height, with lines opened before a heading, the next page
ahead. Each time, WeasyPrint would break every paragraph into lines again, justify them and
set their verticality. A plain line (`plain`: text and inline boxes only, laid out clear of
floats) comes out the same wherever it stands, in whichever column and whatever the blocks'
margins: what fills it depends on its paragraph, where it starts in it, the width and the
text indent. `next_line` keeps each such line for the rest of the document's layout and hands
out a copy moved to where it is asked for. The line grid's patch (`linegrid.get_next_linebox`)
lays every line out through it, before moving the line onto the grid.

It depends on private WeasyPrint code: import it only through `publisher.pdf.weasyprint`,
which checks the version first.
"""

from __future__ import annotations

import copy

from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline

_lay_out_line = inline.get_next_linebox
# On a layout's context: (line box, skip stack, width, indent) → (a copy of the line, where it
# goes on, and where it was laid out).
_KEPT = "_publisher_lines"


def plain(box: boxes.Box) -> bool:
    """Whether `box` holds only text and inline boxes: where such a line's boxes land does not
    depend on where the line box stood when it was laid out."""
    return all(isinstance(child, (boxes.TextBox, boxes.InlineBox)) and plain(child)
               for child in getattr(box, "children", ()))


def _frozen(skip_stack: dict | None) -> tuple | None:
    """A skip stack (nested dicts) as a key."""
    return None if skip_stack is None else tuple(
        sorted((index, _frozen(inner)) for index, inner in skip_stack.items()))


def next_line(context, linebox, position_y, bottom_space, skip_stack, containing_block,
              absolute_boxes, fixed_boxes, first_letter_style, first_line_style):
    """`inline.get_next_linebox`, from the lines this layout laid out before where the same
    line is asked for again."""
    arguments = (context, linebox, position_y, bottom_space, skip_stack, containing_block,
                 absolute_boxes, fixed_boxes, first_letter_style, first_line_style)
    if context.excluded_shapes or first_letter_style is not None or first_line_style is not None:
        return _lay_out_line(*arguments)
    # The layout's context holds them: they go with its boxes. Only plain lines are kept.
    kept = context.__dict__.setdefault(_KEPT, {})
    # Not the room left below (`bottom_space`): only floats and inline blocks heed it.
    key = (linebox, _frozen(skip_stack), containing_block.width, linebox.text_indent)
    position_x = containing_block.content_box_x()
    if key in kept:
        line, resume_at, kept_x, kept_y = kept[key]
        if line is None:
            return None, resume_at
        line, resume_at = line.deepcopy(), copy.deepcopy(resume_at)
        line.translate(position_x - kept_x, position_y - kept_y)
        line.position_y = position_y  # as WeasyPrint sets it, free of the float sum's error
        return line, resume_at
    line, resume_at = _lay_out_line(*arguments)
    if plain(linebox):  # then it placed no float nor positioned box: those are blocks
        kept[key] = (line and line.deepcopy(), copy.deepcopy(resume_at), position_x, position_y)
    return line, resume_at
