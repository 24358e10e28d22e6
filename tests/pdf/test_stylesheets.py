"""The layouts' stylesheets are parsed once per process (publisher.pdf.weasyprint.stylesheets),
and what a later document takes from the kept parse is what parsing would have given it."""

from __future__ import annotations

import uuid

import pytest

from publisher.pdf.grid import MM


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The stylesheets WeasyPrint parses (their text), as the layouts run."""
    import tinycss2

    from publisher.pdf.weasyprint import stylesheets

    parsed: list[str] = []
    original = tinycss2.parse_stylesheet_bytes

    def counting(css, *args, **kwargs):
        parsed.append(css.decode())
        return original(css, *args, **kwargs)

    monkeypatch.setattr(tinycss2, "parse_stylesheet_bytes", counting)
    monkeypatch.setattr(stylesheets, "_parsed", {})
    return parsed


def _pages(tmp_path, css: str, text: str = "正文") -> list[tuple[float, float, str]]:
    """Each page's size (mm) and text of a document whose stylesheet `css` is linked."""
    import weasyprint
    from pypdf import PdfReader

    from publisher.pdf.weasyprint import patched

    (tmp_path / "layout.css").write_text(css, encoding="utf-8")
    html = (f'<html lang="zh"><head><link rel="stylesheet" href="layout.css"></head>'
            f"<body><p>{text}</p></body></html>")
    pdf = tmp_path / "out.pdf"
    with patched(uuid.uuid4()):
        weasyprint.HTML(string=html, base_url=str(tmp_path) + "/").write_pdf(pdf)
    return [(round(float(page.mediabox.width) / MM), round(float(page.mediabox.height) / MM),
             page.extract_text()) for page in PdfReader(pdf).pages]


def test_a_stylesheet_is_parsed_once_and_its_page_rules_apply_to_every_document(
        tmp_path, parses):
    css = ("@page { size: 100mm 80mm; margin: 10mm }\n"
           "@page :first { size: 120mm 80mm }\n"
           "p { font: 12pt 'Noto Serif CJK SC'; break-after: page }\n")
    first = _pages(tmp_path, css, "甲</p><p>乙")
    again = _pages(tmp_path, css, "甲</p><p>乙")
    assert first == again == [(120, 80, "甲"), (100, 80, "乙")]
    assert parses == [css]


def test_an_edited_stylesheet_is_parsed_again(tmp_path, parses):
    assert _pages(tmp_path, "@page { size: 100mm 80mm }") == [(100, 80, "正文")]
    assert _pages(tmp_path, "@page { size: 90mm 70mm }") == [(90, 70, "正文")]
    assert _pages(tmp_path, "@page { size: 100mm 80mm }") == [(100, 80, "正文")]
    assert parses == ["@page { size: 100mm 80mm }", "@page { size: 90mm 70mm }"]


def test_a_stylesheet_with_font_faces_is_parsed_for_each_document(tmp_path, parses):
    """@font-face adds to each document's own fonts: such a stylesheet is not kept."""
    css = ("@font-face { font-family: Body; src: local('Noto Serif CJK SC') }\n"
           "@page { size: 100mm 80mm }\np { font-family: Body }\n")
    for _ in range(2):
        assert _pages(tmp_path, css) == [(100, 80, "正文")]
    assert parses == [css, css]


def test_each_document_is_told_what_is_wrong_with_a_kept_stylesheet(tmp_path, parses, caplog):
    """What WeasyPrint says when it parses a stylesheet (an unknown property), and when a value
    with var() turns out invalid, each document laid out with it is told, as it was when
    each parsed its own."""
    import logging

    css = (":root { --gap: red }\n@page { size: 100mm 80mm }\n"
           "p { colr: red; margin-top: var(--gap) }\n")
    for _ in range(2):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="weasyprint"):
            assert _pages(tmp_path, css) == [(100, 80, "正文")]
        told = [record.getMessage() for record in caplog.records]
        assert [m for m in told if "colr" in m] and [m for m in told if "margin-top" in m], told
    assert parses == [css]
