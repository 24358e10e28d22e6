"""HarfBuzz, bound with cffi for the little `publisher` asks of it besides WeasyPrint's layout:
which characters a font file covers (`fonts.coverage`, for the missing-glyph check), and a
font's subset for a composed PDF (`pdf.weasyprint.fontshare`). Neither need import WeasyPrint
(a second, its whole cdef) for it, and HarfBuzz reads a CJK font's cmap in 0.01 s, where
fontTools takes 0.2 s."""

from __future__ import annotations

from functools import cache, cached_property

# HarfBuzz's subset flags and the input set of tables to drop (hb-subset.h).
_NO_HINTING = 0x1
_RETAIN_GIDS = 0x2
_DESUBROUTINIZE = 0x4
_PASSTHROUGH_UNRECOGNIZED = 0x20
_NOTDEF_OUTLINE = 0x40
_DROP_TABLE_TAG = 3
# The tables WeasyPrint 70 drops from a subset.
_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF",
                   b"LTSH", b"PCLT", b"SVG ")


class HarfBuzz:
    """The bindings. `subset` does what WeasyPrint 70's `Font._harfbuzz_subset` does, call for
    call, so the bytes are the same; it needs libharfbuzz-subset, loaded when first asked."""

    def __init__(self):
        import cffi

        self.ffi = cffi.FFI()
        self.ffi.cdef("""
            typedef struct hb_blob_t hb_blob_t;
            typedef struct hb_face_t hb_face_t;
            typedef struct hb_set_t hb_set_t;
            typedef struct hb_subset_input_t hb_subset_input_t;
            typedef uint32_t hb_codepoint_t;
            typedef uint32_t hb_tag_t;
            hb_blob_t *hb_blob_create_from_file (const char *file_name);
            const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
            void hb_blob_destroy (hb_blob_t *blob);
            hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
            hb_blob_t *hb_face_reference_blob (hb_face_t *face);
            void hb_face_destroy (hb_face_t *face);
            hb_tag_t hb_tag_from_string (const char *str, int len);
            void hb_set_add_sorted_array (hb_set_t *set, const hb_codepoint_t *sorted_codepoints,
                                          unsigned int num_codepoints);
            hb_subset_input_t *hb_subset_input_create_or_fail (void);
            void hb_subset_input_destroy (hb_subset_input_t *input);
            hb_set_t *hb_subset_input_glyph_set (hb_subset_input_t *input);
            hb_set_t *hb_subset_input_set (hb_subset_input_t *input, int set_type);
            void hb_subset_input_set_flags (hb_subset_input_t *input, unsigned value);
            hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
            hb_set_t *hb_set_create (void);
            void hb_set_destroy (hb_set_t *set);
            unsigned int hb_set_get_population (const hb_set_t *set);
            unsigned int hb_set_next_many (const hb_set_t *set, hb_codepoint_t codepoint,
                                           hb_codepoint_t *out, unsigned int size);
            void hb_face_collect_unicodes (hb_face_t *face, hb_set_t *out);
            hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
            unsigned int hb_face_get_glyph_count (const hb_face_t *face);
        """)
        self.hb = self.ffi.dlopen("libharfbuzz.so.0")

    @cached_property
    def hb_subset(self):
        return self.ffi.dlopen("libharfbuzz-subset.so.0")

    def unicodes(self, file: str, index: int) -> frozenset[int]:
        """The code points the face `index` of `file` maps to glyphs (its best cmap); OSError
        where the file cannot be read or holds no such face."""
        ffi, hb = self.ffi, self.hb
        blob = hb.hb_blob_create_from_file_or_fail(file.encode())
        if blob == ffi.NULL:
            raise OSError(f"cannot read {file}")
        face = hb.hb_face_create(blob, index)
        found = hb.hb_set_create()
        try:
            if not hb.hb_face_get_glyph_count(face):
                raise OSError(f"{file} has no font at index {index}")
            hb.hb_face_collect_unicodes(face, found)
            size = hb.hb_set_get_population(found)
            points = ffi.new(f"hb_codepoint_t[{size}]")
            # HB_SET_VALUE_INVALID: from the first.
            count = hb.hb_set_next_many(found, 0xFFFFFFFF, points, size)
            return frozenset(ffi.unpack(points, count))
        finally:
            hb.hb_set_destroy(found)
            hb.hb_face_destroy(face)
            hb.hb_blob_destroy(blob)

    def subset(self, file: str, index: int, gids: list[int], hinting: bool,
               missing: bool) -> bytes | None:
        """The face `index` of `file` subset for the sorted `gids`, or None if HarfBuzz
        fails."""
        ffi, hb, hb_subset = self.ffi, self.hb, self.hb_subset
        notdef = _NOTDEF_OUTLINE if missing else 0
        blob = hb.hb_blob_create_from_file(file.encode())
        face = hb.hb_face_create(blob, index)
        subset_input = hb_subset.hb_subset_input_create_or_fail()
        faces = [face]
        try:
            self._add(hb_subset.hb_subset_input_glyph_set(subset_input), gids)
            hb_subset.hb_subset_input_set_flags(
                subset_input, _RETAIN_GIDS | _PASSTHROUGH_UNRECOGNIZED | _DESUBROUTINIZE | notdef)
            self._add(hb_subset.hb_subset_input_set(subset_input, _DROP_TABLE_TAG),
                      [hb.hb_tag_from_string(tag, -1) for tag in _DROPPED_TABLES])
            faces.append(hb_subset.hb_subset_or_fail(face, subset_input))
            # Then the empty glyphs after the last one used go.
            self._add(hb_subset.hb_subset_input_glyph_set(subset_input),
                      range(max(gids) + 1))
            hb_subset.hb_subset_input_set_flags(
                subset_input, _PASSTHROUGH_UNRECOGNIZED | _DESUBROUTINIZE | notdef
                | (0 if hinting else _NO_HINTING))
            faces.append(hb_subset.hb_subset_or_fail(faces[1], subset_input))
            if faces[2] == ffi.NULL:
                return None
            data_blob = hb.hb_face_reference_blob(faces[2])
            length = ffi.new("unsigned int *")
            data = hb.hb_blob_get_data(data_blob, length)
            try:
                return None if data == ffi.NULL else ffi.unpack(data, length[0])
            finally:
                hb.hb_blob_destroy(data_blob)
        finally:
            for made in faces:
                if made != ffi.NULL:
                    hb.hb_face_destroy(made)
            hb_subset.hb_subset_input_destroy(subset_input)
            hb.hb_blob_destroy(blob)

    def _add(self, to_set, sorted_values) -> None:
        values = list(sorted_values)
        self.hb.hb_set_add_sorted_array(
            to_set, self.ffi.new(f"hb_codepoint_t[{len(values)}]", values), len(values))


@cache
def bound() -> HarfBuzz:
    return HarfBuzz()
