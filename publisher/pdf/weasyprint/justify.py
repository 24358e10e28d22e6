"""Inter-character justification for WeasyPrint (rule 4: full lines flush), for WeasyPrint 70.0.

WeasyPrint justifies by widening spaces only, so a justified line of Chinese, which has no
spaces, stays ragged. `install()` patches three places of WeasyPrint 70.0:

- `layout.inline.justify_line` first marks, on every text box of the line, the gaps after which
  a character may be spaced out: each gap between two characters of which at least one is Chinese
  (Han, kana, full-width punctuation), except around spaces (they stretch already) and inside
  `——` or `……`, and never after the line's last character.
- `layout.inline.count_expandable_spaces` counts those gaps with the spaces, so the line's
  extra width is shared evenly among spaces and gaps, and box widths and positions follow.
- `text.line_break.Layout` widens the drawn glyphs after each marked gap by the same amount,
  in whole thousandths of the font size (what the PDF holds) with the rounding error carried
  forward, so the last glyph of a line lands on the column's edge.

It depends on private WeasyPrint code: import it only through `publisher.pdf.weasyprint`,
which checks the version first.
"""

from __future__ import annotations

import math
import unicodedata

from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline
from weasyprint.text import line_break
from weasyprint.text.ffi import TO_UNITS, ffi
from weasyprint.text.fonts import get_pango_font_key

from publisher.cjk import is_cjk, splits_doubled_mark

# Thousandths of the font size added to a widened glyph's Pango width beyond the whole number
# wanted, so that WeasyPrint's truncation to thousandths keeps that number.
_MARGIN = 0.25

_original_justify_line = inline.justify_line
_original_count = inline.count_expandable_spaces
_original_add_word_spacing = inline.add_word_spacing
_original_set_text = line_break.Layout.set_text
_original_get_first_line = line_break.Layout.get_first_line


def _spaceless(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) not in ("Cf", "Mn")


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


def _mark_gaps(line: boxes.LineBox) -> None:
    """Store on each text box of `line` the indices of characters followed by a gap."""
    texts = _text_boxes(line)
    for i, box in enumerate(texts):
        following = texts[i + 1].text[:1] if i + 1 < len(texts) else ""
        text = box.text + following
        box.cjk_gaps = tuple(k for k in range(len(box.text))
                             if k + 1 < len(text) and expandable(text[k], text[k + 1]))


def justify_line(context, line, extra_width):
    _mark_gaps(line)
    if nb_expandable := inline.count_expandable_spaces(line):
        inline.add_word_spacing(context, line, extra_width / nb_expandable, 0)


def count_expandable_spaces(box):
    gaps = len(getattr(box, "cjk_gaps", ())) if isinstance(box, boxes.TextBox) else 0
    return _original_count(box) + gaps


def add_word_spacing(context, box, justification_spacing, x_advance):
    x_advance = _original_add_word_spacing(context, box, justification_spacing, x_advance)
    if isinstance(box, boxes.TextBox) and getattr(box, "cjk_gaps", ()):
        # The layout made for drawing carries the gaps to `get_first_line`.
        box.pango_layout.cjk_gaps = box.cjk_gaps
    return x_advance


def set_text(self, text, justify=False):
    _original_set_text(self, text, justify)
    self.gaps_pending = bool(justify and self.justification_spacing
                             and getattr(self, "cjk_gaps", ()))


def get_first_line(self):
    first_line, index = _original_get_first_line(self)
    if getattr(self, "gaps_pending", False):
        self.gaps_pending = False
        _widen_glyphs(first_line, self.text, self.cjk_gaps, self.justification_spacing)
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
        clusters, count = glyphs.log_clusters, glyphs.num_glyphs
        for i in range(count):
            start = clusters[i]
            end = clusters[i + 1] if i + 1 < count else length
            if end == start:  # not the cluster's last glyph
                continue
            opened = sum(1 for b in range(offset + start, offset + end) if b in gap_bytes)
            if opened:
                whole = round((done + opened) * thousandths) - round(done * thousandths)
                done += opened
                extra = (whole + _MARGIN) * font_size / 1000 * TO_UNITS
                glyphs.glyphs[i].geometry.width += math.ceil(extra)


def install():
    """Patch WeasyPrint for inter-character justification; return what undoes it."""
    inline.justify_line = justify_line
    inline.count_expandable_spaces = count_expandable_spaces
    inline.add_word_spacing = add_word_spacing
    line_break.Layout.set_text = set_text
    line_break.Layout.get_first_line = get_first_line

    def restore() -> None:
        inline.justify_line = _original_justify_line
        inline.count_expandable_spaces = _original_count
        inline.add_word_spacing = _original_add_word_spacing
        line_break.Layout.set_text = _original_set_text
        line_break.Layout.get_first_line = _original_get_first_line

    return restore
