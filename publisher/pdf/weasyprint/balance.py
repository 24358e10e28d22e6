"""Balanced columns where a multi-column box ends, for WeasyPrint 70.0 (the tracker's "body in
two balanced columns"), computed from the line grid rather than searched for.

WeasyPrint balances by laying the columns out again and again: from their average height, it
grows them by whole boxes until the content fits, and then balances only if everything fits at
full height by `max(consumed_heights) <= max_height`, which a full column misses by a few 1e-13
px of float sums. Every trial is a layout of the whole box, and it still stops up to two lines
off.

`install()` wraps `layout.column.columns_layout` and never lets WeasyPrint balance (it lays out
with `column-fill: auto`, with a hair more room than the page has left, so that a full column
fits):

1. the box is laid out once at the height left on the page; if it goes on to the next page,
   that is the layout, its columns full;
2. if it ends on this page, its columns' content adds up to a height `total`; balanced columns
   end at the first line of the grid (`publisher.pdf.weasyprint.linegrid`) at or below
   `total / columns` from their top (or half-line, where a 微书摘 box ends the content half a
   line off the grid), so the box is laid out once more with that much room (a step more each
   time something that cannot be split does not fit there: a box, a paragraph that would leave
   an orphan).

WeasyPrint keeps widows and orphans only where it could push lines on to the next page, so not in
a box that opens a page (`page_is_empty`): there a balanced box could leave a paragraph's last
line alone at the top of its second column. The balanced layout is done as if matter stood
above, which balanced columns can always honour.

On a page the columns fill, a column may end whole lines short where something kept whole (a
heading with its text, a brief's head, a box) went on to the next one. `_level` opens those
lines as margin before the headings, briefs, lead-ins and boxes of the page up to that column
(around a heading, the smaller half after it) and lays the box out again, so that lines move
across the gutter; a first column with nothing before it takes them from the page before
(`_ahead`, which lays the next page out ahead and keeps that layout for it), as does a box's
end too short to balance alone on its page; on the page before, a heading or brief's head that
opens a column may take those lines under it. Balanced columns two lines apart open a line the
same way, or else let a paragraph leave an orphan (`_closer`). `fill_column` opens what is
still left before the short column's own.

Every layout is one where no brief opens a column under the rule that parts it from the one
before (`_without_ruled_tops`): it goes, with the space around it, and the column holds what
would have gone on.

The wrapper depends on private WeasyPrint code: import it only through
`publisher.pdf.weasyprint`, which checks the version first.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from weasyprint.css.properties import Dimension
from weasyprint.formatting_structure import boxes
from weasyprint.layout import block, column
from weasyprint.text import line_break

from publisher.pdf.weasyprint.linegrid import grid_pitch

# Room added to the page's so that rounding errors of float sums do not make a column that
# exactly fills it overflow.
_ROUNDING = 1e-6
# Within this (CSS px), a column's foot is on a line of the grid.
_ON_LINE = 0.01
# How many steps (lines or half lines) beyond the even share a balanced layout may try.
_MAX_TRIES = 12

# A box's end alone on a page balances in this many lines, which lines pushed on from the page
# before make up: each column needs a paragraph's two lines (orphans, widows), and an end note
# may follow.
_FEWEST_TAIL_LINES = 6

# How many places to open a line a balanced layout two lines apart may try.
_MAX_OPENINGS = 4

# How many times a layout may be redone for the rules above boxes that open a column.
_MAX_RULE_DROPS = 4
# A box that opens a column without the rule that parts it from the one before (a brief's),
# nor the space around that rule.
_NO_RULE = {"margin_top": Dimension(0, "px"), "padding_top": Dimension(0, "px"),
            "border_top_width": 0}
# A box that stays at the top of its column (not the first).
_KEPT_TO_COLUMN = {"break_before": "column"}

# Blocks before which a column may open space: headings, boxes, pictures, briefs and
# paragraphs that open with a bold lead-in or are a bold point heading.
_OPENING_TAGS = frozenset(("h2", "h3", "aside", "figure", "header"))
_OPENING_CLASSES = frozenset(("brief", "lead", "point"))
_HEADING_TAGS = frozenset(("h2", "h3"))
# Heads after which a column that they open may take lines: headings and a brief's head.
_HEAD_TAGS = _HEADING_TAGS | {"header"}

_original_columns_layout = column.columns_layout
# Told of every layout of columns (the box, where it goes on, whether a look-ahead laid it
# out): `resume` learns how far into the document a page's layout read, and how far the
# layouts of the next page it laid out ahead read.
reached: Callable[[object, object, bool], None] | None = None
# Told of every question a page's layout asks of the next page (`_question`) with its answer
# (how many lines it wants pushed on, at fewest and at most): all that page reads of it.
asked: Callable[[tuple, tuple[int, int]], None] | None = None
# Told of the first layout of columns that opens a page, as the question the page before
# would have asked of it and a function that answers it from that layout (`_wanted`).
opened: Callable[[tuple, Callable[[], tuple[int, int]]], None] | None = None
# How many look-aheads deep the layout in progress is (0: a page's own).
_depth = 0
# The next page's columns as `_next_page` laid them out, kept for when that page comes (the
# same layout): its question (`_question`), layout.
_laid_ahead: tuple | None = None


def _columns(context, box, *args):
    """WeasyPrint's layout of columns, told to `reached`."""
    result = _original_columns_layout(context, box, *args)
    if reached is not None:
        reached(box, result[1], _depth > 0)
    return result


def _question(context, box, resume_at, top: float, bottom_space: float) -> tuple:
    """What the next page's columns of `box`, going on at `resume_at` from `top`, are asked
    about: what makes their first layout there (and the key of `_laid_ahead`)."""
    return box, resume_at, top, bottom_space, context.page_bottom


def _content_bottom(box) -> float:
    """The bottom of what `box` shows: its last line, or its border if it ends here (a block
    that goes on in the next column reaches down to the column's end, but shows nothing
    there, and has no bottom border or padding)."""
    if isinstance(box, boxes.LineBox) or not getattr(box, "children", None):
        return box.position_y + box.margin_height() - box.margin_bottom
    inside = [_content_bottom(child) for child in box.children if child.is_in_normal_flow()]
    return (max(inside, default=box.content_box_y()) + box.padding_bottom
            + box.border_bottom_width)


def _feet(box) -> list[float]:
    """Where the content of each column of a laid-out multi-column box ends."""
    return [_content_bottom(col) - col.padding_bottom - col.border_bottom_width
            for col in box.children]


def balanced_foot(top: float, total: float, count: int, page_bottom: float,
                  step: float, grid: bool) -> float:
    """Where `count` balanced columns starting at `top`, whose content takes `total` in all,
    end: at their even share, moved down to the next step of the grid (page_bottom less
    whole steps) or, off the grid, of whole steps from `top`."""
    even = top + total / count
    origin = page_bottom if grid else top
    return origin + math.ceil((even - origin - _ON_LINE) / step) * step


def _step(total: float, pitch: float) -> float:
    """Balanced feet move by whole lines, or by half lines where the content ends half a line
    off the grid (a 微书摘 box)."""
    off = total / pitch % 1
    return pitch / 2 if abs(off - 0.5) < 0.25 else pitch


def _starts(box, top: float) -> list:
    """The boxes of a column before which whole lines of space may open: headings, briefs,
    boxes and pictures, but not the column's first, nor a headline under its kicker."""
    found = []
    for child in box.children:
        if not child.is_in_normal_flow() or isinstance(child, boxes.LineBox):
            continue
        element = child.element if child.element_tag else None
        classes = (element.get("class") or "").split() if element is not None else []
        if child.position_y > top + _ON_LINE and (
                child.element_tag in _OPENING_TAGS or _OPENING_CLASSES.intersection(classes)):
            found.append(child)
        elif isinstance(child, boxes.BlockContainerBox) and child.element_tag not in _HEAD_TAGS:
            found += _starts(child, top)
    return found


def _along_edge(column, last: bool) -> Iterator:
    """The boxes down from `column` through its first (or `last`) in-flow child, that child's
    first (or last), and so on, to a line or a box that holds no blocks."""
    box = column
    while isinstance(box, boxes.BlockContainerBox):
        flow = [c for c in box.children if c.is_in_normal_flow()]
        if not flow:
            return
        box = flow[-1 if last else 0]
        yield box


def _head_atop(column):
    """The heading or brief head that opens `column`, if one does."""
    return next((box for box in _along_edge(column, False) if box.element_tag in _HEAD_TAGS),
                None)


def _open_space(box, space: dict[int, float]) -> float:
    """Move down every box after one in `space` (by id) by the space it asks for, growing the
    blocks that hold them; return the space opened in `box`."""
    opened = 0.0
    for child in box.children:
        if not child.is_in_normal_flow():
            continue
        opened += space.get(id(child), 0.0)
        inner = 0.0
        if isinstance(child, boxes.BlockContainerBox) and not isinstance(child, boxes.LineBox):
            inner = _open_space(child, space)
            child.height += inner
        if opened:
            child.translate(dy=opened)
        opened += inner
    return opened


def _short(column, bottom: float, pitch: float) -> int:
    """How many whole lines a column ends above `bottom`."""
    return max(0, math.floor((bottom - _content_bottom(column) + _ON_LINE) / pitch))


def _shares(starts: list, lines: int, pitch: float) -> dict[int, float]:
    """`lines` lines of space shared out evenly before `starts` (by id), the later ones
    taking the odd lines."""
    return {id(start): pitch * (lines * (i + 1) // len(starts) - lines * i // len(starts))
            for i, start in enumerate(starts)}


def fill_column(column, bottom: float, pitch: float) -> None:
    """A column of a page the columns fill ends on the block's last line: where something that
    cannot be split (a heading kept with its text, a brief's head, a box) went on to the next
    column and left whole lines empty at its foot, those lines open before its headings,
    briefs and boxes instead, shared out evenly, so the text stays on the grid."""
    lines = _short(column, bottom, pitch)
    starts = _starts(column, column.position_y) if lines > 0 else []
    if starts:
        _open_space(column, _shares(starts, lines, pitch))


def _originals(box, laid_out: list) -> list:
    """The boxes of the tree `box` that `laid_out` boxes were laid out from (a laid-out box
    is a copy that shares its element and type)."""
    wanted = {(id(b.element), type(b)): b for b in laid_out}
    found = []

    def visit(parent) -> None:
        for child in getattr(parent, "children", ()):
            if wanted.pop((id(child.element), type(child)), None) is not None:
                found.append(child)
            if wanted and not isinstance(child, boxes.LineBox):
                visit(child)

    visit(box)
    return found


def _restyled(tree, changes: dict, lay_out):
    """`lay_out()` with each box of `tree` laid out from one in `changes` (laid-out box: its
    style's changed properties) given a style of its own (elements alike share one), for this
    layout only."""
    saved = []
    for original in _originals(tree, list(changes)):
        saved.append((original, original.style))
        original.style = original.style.copy()
    changed = {id(box.element): values for box, values in changes.items()}
    try:
        for original, style in saved:
            for name, value in changed[id(original.element)].items():
                original.style[name] = value(style[name]) if callable(value) else value
        return lay_out()
    finally:
        for original, style in reversed(saved):
            original.style = style


def _ruled_tops(box, dropped: dict) -> dict:
    """The boxes that open a column of the laid-out `box` under a rule of their own, or whose
    rule `dropped` (by element) took away and that still open theirs, by element, with the
    style changes that take the rule away: one that opens a column after the first also
    keeps to it, or without its rule it could fit at the foot of the column before, where it
    needs it."""
    found = {}
    earlier: set[int] = set()
    for index, col in enumerate(box.children):
        flow = [c for c in col.children if c.is_in_normal_flow()]
        if flow and (flow[0].border_top_width or (
                id(flow[0].element) in dropped and id(flow[0].element) not in earlier)):
            found[id(flow[0].element)] = (
                flow[0], {**_NO_RULE, **_KEPT_TO_COLUMN} if index else _NO_RULE)
        earlier.update(id(c.element) for c in flow)
    return found


def _without_ruled_tops(context, tree, lay_out, absolute: list, fixed: list):
    """`lay_out(absolute, fixed)` where no box opens a column under its rule: a brief that does
    is laid out again without it, nor the space around it (WeasyPrint keeps both at a column
    break, and the rule would stand under the running head), so its column holds what would
    have gone on. Again until the boxes laid out so are those that open columns."""
    dropped: dict = {}
    attempts = 1
    while True:
        result = _restyled(tree, dict(dropped.values()), lambda: lay_out(absolute, fixed))
        if result[0] is None or not all(c.is_column for c in result[0].children):
            return result
        tops = _ruled_tops(result[0], dropped)
        if tops.keys() == dropped.keys() or attempts == _MAX_RULE_DROPS:
            return result
        block.remove_placeholders(context, [result[0]], absolute, fixed)
        dropped = tops
        attempts += 1


def _grown(by: float):
    """A change that grows a margin `by`."""
    return lambda margin: Dimension(margin.value + by, "px")


def _opened(lines: dict, pitch: float, atop: frozenset = frozenset()) -> dict:
    """Style changes that open `lines` (laid-out box: space, in whole lines) as margin before
    those boxes; around a heading, the lines after it take the smaller half, so that it stands
    in the middle of the lines it takes (标题占行) rather than under a gap; after a head that
    opens its column (`atop`, by id), they take all, so that the column's first line stays
    level with the others'."""
    changes = {}
    for box, extra in lines.items():
        if not extra:
            continue
        if id(box) in atop:
            below = extra
        elif box.element_tag in _HEADING_TAGS:
            below = pitch * (round(extra / pitch) // 2)
        else:
            below = 0
        changes[box] = {"margin_top": _grown(extra - below)}
        if below:
            changes[box]["margin_bottom"] = _grown(below)
    return changes


def _merged(changes: dict, more: dict) -> dict:
    """Style changes `more` made on top of `changes` (laid-out box: its style's changed
    properties; boxes laid out from one element are one): a margin grown by both grows by
    both."""
    merged = {id(box.element): (box, dict(values)) for box, values in changes.items()}
    for box, values in more.items():
        earlier = merged.setdefault(id(box.element), (box, {}))[1]
        for name, value in values.items():
            first = earlier.get(name)
            earlier[name] = (lambda old, first=first, then=value: then(first(old))) \
                if callable(first) and callable(value) else value
    return dict(merged.values())


def _tried(context, result, tree, lay_out, changes: dict, absolute: list, fixed: list, better):
    """The layout `lay_out(absolute, fixed)` gives with `changes` to the styles of those boxes
    (see `_restyled`), if it is `better(layout)`; else `result`, still in place."""
    trial_absolute: list = []
    trial_fixed: list = []
    trial = _restyled(tree, changes, lambda: lay_out(trial_absolute, trial_fixed))
    if trial[0] is None or not better(trial):
        if trial[0] is not None:
            block.remove_placeholders(context, [trial[0]], trial_absolute, trial_fixed)
        return result
    block.remove_placeholders(context, [result[0]], absolute, fixed)
    absolute += trial_absolute
    fixed += trial_fixed
    return trial


def _shortfall(layout, bottom: float, pitch: float) -> int:
    """How many whole lines the columns of `layout` end above `bottom`, in all."""
    return sum(_short(col, bottom, pitch) for col in layout[0].children)


def _level(context, result, tree, lay_out, bottom: float, pitch: float, absolute: list,
           fixed: list):
    """On a page the columns fill, a column that ends lines short opens them before the
    headings, briefs, lead-ins and boxes of the page up to its own, shared out evenly: those
    in the columns before it push lines across the gutter. The box is laid out again with
    that space as margin, so lines move on as they would have been set. Return the layout and
    the style changes it was laid out with."""
    changes: dict = {}
    for _ in range(len(result[0].children)):
        columns = result[0].children
        for k, short in enumerate(columns):
            lines = _short(short, bottom, pitch)
            starts = [s for col in columns[:k + 1] for s in _starts(col, col.position_y)]
            if lines and starts:
                break
        else:
            break
        before = _shortfall(result, bottom, pitch)
        space = _shares(starts, lines, pitch)
        more = _merged(changes, _opened({s: space[id(s)] for s in starts}, pitch))
        trial = _tried(
            context, result, tree, lay_out, more, absolute, fixed,
            lambda t, before=before: t[1] is not None and all(c.is_column for c in t[0].children)
            and _shortfall(t, bottom, pitch) < before)
        if trial is result:
            break
        result, changes = trial, more
    return result, changes


def _ahead(context, result, changes: dict, tree, lay_out, next_page, bottom: float,
           pitch: float, absolute: list, fixed: list):
    """Where the next page's first column would end lines short with nothing before it on
    that page to open them before, or where the box ends there in too few lines to balance,
    lines open on this page instead, before its headings, briefs and lead-ins, and push as
    many on; a head that opens a column (a brief kept to it) takes them after it. `next_page(
    resume_at)` says how many lines the next page wants pushed on, at fewest and at most; with
    no trial that gives it all it wants, one that gives the first column some of what it lacks
    still counts. `result` was laid out with style `changes`, which each trial keeps."""
    columns = result[0].children
    heads = [_head_atop(col) for col in columns]
    atop = frozenset(id(head) for head in heads if head is not None)
    starts = [s for head, col in zip(heads, columns, strict=True)
              for s in [head, *_starts(col, col.position_y)] if s is not None]
    fewest, most = next_page(result[1]) if starts else (0, 0)
    if not most:
        return result
    before = _shortfall(result, bottom, pitch)
    for lines in range(fewest, most + 1):
        space = _shares(starts, lines, pitch)

        def better(trial, lines=lines) -> bool:
            if trial[1] is None or not all(c.is_column for c in trial[0].children) \
                    or _shortfall(trial, bottom, pitch) > before:
                return False
            wants = next_page(trial[1])[1]
            return wants == 0 or (fewest == most and wants < lines)

        trial = _tried(context, result, tree, lay_out,
                       _merged(changes, _opened({s: space[id(s)] for s in starts}, pitch, atop)),
                       absolute, fixed, better)
        if trial is not result:
            return trial
    return result


def _paragraph_at(column, last: bool):
    """The paragraph (the block of lines) that ends `column` if `last`, else that opens it."""
    parent = column
    for box in _along_edge(column, last):
        if isinstance(box, boxes.LineBox):
            return parent if parent is not column else None
        parent = box
    return None


def _closer(context, result, tree, lay_out_at, room: float, pitch: float, absolute: list,
            fixed: list):
    """Balanced columns end a line apart at most: where widows and orphans leave them two
    apart, a line opens before a heading, lead-in or box of the shorter column (or of the
    longer, pushing a line across the gutter), and the box is laid out again; with nothing
    to open a line before, the paragraphs at the column breaks may leave one line at a
    column's foot (an orphan, which Chinese composition allows where a lone last line at a
    column's top it does not), and the box is laid out a line shorter.
    `lay_out_at(room, absolute, fixed)` lays it out with `room` as the space below it."""
    def apart(layout) -> float:
        feet = _feet(layout[0])
        return max(feet) - min(feet)

    def close(layout) -> bool:
        return layout[1] is None and apart(layout) < 2 * pitch - _ON_LINE

    if apart(result) < 2 * pitch - _ON_LINE:
        return result
    feet = _feet(result[0])
    order = sorted(range(len(feet)), key=feet.__getitem__)
    columns = [result[0].children[k] for k in order]
    starts = [s for col in columns for s in _starts(col, col.position_y)][:_MAX_OPENINGS]
    for start in starts:
        trial = _tried(context, result, tree, lambda a, f: lay_out_at(room, a, f),
                       _opened({start: pitch}, pitch), absolute, fixed, close)
        if trial is not result:
            return trial
    columns = result[0].children
    breaks = [paragraph for before, after in itertools.pairwise(columns)
              for paragraph in (_paragraph_at(before, True), _paragraph_at(after, False))
              if paragraph is not None]
    return _tried(context, result, tree, lambda a, f: lay_out_at(room + pitch, a, f),
                  {paragraph: {"orphans": 1} for paragraph in breaks}, absolute, fixed, close)


def _next_page(context, box, filling, bottom_space, resume_at, containing_block,
               first_letter_style, first_line_style, pitch: float) -> tuple[int, int]:
    """How many lines, at fewest and at most, the columns of `box` going on at `resume_at` on
    the next page (of this page's size) want pushed on to them: those their first column ends
    short, the page full, with no heading, brief or box before it to open them before; or,
    where they end there in columns more than a line apart, up to as many as they lack of
    `_FEWEST_TAIL_LINES`."""
    following = filling.copy()
    following.position_y = context.current_footnote_area.page.content_box_y()
    absolute: list = []
    fixed: list = []
    with _looking_ahead(context, next_page=True):
        result = _without_ruled_tops(
            context, following, lambda a, f: _columns(
                context, following, bottom_space - _ROUNDING, resume_at, containing_block, True,
                a, f, [0], first_letter_style, first_line_style), absolute, fixed)
    question = _question(context, box, resume_at, following.position_y, bottom_space)
    if result[0] is None:
        wanted = (0, 0)
    else:
        block.remove_placeholders(context, [result[0]], absolute, fixed)
        wanted = _wanted(context, box, result, following.position_y, bottom_space, resume_at,
                         containing_block, first_letter_style, first_line_style, pitch,
                         next_page=True)
        if not absolute and not fixed and (result[1] is not None or wanted == (0, 0)):
            global _laid_ahead
            _laid_ahead = (question, result)
    if asked is not None and _depth == 0:
        asked(question, wanted)
    return wanted


def _wanted(context, box, result, top: float, bottom_space, resume_at, containing_block,
            first_letter_style, first_line_style, pitch: float, *,
            next_page: bool) -> tuple[int, int]:
    """What `_next_page` answers of `result`, the columns of `box` laid out at `top` of a page
    going on at `resume_at`: from the page before (`next_page`) or on that page."""
    laid_out, going_on = result[:2]
    if going_on is None:
        lacking = _FEWEST_TAIL_LINES - _lines(laid_out)
        if lacking > 0 and not _ends_level(context, box, top, bottom_space,
                                           resume_at, containing_block, first_letter_style,
                                           first_line_style, pitch, next_page=next_page):
            return 1, lacking
        return 0, 0
    first = laid_out.children[0] if laid_out.children else None
    if getattr(first, "is_column", False) and not _starts(first, first.position_y):
        lines = _short(first, context.page_bottom - bottom_space, pitch)
        return lines, lines
    return 0, 0


@contextmanager
def _looking_ahead(context, *, next_page: bool) -> Iterator[None]:
    """Lay out a look-ahead, as on the next page if `next_page` (its number: margins at its
    top are dropped after the first page), else as on this one."""
    global _depth
    _depth += 1
    context.current_page += next_page
    try:
        yield
    finally:
        context.current_page -= next_page
        _depth -= 1


def _ends_level(context, box, top: float, bottom_space, resume_at, containing_block,
                first_letter_style, first_line_style, pitch: float, *, next_page: bool) -> bool:
    """Whether the columns of `box` that end on the next page (or on this one, not
    `next_page`), going on there at `resume_at`, are all filled and end a line apart at most
    once balanced."""
    ending = box.copy()
    ending.position_y = top
    absolute: list = []
    fixed: list = []
    with _looking_ahead(context, next_page=next_page):
        laid_out = columns_layout(context, ending, bottom_space, resume_at, containing_block,
                                  True, absolute, fixed, [0], first_letter_style,
                                  first_line_style)[0]
    if laid_out is None:
        return True
    block.remove_placeholders(context, [laid_out], absolute, fixed)
    feet = _feet(laid_out)
    # WeasyPrint makes no box for a column left empty.
    count = box.style["column_count"]
    return (not isinstance(count, int) or len(feet) == count) \
        and max(feet) - min(feet) < 2 * pitch - _ON_LINE


def _lines(box) -> int:
    """How many lines the laid-out `box` holds."""
    if isinstance(box, boxes.LineBox):
        return 1
    return sum(_lines(child) for child in getattr(box, "children", ())
               if child.is_in_normal_flow())


def columns_layout(context, box, bottom_space, skip_stack, containing_block, page_is_empty,
                   absolute_boxes, fixed_boxes, adjoining_margins, first_letter_style,
                   first_line_style):
    style = box.style
    if (style["column_fill"] != "balance" or style["height"] != "auto"
            or any(child.style["column_span"] == "all" for child in box.children)):
        return _columns(
            context, box, bottom_space - _ROUNDING, skip_stack, containing_block, page_is_empty,
            absolute_boxes, fixed_boxes, adjoining_margins, first_letter_style,
            first_line_style)
    filling = box.copy()
    filling.style = style.copy()
    filling.style["column_fill"] = "auto"

    def lay_out(room: float, absolute: list, fixed: list, empty: bool):
        return _without_ruled_tops(
            context, filling, lambda a, f: _columns(
                context, filling, room - _ROUNDING, skip_stack, containing_block, empty, a, f,
                adjoining_margins, first_letter_style, first_line_style), absolute, fixed)

    global _laid_ahead
    ahead, _laid_ahead = _laid_ahead, None
    opening = page_is_empty and not any(adjoining_margins)
    question = _question(context, box, skip_stack, box.position_y, bottom_space)
    if ahead and opening and ahead[0] == question:
        result = ahead[1]
    else:
        result = lay_out(bottom_space, absolute_boxes, fixed_boxes, page_is_empty)
    new_box, resume_at = result[0], result[1]
    grid = grid_pitch(style)
    if opened is not None and opening and _depth == 0 and grid:
        def answer() -> tuple[int, int]:
            global _laid_ahead
            if new_box is None:
                return 0, 0
            try:
                return _wanted(context, box, result, box.position_y, bottom_space, skip_stack,
                               containing_block, first_letter_style, first_line_style, grid,
                               next_page=False)
            finally:
                _laid_ahead = None  # what its layouts laid ahead is not this page's

        opened(question, answer)
    if new_box is None or not all(child.is_column for child in new_box.children):
        return result
    if resume_at is not None:  # the columns fill the page
        if grid:
            bottom = context.page_bottom - bottom_space

            def fill(absolute: list, fixed: list):
                return lay_out(bottom_space, absolute, fixed, page_is_empty)

            def next_page(at) -> int:
                return _next_page(context, box, filling, bottom_space, at, containing_block,
                                  first_letter_style, first_line_style, grid)

            result, changes = _level(context, result, filling, fill, bottom, grid,
                                     absolute_boxes, fixed_boxes)
            result = _ahead(context, result, changes, filling, fill, next_page, bottom, grid,
                            absolute_boxes, fixed_boxes)
            for col in result[0].children:
                fill_column(col, bottom, grid)
        return result
    columns = new_box.children
    top = columns[0].position_y
    feet = _feet(new_box)
    pitch = grid or line_break.strut(style)[0]
    count = style["column_count"] if isinstance(style["column_count"], int) else len(columns)
    total = sum(f - top for f in feet)
    step = _step(total, pitch)
    foot = balanced_foot(top, total, count, context.page_bottom, step, grid is not None)
    # As even as the lines allow, unless the box opens the page (see above: widows).
    if max(feet) <= foot + _ON_LINE and (len(columns) < 2 or not page_is_empty):
        return result if grid is None else _closer(
            context, result, filling, lambda r, a, f: lay_out(r, a, f, page_is_empty),
            bottom_space, grid, absolute_boxes, fixed_boxes)
    block.remove_placeholders(context, [new_box], absolute_boxes, fixed_boxes)
    for _ in range(_MAX_TRIES):
        if foot > max(feet) + _ON_LINE:
            break  # no better than the first layout
        room = max(bottom_space, context.page_bottom - foot)
        trial = lay_out(room, absolute_boxes, fixed_boxes, False)
        if trial[0] is not None and trial[1] is None:
            return trial if grid is None else _closer(
                context, trial, filling, lambda r, a, f: lay_out(r, a, f, False), room, grid,
                absolute_boxes, fixed_boxes)
        if trial[0] is not None:
            block.remove_placeholders(context, [trial[0]], absolute_boxes, fixed_boxes)
        foot += step
    return lay_out(bottom_space, absolute_boxes, fixed_boxes, page_is_empty)


def install():
    """Patch WeasyPrint's multi-column layout to balance the columns where a box ends and fill
    them where it goes on; return what undoes it."""
    block.columns_layout = columns_layout

    def restore() -> None:
        block.columns_layout = _original_columns_layout

    return restore
