"""Font files read in place (`publisher.pdf.weasyprint.fontfile`) write the same PDF."""

from io import BytesIO

import pdfplumber
import weasyprint
from pypdf import PdfReader

from publisher.pdf.weasyprint import fontfile

# Both CJK collections, each at several sizes: a `Font` (and a copy of its file) for each.
HTML = ("<html lang='zh'><body style='font-family: \"Noto Serif CJK SC\"'>"
        "<h1 style='font: bold 22pt \"Noto Sans CJK SC\"'>社区党建工作</h1>"
        "<p style='font-size: 10.5pt'>坚持以人民为中心的发展思想。</p>"
        "<p style='font-size: 9pt'>不断提高服务群众能力和水平。</p>"
        "<p style='font: 12pt \"Noto Sans CJK SC\"'>推动基层组织建设全面进步。</p>"
        "</body></html>")


def _embedded_font_files(pdf: bytes) -> int:
    found = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            found |= {key for key in ("/FontFile2", "/FontFile3") if key in descriptor}
    return len(found)


def _copied_and_in_place(html: str) -> tuple[bytes, bytes]:
    """`html`'s PDF as WeasyPrint writes it, then with the fonts read in place."""
    copied = weasyprint.HTML(string=html).write_pdf()
    restore = fontfile.install()
    try:
        in_place = weasyprint.HTML(string=html).write_pdf()
    finally:
        restore()
    return copied, in_place


def test_fonts_read_in_place_write_the_same_bytes():
    copied, in_place = _copied_and_in_place(HTML)
    assert in_place == copied
    assert _embedded_font_files(in_place) >= 1
    with pdfplumber.open(BytesIO(in_place)) as pdf:
        assert "推动基层组织建设全面进步。" in pdf.pages[0].extract_text()


def test_a_font_harfbuzz_cannot_subset_is_written_whole(monkeypatch):
    """HarfBuzz fails to subset some fonts (a large TrueType font listed in fonts.yaml, for one
    section's glyphs); WeasyPrint then embeds the whole file. Read in place, that file is a
    buffer, which was written as its name: the page could not be drawn."""
    from weasyprint.pdf.fonts import Font

    monkeypatch.setattr(Font, "_harfbuzz_subset", lambda font, to_unicode, hinting: None)
    html = "<p style='font-family: \"DejaVu Sans\"'>Party building in the community.</p>"
    copied, in_place = _copied_and_in_place(html)
    assert in_place == copied
    assert _embedded_font_files(in_place) == 1
