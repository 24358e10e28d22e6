"""Each line of a document laid out once, for WeasyPrint 70.0.

Balancing (`publisher.pdf.weasyprint.balance`) lays a multi-column box out several times: at
the page's height, at the balanced height, with lines opened before a heading, the next page
ahead. Each time, WeasyPrint would break every paragraph into lines again, justify them and
set their verticality. A plain line (`plain`: text and inline boxes only, laid out clear of
floats) comes out the same wherever it stands, in whichever column and whatever the blocks'
margins: what fills it depends on its paragraph, where it starts in it, the width and the
text indent. `next_line` lays each such line out at the origin, keeps it for the rest of the
document's layout and hands out a copy moved to where it is asked for: the same sums put a
line in place whether it was laid out now or before, so the PDF's bytes do not depend on which
lines were kept. The line grid's patch (`linegrid.get_next_linebox`) lays every line out
through it, before moving the line onto the grid.

A line is kept under a print of what fills it (`_print`: its boxes' texts, elements'
attributes and cascaded styles), not under its line box: a paragraph that comes again, in the
same document or in the next layout of the same section, finds its lines laid out. Inside
`carried(section)` (`watch`, which lays out the edited section again and again) the lines of
each section's last layout are kept for the next layouts with the same font configuration, so
that after an edit only the edited paragraph's lines are laid out again.

It depends on private WeasyPrint code: import it only through `publisher.pdf.weasyprint`,
which checks the version first.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from tinycss2.ast import Node
from weasyprint.css.tokens import Pending
from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline

from publisher import recent

_lay_out_line = inline.get_next_linebox
# On a layout's context: (print of the line box, skip stack, width, indent) → `_Kept`.
_KEPT = "_publisher_lines"
# On a layout's context: id() of a line box or style → (it, its print).
_PRINTS = "_publisher_prints"
# On a layout's context: id() of a line box → (it, whether it is `plain`).
_PLAIN = "_publisher_plain"
# On a layout's context: id() of a block → (it, it moved to the origin: `_at_origin`).
_ORIGINS = "_publisher_origins"
# The last layout's lines of this many sections are carried to their next: every section of
# an issue (the sample has 22) and the furniture, so that the first edit after a whole layout
# (`watch`'s first build, the warm process's rehearsal) finds its section's lines.
_CARRIED_SECTIONS = 64
# Section → (font configuration, the lines its last layout inside `carried` kept), the latest
# last. One layout a section: the lines of the one before are in it, or the edit changed them.
_carried: dict[str, tuple[object, dict]] = {}
# (font configuration, lines) of the layouts inside the `carried` block that runs, if one does.
_inside: list[tuple[object, dict]] | None = None


@contextmanager
def carried(section: str = "") -> Iterator[None]:
    """Keep the lines of the layouts inside, the last as those of `section`, for the next
    layouts inside a `carried` with the same font configuration
    (`publisher.pdf.weasyprint.font_configuration`, one per set of font files): a line holds
    its font map, and holds what a print does not, the font files."""
    global _inside
    _inside = []
    try:
        yield
    finally:
        made, _inside = _inside, None
        if made:
            recent.keep(_carried, section, made[-1], _CARRIED_SECTIONS)


class _Kept:
    """A line as laid out from `source` (a line box) at the origin, and where it goes on."""

    __slots__ = ("line", "resume_at", "source")

    def __init__(self, line, resume_at, source):
        self.line, self.resume_at, self.source = line, resume_at, source


def plain(box: boxes.Box) -> bool:
    """Whether `box` holds only text and inline boxes: where such a line's boxes land does not
    depend on where the line box stood when it was laid out."""
    return all(isinstance(child, (boxes.TextBox, boxes.InlineBox)) and plain(child)
               for child in getattr(box, "children", ()))


def _once_a_layout(context, table: str, box, make):
    """`make(box)`, made once a layout: kept in the table of that name on the layout's context,
    by the box's identity (id() of a box gone may come again)."""
    known = context.__dict__.setdefault(table, {})
    found = known.get(id(box))
    if found is None or found[0] is not box:
        found = known[id(box)] = (box, make(box))
    return found[1]


def frozen(skip_stack: dict | None) -> tuple | None:
    """A skip stack (nested dicts) as a key."""
    return None if skip_stack is None else tuple(
        sorted((index, frozen(inner)) for index, inner in skip_stack.items()))


def _canonical(value):
    """`value` (a cascaded style's) as plain data whose repr says all of it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Node):  # its repr leaves a function's arguments out
        return type(value).__name__, value.serialize()
    if isinstance(value, Pending):  # waits for var()
        return type(value).__name__, value.name, _canonical(value.tokens)
    if isinstance(value, (tuple, list)):
        return type(value).__name__, tuple(_canonical(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return "set", tuple(sorted(repr(_canonical(item)) for item in value))
    if isinstance(value, dict):
        return "dict", tuple(sorted((repr(k), repr(_canonical(v))) for k, v in value.items()))
    return "object", id(value)  # unknown: equal only to itself, so never carried


def _style_print(style, prints: dict) -> bytes:
    """What a style is computed from: its cascaded values, its pseudo-element, base URL and
    page sizes, and its parent style's print (an anonymous box's style has only the last)."""
    if id(style) in prints:
        return prints[id(style)][1]
    parent = style.parent_style
    made = hashlib.blake2b(repr((
        type(style).__name__,
        _canonical(sorted(getattr(style, "cascaded", {}).items())),
        getattr(style, "pseudo_type", None), getattr(style, "base_url", None),
        _canonical(getattr(style, "initial_page_sizes", None)),
        None if parent is None else _style_print(parent, prints))).encode(),
        digest_size=16).digest()
    prints[id(style)] = (style, made)
    return made


def _print(box, prints: dict) -> bytes:
    """What fills the lines of `box`: its boxes' kinds, texts, elements' attributes, bookmark
    labels and strings set, and the prints of their styles."""
    if id(box) in prints:
        return prints[id(box)][1]

    def parts(box) -> tuple:
        element = box.element
        return (type(box).__name__, box.element_tag, getattr(box, "text", None),
                None if element is None else _canonical(dict(element.attrib)),
                _canonical(box.bookmark_label), _canonical(box.string_set),
                _style_print(box.style, prints),
                tuple(parts(child) for child in getattr(box, "children", ())))

    made = hashlib.blake2b(repr(parts(box)).encode(), digest_size=16).digest()
    prints[id(box)] = (box, made)
    return made


def _along(box) -> Iterator:
    yield box
    for child in getattr(box, "children", ()):
        yield from _along(child)


def _rebound(kept: _Kept, linebox) -> _Kept:
    """`kept`, laid out from another line box of the same print, as if laid out from
    `linebox`: its boxes refer to `linebox`'s elements and styles, whose document the line
    goes into (which item a run of text belongs to is read from its element)."""
    elements, styles = {}, {}
    for source, target in zip(_along(kept.source), _along(linebox), strict=True):
        elements[id(source.element)] = target.element
        styles[id(source.style)] = target.style
    line = kept.line and kept.line.deepcopy()
    for box in _along(line) if line is not None else ():
        box.element = elements.get(id(box.element), box.element)
        box.style = styles.get(id(box.style), box.style)
    return _Kept(line, kept.resume_at, linebox)


def _found(context, key, linebox) -> _Kept | None:
    """The line kept under `key` by this layout, or else by an earlier one carried, laid out
    with the same font configuration."""
    kept = context.__dict__[_KEPT]
    found = kept.get(key)
    if found is None and _inside is not None:
        found = next((lines[key] for fonts, lines in reversed([*_carried.values(), *_inside])
                      if fonts is context.font_config and lines is not kept and key in lines),
                     None)
    if found is not None and found.source is not linebox:
        found = kept[key] = _rebound(found, linebox)
    return found


def kept(context) -> dict:
    """The lines the layout of `context` keeps: its context holds them, and they go with its
    boxes, unless `carried`."""
    if _KEPT not in context.__dict__:
        context.__dict__[_KEPT], context.__dict__[_PRINTS] = {}, {}
        if _inside is not None:
            if any(fonts is not context.font_config
                   for fonts, _ in [*_carried.values(), *_inside]):
                _carried.clear()  # laid out with other fonts: none of them serves again
                _inside.clear()
            _inside.append((context.font_config, context.__dict__[_KEPT]))
    return context.__dict__[_KEPT]


def _at_origin(context, block):
    """`block` moved so that its content box starts at x = 0 (a copy, one per block and
    layout: the justification's look-ahead knows a line's block by identity)."""
    def moved(block):
        copied = block.copy()
        copied.position_x = copied.margin_left = copied.padding_left = 0
        copied.border_left_width = 0
        return copied

    return _once_a_layout(context, _ORIGINS, block, moved)


def next_line(context, linebox, position_y, bottom_space, skip_stack, containing_block,
              absolute_boxes, fixed_boxes, first_letter_style, first_line_style):
    """`inline.get_next_linebox`, from the lines this layout laid out before where the same
    line is asked for again. A plain line is laid out at the origin and moved to where it is
    asked for, whether laid out now or before: its positions are the same sums either way, so
    a layout from kept lines writes the same PDF as one from none."""
    if (context.excluded_shapes or first_letter_style is not None
            or first_line_style is not None
            # Each line of a paragraph asks of its line box.
            or not _once_a_layout(context, _PLAIN, linebox, plain)):
        return _lay_out_line(context, linebox, position_y, bottom_space, skip_stack,
                             containing_block, absolute_boxes, fixed_boxes, first_letter_style,
                             first_line_style)
    kept(context)
    # Not the room left below (`bottom_space`): only floats and inline blocks heed it.
    key = (_print(linebox, context.__dict__[_PRINTS]), frozen(skip_stack),
           containing_block.width, linebox.text_indent)
    found = _found(context, key, linebox)
    if found is None:
        # A plain line places no float nor positioned box (those are blocks): no list grows.
        line, resume_at = _lay_out_line(context, linebox, 0.0, bottom_space, skip_stack,
                                        _at_origin(context, containing_block), [], [], None,
                                        None)
        found = context.__dict__[_KEPT][key] = _Kept(line, resume_at, linebox)
    if found.line is None:
        return None, copy.deepcopy(found.resume_at)
    line, resume_at = found.line.deepcopy(), copy.deepcopy(found.resume_at)
    line.translate(containing_block.content_box_x(), position_y)
    line.position_y = position_y  # as WeasyPrint sets it, free of the float sum's error
    return line, resume_at
