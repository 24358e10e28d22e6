"""A page taken from a section's last layout drawn as it was, for WeasyPrint 70.0.

After an edit, `resume` takes the pages the edit does not change from the section's last
layout, boxes and all; drawing them again would write the same operators (drawing the sample's
six-page section took 0.09 s of the 0.7 s an edit's build took, most of it Pango shaping every
line once more). Inside
a kept section (`resume.section`), each page's drawing is recorded on its page box: the
operators it wrote, the fonts it used and, for each, the glyphs it drew with their widths and
the text each first stood for on the page. A page box that comes with a record (a page taken)
is drawn by writing those operators and giving its glyphs to the document's fonts in the same
order, so that the PDF is the same bytes as drawing it makes. Nor are its boxes' backgrounds
laid out, which serve only to draw them.

Only a page whose drawing touched nothing but its stream, the fonts and the alpha states of
its colours is recorded: one with a picture, a transparency group, a pattern, a shading or
another graphics state adds to resources that the whole document shares, and is drawn again;
so is a page of a tagged PDF, whose structure is the document's.

It depends on private WeasyPrint code: import it only through `publisher.pdf.weasyprint`,
which checks the version first.
"""

from __future__ import annotations

import cffi
import pydyf
from weasyprint import document, layout
from weasyprint.pdf.stream import Stream
from weasyprint.text.ffi import ffi

from publisher.pdf.weasyprint import resume

# WeasyPrint's bindings lack g_object_ref, with which a drawing keeps its Pango fonts alive.
_gobject_ffi = cffi.FFI()
_gobject_ffi.cdef("void *g_object_ref(void *object); void g_object_unref(void *object);")
_gobject = _gobject_ffi.dlopen("libgobject-2.0.so.0")

_original_draw_page = document.draw_page
_original_layout_backgrounds = layout.layout_backgrounds
# On a page box: its `_Drawing`, or None where it cannot be replayed.
_DRAWN = "_publisher_drawn"
# Stream methods that add to the resources every page shares.
_SHARED = ("set_state", "set_alpha_state", "set_blend_mode", "add_group", "add_image",
           "add_pattern", "add_shading")


class _Drawing:
    """What drawing a page wrote and used."""

    __slots__ = ("boxes", "operators", "fonts", "uses")

    def __init__(self, boxes: tuple, operators: list, fonts: list, uses: list):
        self.boxes = boxes  # the page's boxes it drew (`_boxes`)
        self.operators = operators
        self.fonts = fonts  # Pango fonts (a reference held), in the order first used
        # What it gave the document, in order: ("text" or "width", index of the font in
        # `fonts`, glyph, value), ("alpha", key, entry, None) for an alpha state.
        self.uses = uses


class _Held:
    """A Pango font with a reference held for as long as this object lives."""

    def __init__(self, pango_font):
        address = int(ffi.cast("uintptr_t", pango_font))
        self._reference = _gobject_ffi.gc(
            _gobject.g_object_ref(_gobject_ffi.cast("void *", address)), _gobject.g_object_unref)
        self.pango_font = ffi.cast("PangoFont *", address)


class _Noted:
    """A font's `to_unicode` or `widths` (`kind` "text" or "width") as one page's drawing uses
    it: the glyphs it asks for are noted in order, with the text each first stands for on the
    page (asked of the page as if it were the document's first; WeasyPrint keeps the first it
    is given) and its width."""

    def __init__(self, real: dict, font: int, kind: str, uses: list):
        self.real, self.font, self.kind, self.uses = real, font, kind, uses
        self.seen: set = set()

    def __contains__(self, glyph) -> bool:
        return glyph in (self.seen if self.kind == "text" else self.real)

    def __getitem__(self, glyph):
        value = self.real[glyph]
        self._note(glyph, value)
        return value

    def __setitem__(self, glyph, value) -> None:
        self._note(glyph, value)
        self.real.setdefault(glyph, value)

    def _note(self, glyph, value) -> None:
        if glyph not in self.seen:
            self.seen.add(glyph)
            self.uses.append((self.kind, self.font, glyph, value))


class _Recorder:
    """Watches one page's drawing on `stream`."""

    def __init__(self, page, stream: Stream):
        self.page, self.stream, self.start = page, stream, len(stream.stream)
        self.before = stream.stream[-1] if stream.stream else None
        self.shared = stream._tags is not None  # a tagged PDF's structure is the document's
        self.fonts: dict = {}  # id → (font, its Pango font referenced, its real dicts)
        self.uses: list = []
        self.alphas: set[str] = set()
        self._add_font, self._set_alpha = stream.add_font, stream.set_alpha
        stream.add_font, stream.set_alpha = self.add_font, self.set_alpha
        for name in _SHARED:
            setattr(stream, name, self._sharing(getattr(stream, name)))

    def _sharing(self, method):
        def shared(*args, **kwargs):
            self.shared = True
            return method(*args, **kwargs)
        return shared

    def add_font(self, pango_font):
        font, size = self._add_font(pango_font)
        if id(font) not in self.fonts:
            index = len(self.fonts)
            self.fonts[id(font)] = (font, _Held(pango_font), font.to_unicode, font.widths)
            font.to_unicode = _Noted(font.to_unicode, index, "text", self.uses)
            font.widths = _Noted(font.widths, index, "width", self.uses)
        return font, size

    def set_alpha(self, alpha, stroke=False, fill=None):
        # Every colour set sets its alpha: the page's alpha states are given to the resources
        # again, in the same order, where the document lacks them.
        for key, entry, wanted in ((f"A{alpha}", {"CA": alpha}, stroke),
                                   (f"a{alpha}", {"ca": alpha},
                                    fill if fill is not None else not stroke)):
            if wanted and key not in self.alphas:
                self.alphas.add(key)
                self.uses.append(("alpha", key, entry, None))
        return self._set_alpha(alpha, stroke, fill)

    def finish(self) -> _Drawing | None:
        """Put the stream and fonts back; the drawing, if it can be replayed."""
        stream = self.stream
        for name in ("add_font", "set_alpha", *_SHARED):
            stream.__dict__.pop(name, None)
        for font, _, to_unicode, widths in self.fonts.values():
            font.to_unicode, font.widths = to_unicode, widths
        whole = len(stream.stream) >= self.start and (
            stream.stream[self.start - 1] if self.start else None) is self.before
        if self.shared or not whole:
            return None
        return _Drawing(_boxes(self.page), stream.stream[self.start:],
                        [held for _, held, _, _ in self.fonts.values()], self.uses)


def _boxes(page) -> tuple:
    """The boxes a page box holds, by identity: a page taken holds its content's boxes, but
    its margin boxes and fixed boxes are made again with the document, and drawn again."""
    root, *others = page.children
    return tuple(map(id, others)), tuple(map(id, root.children))


def _replay(drawing: _Drawing, stream: Stream) -> None:
    fonts = [stream.add_font(held.pango_font)[0] for held in drawing.fonts]
    states = stream._resources["ExtGState"]
    for kind, key, what, value in drawing.uses:
        if kind == "alpha":
            if key not in states:
                states[key] = pydyf.Dictionary(what)
        elif kind == "text":
            fonts[key].to_unicode.setdefault(what, value)
        else:
            fonts[key].widths.setdefault(what, value)
    stream.stream.extend(drawing.operators)


def _replayed(page) -> _Drawing | None:
    """The drawing of a page taken in a kept section, if it is replayed (`draw_page`)."""
    drawing = page.__dict__.get(_DRAWN)
    if resume.kept_section() is None or drawing is None or drawing.boxes != _boxes(page):
        return None
    return drawing


def layout_backgrounds(page, get_image_from_uri) -> None:
    """WeasyPrint's `layout_backgrounds`, but not of a page whose drawing is replayed: its
    boxes' backgrounds serve only to draw them (8-14 ms of an edit's build)."""
    if _replayed(page) is None:
        _original_layout_backgrounds(page, get_image_from_uri)


def draw_page(page, stream) -> None:
    """WeasyPrint's `draw_page`; in a kept section, a page drawn before replayed, and a page
    drawn recorded."""
    if resume.kept_section() is None:
        _original_draw_page(page, stream)
        return
    drawing = _replayed(page)
    if drawing is not None:
        _replay(drawing, stream)
        return
    recorder = _Recorder(page, stream)
    try:
        _original_draw_page(page, stream)
    finally:
        page.__dict__[_DRAWN] = recorder.finish()


def install():
    """Replay the drawing of pages taken from a kept section's last layout; return what undoes
    it."""
    document.draw_page = draw_page
    layout.layout_backgrounds = layout_backgrounds

    def restore() -> None:
        document.draw_page = _original_draw_page
        layout.layout_backgrounds = _original_layout_backgrounds

    return restore
