"""One subset per font file in the composed print PDF (publisher/pdf/weasyprint/fontshare.py):
each font program once, holding every glyph that any section draws with it."""

from __future__ import annotations

import re
from io import BytesIO


def _fonts(path):
    """Each Type0 font of the PDF: (its base name without the subset tag, its descriptor, its
    CIDFont's /W glyph ids, its ToUnicode text by glyph id)."""
    from pypdf import PdfReader

    reader, seen = PdfReader(path), set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            if font.idnum in seen:
                continue
            seen.add(font.idnum)
            font = font.get_object()
            (cid_font,) = font["/DescendantFonts"]
            cid_font = cid_font.get_object()
            gids, widths = [], list(cid_font["/W"])
            for first, run in zip(widths[::2], widths[1::2], strict=True):
                gids += range(first, first + len(run))
            cmap = font["/ToUnicode"].get_object().get_data()
            text = {int(gid, 16): bytes.fromhex(points.decode()).decode("utf-16-be")
                    for gid, points in re.findall(rb"<([0-9a-f]{4})> <([0-9a-f]+)>", cmap)}
            yield (str(font["/BaseFont"]).partition("+")[2], cid_font["/FontDescriptor"],
                   gids, text)


def test_each_font_program_is_embedded_once_with_every_glyph_drawn(sample_pdf):
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    programs: dict[str, set[int]] = {}
    drawn: dict[int, set[int]] = {}
    for name, descriptor, gids, text in _fonts(sample_pdf):
        descriptor = descriptor.get_object()
        program = descriptor.raw_get("/FontFile3" if "/FontFile3" in descriptor
                                     else "/FontFile2")
        programs.setdefault(name, set()).add(program.idnum)
        drawn.setdefault(program.idnum, set()).update(
            gid for gid in gids if text.get(gid, " ").strip())
    # Sections share the fonts of one file: four families and weights, four programs.
    assert len(programs) == 4, programs
    assert all(len(found) == 1 for found in programs.values()), programs
    reader = PdfReader(sample_pdf)
    for idnum, gids in drawn.items():
        face = TTFont(BytesIO(reader.get_object(idnum).get_data()))
        glyphs, order = face.getGlyphSet(), face.getGlyphOrder()
        for gid in gids:
            pen = BoundsPen(glyphs)
            glyphs[order[gid]].draw(pen)
            assert pen.bounds is not None, (idnum, gid)


def test_the_composed_pdf_is_about_the_size_of_a_whole_layout(sample_pdf):
    """A whole-issue layout of the sample made 1.4 MB; sections each with their own subsets
    made 9.6 MB."""
    assert sample_pdf.stat().st_size < 2.5e6


def test_a_font_file_fonts_yaml_lists_is_embedded_by_each_section(tmp_path):
    """WeasyPrint copies such a font into a temporary folder that is gone when the sections are
    composed: those sections embed their own subsets, and the build still succeeds, the same
    bytes laid out by workers or in the build's own process, whose layouts share one font
    configuration (`publisher.pdf.weasyprint.font_configuration`)."""
    import os
    import shutil
    import subprocess
    import sys

    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    from tests.conftest import ROOTS

    root = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", root)
    (root / "fonts").mkdir()
    # A family installed nowhere, so that fontconfig finds it only in the listed file.
    face = TTFont("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")
    for record in face["name"].names:
        if record.nameID in (1, 4, 6, 16):
            record.string = "Listed Kai"
    face.save(root / "fonts" / "Listed.ttf")
    (root / "fonts" / "fonts.yaml").write_text(
        "serif:\n  family: Listed Kai\n  files: {400: Listed.ttf}\n", encoding="utf-8")
    built = {}
    for workers in ("2", "1"):
        env = {**os.environ, "PUBLISHER_WORKERS": workers, "SOURCE_DATE_EPOCH": "1443657600",
               "PUBLISHER_CACHE": str(tmp_path / f"cache-{workers}")}
        subprocess.run([sys.executable, "-m", "publisher.cli", "-q", "build", str(root), "--pdf",
                        "-o", str(tmp_path / workers)], env=env, check=True, capture_output=True)
        built[workers] = (tmp_path / workers / "2015-10.pdf").read_bytes()
    assert built["1"] == built["2"]
    pdf = tmp_path / "2" / "2015-10.pdf"
    found = list(_fonts(pdf))
    assert "Listed-Kai" in {name for name, *_ in found}
    for _, descriptor, _, _ in found:  # a whole font program each, no stand-in left
        descriptor = descriptor.get_object()
        program = descriptor.get("/FontFile3") or descriptor["/FontFile2"]
        assert len(program.get_data()) > 1000
    assert "测试" in "".join(page.extract_text() for page in PdfReader(pdf).pages)


def test_a_shared_subset_is_the_one_weasyprint_makes():
    """Composing subsets with its own HarfBuzz bindings, so that it need not import WeasyPrint:
    the bytes must be those WeasyPrint's own subsetting gives for the same glyphs, or a
    composed PDF would differ from one WeasyPrint wrote whole."""
    import subprocess

    from hypothesis import given, settings
    from hypothesis import strategies as st
    from weasyprint.pdf.fonts import Font
    from weasyprint.text.ffi import ffi

    from publisher import harfbuzz

    FACE = 2  # the collection's Simplified Chinese face

    file = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC:bold"],
                          capture_output=True, text=True, check=True).stdout
    assert file.endswith(".ttc")

    bound = harfbuzz.bound()

    @settings(max_examples=8, deadline=None)
    @given(gids=st.sets(st.integers(1, 60000), min_size=1, max_size=300),
           hinting=st.booleans(), missing=st.booleans())
    def same(gids, hinting, missing):
        blob = bound.hb.hb_blob_create_from_file(file.encode())
        face = bound.hb.hb_face_create(blob, FACE)
        try:
            # WeasyPrint's bindings make no face from a file: it is handed over by address.
            font = Font.__new__(Font)
            font.hb_face = ffi.cast("hb_face_t *", int(bound.ffi.cast("uintptr_t", face)))
            font.missing, font.family, font.file_content = missing, file, b""
            font.subset(sorted(gids), hinting)
        finally:
            bound.hb.hb_face_destroy(face)
            bound.hb.hb_blob_destroy(blob)
        ours = bound.subset(file, FACE, sorted(gids), hinting, missing)
        assert ours and ours == font.file_content

    same()


def test_a_font_program_is_the_stream_pypdf_deflates_from_the_subset(tmp_path, monkeypatch):
    """Composing keeps each subset deflated in the build cache: the stream it writes, made
    or taken from the cache, is the one pypdf's `flate_encode()` makes of the subset, for CFF
    outlines (Noto CJK) and TrueType ones (LXGW WenKai)."""
    import subprocess

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject, NumberObject

    from publisher import harfbuzz
    from publisher.pdf.weasyprint import fontshare

    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "cache"))
    serif = subprocess.run(["fc-match", "-f", "%{file}", "Noto Serif CJK SC"],
                           capture_output=True, text=True, check=True).stdout
    gids = set(range(1, 400, 3))
    for source, cff in (((serif, 2, False), True),
                        (("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0,
                          True), False)):
        data = harfbuzz.bound().subset(*source[:2], sorted(gids), source[2], False)
        expected = DecodedStreamObject()
        expected.set_data(data)
        if cff:
            expected[NameObject("/Subtype")] = NameObject("/OpenType")
        else:
            expected[NameObject("/Length1")] = NumberObject(len(data))
        written = BytesIO()
        expected.flate_encode().write_to_stream(written)
        for _ in ("made", "from the cache"):
            writer = PdfWriter()
            program, found_cff = fontshare._program(writer, source, gids, False)
            ours = BytesIO()
            program.get_object().write_to_stream(ours)
            assert (ours.getvalue(), found_cff) == (written.getvalue(), cff)
