"""Fonts' glyph widths as composing copies them (`publisher.pdf.sections.compose`).

A font's widths are arrays of numbers, three quarters of the values in a composed PDF's
objects, and pypdf copies each number into the composed PDF one by one, then writes each one:
half the time composing took. A section's PDF is parsed once for all the issues composed from
it (`sections._parsed_pdf`); there its widths are made `Widths`, which are copied whole and
written as the bytes pypdf writes for them, once."""

from __future__ import annotations

from io import BytesIO

from pypdf.generic import ArrayObject, NameObject

# The keys of a font's widths: a CID font's /W and /W2, a simple font's /Widths.
WIDTH_KEYS = frozenset({"/W", "/W2", "/Widths"})


class Widths(ArrayObject):
    """A font's widths, which nothing changes: copied as they are, written as they were
    read."""

    written: bytes

    @classmethod
    def of(cls, numbers: ArrayObject) -> Widths:
        widths = cls(numbers)
        written = BytesIO()
        ArrayObject.write_to_stream(numbers, written)
        widths.written = written.getvalue()
        return widths

    def clone(self, pdf_dest, force_duplicate: bool = False, ignore_fields=()) -> Widths:
        copied = Widths(self)
        copied.written = self.written
        return copied

    def write_to_stream(self, stream, encryption_key=None) -> None:
        stream.write(self.written)


def freeze(reader) -> None:
    """Make the widths of the fonts that `reader`'s pages and forms use `Widths`, where a
    font holds them itself (not by reference, which pypdf copies as an object of its own)."""
    seen: set[int] = set()
    for page in reader.pages:
        _freeze_resources(page.get("/Resources"), seen)


def _freeze_resources(resources, seen: set[int]) -> None:
    if resources is None or id(resources := resources.get_object()) in seen:
        return
    seen.add(id(resources))
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        for holder in [font, *(d.get_object() for d in font.get("/DescendantFonts", ()))]:
            for key in WIDTH_KEYS & holder.keys():
                if type(value := holder.raw_get(key)) is ArrayObject:
                    holder[NameObject(key)] = Widths.of(value)
    for xobject in (resources.get("/XObject") or {}).values():
        _freeze_resources(xobject.get_object().get("/Resources"), seen)
