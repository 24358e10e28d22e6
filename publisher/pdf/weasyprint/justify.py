"""Justification of Chinese lines for WeasyPrint 70.0 (rule 4: full lines flush), taking a line's
slack from punctuation before it opens gaps between characters (W3C clreq, JLREQ's priorities).

WeasyPrint justifies by widening spaces only, so a justified line of Chinese, which has no
spaces, stays ragged; and it breaks a line where the next character no longer fits at its full
width. `install()` patches WeasyPrint 70.0 so that, line by line:

1. adjacent marks take 1.5em everywhere: the text pass (`publisher.pdf.typeset`) set one of each
   pair half width already, so the line breaker sees them so;
2. a 。，、；： or closing mark at the line's end hangs its blank half past the edge (is set half
   width) when that lets the line take one more character (`--line-end-compression: none`
   switches it off);
3. an opening mark at the start of a line other than a paragraph's first is trimmed to half
   width, as CSS `text-spacing-trim: normal` does (`--line-start-trim: none` switches it off);
4. the quarter em between Han and Latin or digits (a space the text pass adds) flexes between an
   eighth and a third of an em;
5. only then the gaps after which a character may be spaced out open, evenly: each gap between
   two characters of which at least one is Chinese (Han, kana, full-width punctuation), except
   around spaces and inside `——` or `……`, and never after the line's last character.

Where a line leaves room, `layout.inline.split_inline_box` tries it again a little wider and
keeps the longer line if 2–4 make it fit; and it looks one line ahead: where the next line
would be loose (kept short so that a paragraph's last line holds two characters, or before
digits that cannot break), this one gives it a character. `layout.inline.text_align` then
justifies it (WeasyPrint would leave a line wider than its box alone), and
`text.line_break.Layout` widens the drawn
glyphs after each gap, in whole thousandths of the font size (what the PDF holds) with the
rounding error carried forward, so the last glyph of a line lands on the column's edge.

It depends on private WeasyPrint code: import it only through `publisher.pdf.weasyprint`,
which checks the version first.
"""

from __future__ import annotations

import copy
import functools
import math
import unicodedata

from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline
from weasyprint.text import line_break
from weasyprint.text.ffi import TO_UNITS, ffi
from weasyprint.text.fonts import get_pango_font_key

from publisher.cjk import BREAK, LINE_END_COMPRESSIBLE, OPENING, is_cjk, splits_doubled_mark
from publisher.pdf.weasyprint.lines import plain

# Thousandths of the font size added to a widened glyph's Pango width beyond the whole number
# wanted, so that WeasyPrint's truncation to thousandths keeps that number.
_MARGIN = 0.25
HALF_EM = 0.5
# The space between Han and Latin (0.256em in Noto Serif CJK) flexes within these, in em.
SPACE_EM = 0.256
SPACE_MIN_EM = 1 / 8
SPACE_MAX_EM = 1 / 3
# A line that leaves at least `_TRY_SLACK_EM` unfilled is tried again this much wider (em).
_TRY_WIDER_EM = (1.5, 1, 0.5)
_TRY_SLACK_EM = 0.3
# A line whose gaps between characters would open wider than this (em) is loose (rule 10).
_LOOSE_EM = 0.1

_original_justify_line = inline.justify_line
_original_text_align = inline.text_align
_original_split_inline_box = inline.split_inline_box
_original_set_text = line_break.Layout.set_text
_original_get_first_line = line_break.Layout.get_first_line


def _spaceless(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) not in ("Cf", "Mn")


# Called for every pair of adjacent characters of every line, often twice: its answers are kept.
@functools.lru_cache(maxsize=1 << 16)
def expandable(before: str, after: str) -> bool:
    """Whether justification may open the gap between two adjacent characters."""
    if not (_spaceless(before) and _spaceless(after)):
        return False
    if splits_doubled_mark(before, after):
        return False
    return is_cjk(before) or is_cjk(after)


def _text_boxes(box: boxes.Box) -> list[boxes.TextBox]:
    if isinstance(box, boxes.TextBox):
        return [box]
    if isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        return [t for child in box.children if child.is_in_normal_flow()
                for t in _text_boxes(child)]
    return []


def _length(line: boxes.LineBox) -> int:
    return sum(len(box.text) for box in _text_boxes(line))


def _in_flow(box: boxes.Box) -> bool:
    """Whether every box in `box` is in the normal flow."""
    return all(child.is_in_normal_flow() and _in_flow(child)
               for child in getattr(box, "children", ()))


@functools.lru_cache(maxsize=1 << 14)
def _gaps(text: str, following: str) -> tuple[int, ...]:
    """The indices of the characters of `text` followed by a gap, `following` being the first
    character after it. Balancing lays a line out several times: its answers are kept."""
    # A zero-width break opportunity (the text pass adds some) is no neighbour.
    at = [k for k, char in enumerate(text) if char != BREAK]
    chars = [text[k] for k in at] + ([following] if following else [])
    return tuple(at[k] for k in range(len(at))
                 if k + 1 < len(chars) and expandable(chars[k], chars[k + 1]))


def _mark_gaps(line: boxes.LineBox) -> None:
    """Store on each text box of `line` the indices of characters followed by a gap."""
    following = ""  # the first character after the box, across the boxes that follow it
    for box in reversed(_text_boxes(line)):
        box.cjk_gaps = _gaps(box.text, following)
        following = next((char for char in box.text if char != BREAK), following)


def _switched_off(style, name: str) -> bool:
    """Whether the custom property `name` is set to `none` (WeasyPrint keeps it as tokens)."""
    return any(getattr(token, "value", None) == "none" for token in style[name])


def _halved(box: boxes.TextBox) -> bool:
    """Whether the text pass set this box's mark half width already (`.halt`)."""
    settings = box.style["font_feature_settings"]
    return settings != "normal" and any(tag == "halt" for tag, _ in settings)


def _start_trim(line: boxes.LineBox, texts: list[boxes.TextBox]) -> float:
    """What an opening mark at the start of `line` gives up: half its em, except on a
    paragraph's first line (its indent stays as the layout set it)."""
    texts = [box for box in texts if box.text]
    if not texts or getattr(line, "opens_paragraph", True):
        return 0.0
    first = texts[0]
    if (first.text[:1] not in OPENING or _halved(first)
            or _switched_off(first.style, "__line_start_trim")):
        return 0.0
    return HALF_EM * first.style["font_size"]


def _end_hang(texts: list[boxes.TextBox]) -> float:
    """What a mark at the end of a line may give up: the blank half of its em."""
    texts = [box for box in texts if box.text.rstrip(BREAK)]
    if not texts:
        return 0.0
    last = texts[-1]
    if (last.text.rstrip(BREAK)[-1:] not in LINE_END_COMPRESSIBLE or _halved(last)
            or _switched_off(last.style, "__line_end_compression")):
        return 0.0
    return HALF_EM * last.style["font_size"]


def _spaces(box: boxes.TextBox) -> int:
    """The spaces of a text box: mostly the quarter em the text pass adds between Han and
    Latin; the few between Latin words flex with them."""
    return box.text.count(" ")


def _room_to_squeeze(line: boxes.LineBox) -> float:
    """How much narrower than its natural width `line` can be set (CSS px)."""
    texts = _text_boxes(line)
    spaces = sum(_spaces(box) * box.style["font_size"] for box in texts)
    return (_start_trim(line, texts) + _end_hang(texts)
            + spaces * (SPACE_EM - SPACE_MIN_EM))


def _shares(extra: float, texts: list[boxes.TextBox]) -> tuple[float, float]:
    """The widening (CSS px, negative to narrow) of each flexible space and of each gap that
    together take up `extra`: the spaces first, within their bounds, then the gaps evenly."""
    spaces = sum(_spaces(box) for box in texts)
    gaps = sum(len(box.cjk_gaps) for box in texts)
    em = texts[0].style["font_size"]
    space = 0.0
    if spaces:
        low, high = (SPACE_MIN_EM - SPACE_EM) * em, (SPACE_MAX_EM - SPACE_EM) * em
        space = min(max(extra / spaces, low), high)
        extra -= space * spaces
    if gaps:
        return space, extra / gaps
    return space + (extra / spaces if spaces else 0.0), 0.0


def justify_line(context, line, extra_width):
    """Set `line` `extra_width` wider (narrower when negative) than it lays out, taking the
    difference from punctuation and the flexible spaces before the gaps between characters."""
    _mark_gaps(line)
    texts = _text_boxes(line)
    if not texts:
        return
    trim = _start_trim(line, texts)
    extra_width += trim
    if extra_width < 0:
        extra_width += _end_hang(texts)
    space, gap = _shares(extra_width, texts)
    _spread(line, space, gap, -trim)


def _spread(box, space: float, gap: float, x_advance: float) -> float:
    """Move `box` by `x_advance` and widen its spaces by `space` and its gaps by `gap` (as
    WeasyPrint's `add_word_spacing` does for spaces alone); return the advance after it."""
    if isinstance(box, boxes.TextBox):
        box.position_x += x_advance
        spaces, gaps = _spaces(box), len(getattr(box, "cjk_gaps", ()))
        if spaces or gaps:
            box.justification_spacing = space
            box.pango_layout = _layout_to_draw(box, space, gap)
            widened = space * spaces + gap * gaps
            box.width += widened
            x_advance += widened
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        box.position_x += x_advance
        before = x_advance
        for child in box.children:
            if child.is_in_normal_flow():
                x_advance = _spread(child, space, gap, x_advance)
        box.width += x_advance - before
    else:
        box.translate(x_advance, 0)
    return x_advance


def _layout_to_draw(box: boxes.TextBox, space: float, gap: float) -> line_break.Layout:
    """The layout with which `box` is drawn, justified, as WeasyPrint's `add_word_spacing`
    leaves it (`create_layout`, then `deactivate`) without setting Pango up: drawing sets it
    up again (`reactivate`). It is the box's own layout, whose style is the box's, with the
    text `Layout.set_text` would keep and no width."""
    layout = copy.copy(box.pango_layout)
    text = box.text
    if (newline := text.find("\n")) != -1:
        text = text[:newline + 2]
    if text == " " and box.style["word_spacing"]:
        text = " \u200b"
    layout.text, layout.justification_spacing, layout.max_width = text, space, None
    layout.first_line_direction = 0
    layout.cjk_gaps, layout.gap_spacing, layout.gaps_pending = box.cjk_gaps, gap, False
    return layout


def text_align(context, line, available_width, last):
    """Justify every line of a justified paragraph but its last (and a last line that was
    squeezed to fit), whether or not it is wider than its box; elsewhere WeasyPrint's rules,
    with an opening mark at a line's start trimmed."""
    justified = (line.style["text_align_all"] == "justify"
                 and line.style["white_space"] in ("normal", "nowrap", "pre-line"))
    squeezed = getattr(line, "squeezed", False)
    if justified and (not last or squeezed):
        extra = available_width - line.width
        # A line too wide that was not squeezed overflows, as WeasyPrint lets it.
        justify_line(context, line, extra if squeezed else max(extra, 0.0))
        return 0
    offset = _original_text_align(context, line, available_width, last)
    if not offset and (trim := _start_trim(line, _text_boxes(line))):
        line.translate(-trim, 0)
    return offset


def _fitted_line(context, box, position_x, max_x, bottom_space, skip_stack, containing_block,
                 lists, first_letter_style, first_line_style):
    """WeasyPrint's line breaking, and for a justified line that leaves room, a second try a
    little wider, kept when squeezing punctuation and spaces makes it fit (marked `squeezed`).
    Also whether the line may be tried again: a justified line of text clear of floats."""
    def split(width: float, *lists):
        return _original_split_inline_box(
            context, box, position_x, position_x + width, bottom_space, skip_stack,
            containing_block, *lists, first_letter_style, first_line_style)

    room = max_x - position_x
    result = split(room, *lists)
    if not isinstance(box, boxes.LineBox):
        return result, False
    line, resume_at = result[0], result[1]
    line.opens_paragraph = skip_stack is None
    # Only lines of text clear of floats are tried again: a float or a positioned box would
    # be placed twice, and a wider line beside a float is moved below it.
    if (resume_at is None or box.style["text_align_all"] != "justify" or any(lists[:4])
            or context.excluded_shapes or not _in_flow(line) or not _text_boxes(line)):
        return result, False
    inline.remove_last_whitespace(context, line)
    indent = position_x - line.position_x  # a line's width counts the paragraph's indent
    em = box.style["font_size"]
    if room - (line.width - indent) < _TRY_SLACK_EM * em:
        return result, True
    for wider_em in _TRY_WIDER_EM:  # the longest line that fits squeezed
        wider = split(room + wider_em * em, [], [], [], [], [])
        wider_line = wider[0]
        wider_line.opens_paragraph = line.opens_paragraph
        inline.remove_last_whitespace(context, wider_line)
        if wider[1] == resume_at or not _text_boxes(wider_line):
            return result, True
        if _length(wider_line) <= _length(line):  # WeasyPrint may break earlier when wider
            continue
        if wider_line.width - indent - _room_to_squeeze(wider_line) <= room:
            wider_line.squeezed = True
            return wider, True
    return result, True


def _gap_widening(line: boxes.LineBox, room: float) -> float:
    """How much justification would open each gap between characters of `line`, set in
    `room` (CSS px): what the flexible spaces leave of its slack."""
    if getattr(line, "squeezed", False):
        return 0.0
    _mark_gaps(line)
    texts = _text_boxes(line)
    return _shares(room - line.width, texts)[1] if texts else 0.0


# Lines the look-ahead of the last call to `split_inline_box` set, as (question, answer): the
# next call that asks the same question takes its answer instead of breaking the line again.
_ahead: list[tuple[tuple, tuple]] = []


def split_inline_box(context, box, position_x, max_x, bottom_space, skip_stack,
                     containing_block, absolute_boxes, fixed_boxes, line_placeholders,
                     waiting_floats, line_children, first_letter_style, first_line_style):
    """A justified line as `_fitted_line` sets it, or one character shorter when the next line
    would be loose and takes that character to be less so: the line before a paragraph's last
    (kept at two characters) or before a run of digits that cannot break would otherwise open
    every gap, while two lines a character short each stay within a loose line's tolerance."""
    if not isinstance(box, boxes.LineBox):
        return _original_split_inline_box(
            context, box, position_x, max_x, bottom_space, skip_stack, containing_block,
            absolute_boxes, fixed_boxes, line_placeholders, waiting_floats, line_children,
            first_letter_style, first_line_style)

    def question(skip, start_x):
        return (context, box, box.position_x, skip, start_x, max_x, bottom_space,
                containing_block, first_letter_style, first_line_style)

    def fitted(skip, start_x, lists):
        return _fitted_line(context, box, start_x, max_x, bottom_space, skip, containing_block,
                            lists, first_letter_style, first_line_style)

    def ahead(skip, start_x):
        """The line after this one, kept for the next call when it asks for it: it must have
        touched none of WeasyPrint's lists, nor met a float."""
        lists = ([], [], [], [], [])
        found = fitted(skip, start_x, lists)
        if not any(lists[:4]) and not context.excluded_shapes and plain(found[0][0]):
            _ahead.append((question(skip, start_x), found))
        return found[0]

    asked = question(skip_stack, position_x)
    known = [found for kept, found in _ahead if kept == asked and not context.excluded_shapes]
    _ahead.clear()
    lists = (absolute_boxes, fixed_boxes, line_placeholders, waiting_floats, line_children)
    result, retried = known[0] if known else fitted(skip_stack, position_x, lists)
    if not retried:
        return result
    line, resume_at = result[0], result[1]
    loose = _LOOSE_EM * box.style["font_size"]
    start = line.position_x  # the next line has no indent
    following = ahead(resume_at, start)
    if following[1] is None or _gap_widening(following[0], max_x - start) <= loose:
        return result
    shorter = _original_split_inline_box(
        context, box, position_x, max_x - box.style["font_size"], bottom_space, skip_stack,
        containing_block, [], [], [], [], [], first_letter_style, first_line_style)
    if shorter[1] is None or shorter[1] == resume_at or not _text_boxes(shorter[0]):
        return result
    shorter[0].opens_paragraph = line.opens_paragraph
    inline.remove_last_whitespace(context, shorter[0])
    if _gap_widening(shorter[0], max_x - start) > loose:
        return result
    taking = ahead(shorter[1], start)
    if (taking[1] != following[1]
            or _gap_widening(taking[0], max_x - start)
            >= _gap_widening(following[0], max_x - start)):
        return result
    return shorter


def set_text(self, text, justify=False):
    _original_set_text(self, text, justify)
    self.gaps_pending = bool(justify and getattr(self, "gap_spacing", 0)
                             and getattr(self, "cjk_gaps", ()))


def get_first_line(self):
    first_line, index = _original_get_first_line(self)
    if getattr(self, "gaps_pending", False):
        self.gaps_pending = False
        _widen_glyphs(first_line, self.text, self.cjk_gaps, self.gap_spacing)
    return first_line, index


def _widen_glyphs(line, text: str, gaps: tuple[int, ...], spacing: float) -> None:
    """Add `spacing` (CSS px) after each character in `gaps`, on its cluster's last glyph.

    WeasyPrint writes each glyph's advance to the PDF in thousandths of the font size and
    truncates the fraction (`draw.text`, `int(kerning)`), which over 44 gaps of a full-width line
    loses up to half a point. So each gap gets a whole number of thousandths, the running total
    rounded so the line's sum is right, and the Pango width a little more than that number,
    never less, so that truncation lands on it.
    """
    starts, byte = [], 0
    for char in text:
        starts.append(byte)
        byte += len(char.encode())
    gap_bytes = {starts[k] for k in gaps if k < len(starts)}
    done = 0  # gaps widened so far
    run = line.runs
    while run != ffi.NULL:
        glyph_item, run = run.data, run.next
        _, _, font_size = get_pango_font_key(glyph_item.item.analysis.font)
        thousandths = spacing * 1000 / font_size  # per gap
        glyphs = glyph_item.glyphs
        offset, length = glyph_item.item.offset, glyph_item.item.length
        count = glyphs.num_glyphs
        clusters = ffi.unpack(glyphs.log_clusters, count)  # one read, not one a glyph
        for i in range(count):
            start = clusters[i]
            end = clusters[i + 1] if i + 1 < count else length
            if end == start:  # not the cluster's last glyph
                continue
            opened = len(gap_bytes.intersection(range(offset + start, offset + end)))
            if opened:
                whole = round((done + opened) * thousandths) - round(done * thousandths)
                done += opened
                extra = (whole + _MARGIN) * font_size / 1000 * TO_UNITS
                glyphs.glyphs[i].geometry.width += math.ceil(extra)


def install():
    """Patch WeasyPrint for Chinese justification; return what undoes it."""
    inline.justify_line = justify_line
    inline.text_align = text_align
    inline.split_inline_box = split_inline_box
    line_break.Layout.set_text = set_text
    line_break.Layout.get_first_line = get_first_line

    def restore() -> None:
        _ahead.clear()  # they hold the last layout's boxes and context
        inline.justify_line = _original_justify_line
        inline.text_align = _original_text_align
        inline.split_inline_box = _original_split_inline_box
        line_break.Layout.set_text = _original_set_text
        line_break.Layout.get_first_line = _original_get_first_line

    return restore
