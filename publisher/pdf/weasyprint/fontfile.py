"""Font files read where HarfBuzz holds them, for WeasyPrint 70.0.

WeasyPrint copies a font's whole file into a `Font` for every font and size it writes (20–30 MB
for each CJK collection, a dozen times in a document of several sizes), only to keep a subset of
it. `install()` has a `Font` read the file in place instead: HarfBuzz maps it from disk, so its
pages are shared by every process and the written bytes do not change. A font whose file is
still the one read in place when it is written (HarfBuzz could not subset it, or it is not
subset) is copied into bytes then: WeasyPrint would write a buffer as its name, not its bytes.
"""

from __future__ import annotations

from weasyprint.pdf import fonts
from weasyprint.text.ffi import ffi, harfbuzz

_original_init = fonts.Font.__init__
_original_clean = fonts.Font.clean
_copied_data = fonts.get_hb_object_data


def _init(self, pango_font, description, font_size):
    blobs = []

    def in_place(hb_face, ot_color=None, glyph=None):
        blob = ffi.gc(harfbuzz.hb_face_reference_blob(hb_face), harfbuzz.hb_blob_destroy)
        length = ffi.new("unsigned int *")
        data = harfbuzz.hb_blob_get_data(blob, length)
        if data == ffi.NULL:
            return None
        blobs.append(blob)  # the buffer is valid as long as its blob
        return ffi.buffer(data, length[0])

    fonts.get_hb_object_data = in_place
    try:
        _original_init(self, pango_font, description, font_size)
    finally:
        fonts.get_hb_object_data = _copied_data
    self.file_blobs = blobs


def _clean(self, to_unicode, hinting):
    _original_clean(self, to_unicode, hinting)
    # What WeasyPrint writes as the font program: a subset is bytes, the file read in place not.
    if not isinstance(self.file_content, bytes):
        self.file_content = bytes(self.file_content)


def install():
    """Patch WeasyPrint's `Font` to read its file in place; return what undoes it."""
    fonts.Font.__init__ = _init
    fonts.Font.clean = _clean

    def restore() -> None:
        fonts.Font.__init__ = _original_init
        fonts.Font.clean = _original_clean

    return restore
