"""One subset per font file for a composed PDF, instead of one per section.

WeasyPrint subsets each document's fonts, keeping glyph ids (HarfBuzz's RETAIN_GIDS, or
fontTools' retain_gids), so a glyph id names the same glyph in every section's subset. A
section's fonts are therefore not subset when it is laid out (`deferred`): its PDF carries a
4-byte stand-in for each font program, and the section records the font file, face and the
glyphs it draws. Composing subsets each font file once, as WeasyPrint subsets with HarfBuzz, for
the glyphs of all sections (`share`), and points every section's font at that one program.

A font is deferred only when its bytes are the font file itself, mapped into memory by HarfBuzz
(so composing can read the same file again) and WeasyPrint would do no more than subset it (no
variable, colour or bitmap font, none used in a form), and only where HarfBuzz's subsetter is
installed: any other is embedded as WeasyPrint does.
"""

from __future__ import annotations

import zlib
from contextlib import contextmanager
from pathlib import Path

from publisher.errors import BuildError

# What a deferred font program starts with: WeasyPrint reads a font's type (CFF or TrueType
# outlines) from its program's first four bytes, and writes FontFile3 or FontFile2 by it.
CFF_STUB = b"OTTO"
TRUETYPE_STUB = b"\0\1\0\0"


@contextmanager
def deferred():
    """While WeasyPrint writes a PDF, defer the subsetting of its fonts; yield the list that
    receives each deferred font as [PDF font name, file, face index, hinting, has missing
    glyphs, glyph ids]."""
    from weasyprint.pdf.fonts import Font
    from weasyprint.text.ffi import harfbuzz_subset

    found: list[list] = []
    if harfbuzz_subset is None:  # WeasyPrint subsets each section with fontTools
        yield found
        return
    clean = Font.clean

    def defer(font, to_unicode, hinting):
        source = _source(font) if to_unicode and _only_subset(font) else None
        if source is None:
            return clean(font, to_unicode, hinting)
        found.append([font.name.decode(), *source, bool(hinting), bool(font.missing),
                      sorted(to_unicode)])
        cff = "CFF " in font.tables or "CFF2" in font.tables
        font.file_content = CFF_STUB if cff else TRUETYPE_STUB

    Font.clean = defer
    try:
        yield found
    finally:
        Font.clean = clean


def _only_subset(font) -> bool:
    """Whether WeasyPrint's `Font.clean` would only subset `font`."""
    return not (font.used_in_forms or "fvar" in font.tables or font.png or font.svg
                or font.colr)


def _source(font) -> tuple[str, int] | None:
    """The font file and face whose bytes `font` holds: the file HarfBuzz mapped at its blob's
    address, whole (Linux's /proc/self/maps); None if there is none such."""
    from weasyprint.text.ffi import ffi, harfbuzz

    blob = harfbuzz.hb_face_reference_blob(font.hb_face)
    try:
        length = ffi.new("unsigned int *")
        address = int(ffi.cast("uintptr_t", harfbuzz.hb_blob_get_data(blob, length)))
    finally:
        harfbuzz.hb_blob_destroy(blob)
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return None
    for line in maps:
        span, _, offset, _, _, *path = line.split(maxsplit=5)
        if int(span.partition("-")[0], 16) == address and int(offset, 16) == 0 and path:
            file = Path(path[0])
            # WeasyPrint copies an @font-face font (a file fonts.yaml lists) into a temporary
            # folder, removed with the document: gone by the time the PDF is composed.
            if file.parent.name.startswith("weasyprint-"):
                return None
            if file.is_file() and file.stat().st_size == length[0]:
                return str(file), font.index
    return None


def share(writer, deferred_fonts: list[list]) -> None:
    """Subset each font file the sections deferred once, for all the glyphs they draw, and
    point each of their fonts (in `writer`, the composed PDF) at that one program."""
    from pypdf.generic import NameObject

    from publisher.pdf.weasyprint import require_pinned

    require_pinned()  # a build composing cached sections has not checked it yet

    sources: dict[str, tuple[str, int, bool]] = {}
    glyphs: dict[tuple[str, int, bool], set[int]] = {}
    missing: dict[tuple[str, int, bool], bool] = {}
    for name, file, index, hinting, lacks, gids in deferred_fonts:
        source = (file, index, hinting)
        if sources.setdefault(name, source) != source:
            raise BuildError(f"the font {name} comes from two font files: {file} and "
                             f"{sources[name][0]}")
        glyphs.setdefault(source, set()).update(gids)
        missing[source] = missing.get(source, False) or lacks
    programs = {source: _program(writer, source, glyphs[source], missing[source])
                for source in sorted(glyphs)}
    objects, replaced = writer._objects, set()
    for obj in list(objects):
        if not (hasattr(obj, "get") and obj.get("/Type") == "/FontDescriptor"):
            continue
        key = "/FontFile3" if "/FontFile3" in obj else "/FontFile2"
        stand_in = obj.get(key)
        if stand_in is None or str(obj["/FontName"]) not in sources:
            continue
        data = stand_in.get_object().get_data()
        if data not in (CFF_STUB, TRUETYPE_STUB):
            continue  # a section that embedded this font itself (it had a use not subset)
        program, cff = programs[sources[str(obj["/FontName"])]]
        if cff != (data == CFF_STUB):
            raise BuildError(f"the subset of the font {obj['/FontName']} changed its outlines' "
                             "format")
        obj[NameObject(key)] = program
        replaced.add(stand_in.idnum)  # WeasyPrint gives fonts of one file one stream
    # pypdf keeps every object it copied: the stand-ins are dropped as pypdf's own
    # compress_identical_objects drops objects (a free entry in the cross-reference table).
    for idnum in replaced:
        objects[idnum - 1] = None


def _program(writer, source: tuple[str, int, bool], gids: set[int], missing: bool):
    """The font file's face subset for `gids` as a stream of `writer`, compressed as pypdf's
    `flate_encode()` compresses it (its keys in that order); and whether its outlines are
    CFF."""
    from pypdf.generic import EncodedStreamObject, NameObject, NumberObject

    compressed, cff, length = _subset(source, gids, missing)
    stream = EncodedStreamObject()
    if cff:
        stream[NameObject("/Subtype")] = NameObject("/OpenType")
    else:
        stream[NameObject("/Length1")] = NumberObject(length)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    stream._data = compressed  # as `flate_encode()` sets it
    return writer._add_object(stream), cff


# The subsets the last composings used, by build cache entry: (deflated program, whether its
# outlines are CFF, its length). An edit seldom changes which glyphs the issue draws, and
# reading and inflating the sample's took 15 ms of every composing.
_subsets: dict[str, tuple[bytes, bool, int]] = {}
_SUBSETS_KEPT = 16


def _subset(source: tuple[str, int, bool], gids: set[int],
            missing: bool) -> tuple[bytes, bool, int]:
    """The font file's face subset for `gids` as WeasyPrint subsets a document's font, deflated
    as pypdf deflates a stream, kept in the build cache under the file (path, size, time) and
    the glyphs (deflating the sample's subsets took 80 ms of every composing); with whether its
    outlines are CFF and its length."""
    from publisher import cache, harfbuzz, recent

    file, index, hinting = source
    try:
        entry = cache.file_key(file, str(index), str(hinting), str(missing),
                               " ".join(map(str, sorted(gids))))
    except OSError as error:
        raise BuildError(f"a section laid out with the font {file} is composed without it "
                         f"({error.strerror}): `make clean` empties the build cache") from None
    if entry in _subsets:
        return recent.keep(_subsets, entry, _subsets[entry], _SUBSETS_KEPT)

    def subset() -> bytes:
        data = harfbuzz.bound().subset(file, index, sorted(gids), hinting, missing)
        if not data:
            raise BuildError(f"could not subset the font {file}")
        return zlib.compress(data, -1)

    compressed = cache.remembered("font-programs", entry, subset)
    data = zlib.decompress(compressed)
    return recent.keep(_subsets, entry, (compressed, data[:4] == CFF_STUB, len(data)),
                       _SUBSETS_KEPT)
