"""Each kind of page is styled once per document (publisher.pdf.weasyprint.page_styles), and
the pages come out as WeasyPrint styles them one by one."""

from __future__ import annotations

import uuid

from publisher.pdf.grid import MM

DOCUMENT_ID = uuid.UUID(int=7)
# Pages of every kind the @page rules tell apart: the first, left and right, a blank one (the
# break to a right page before 丁), and named ones; margin boxes with the page counter and the
# text of the page's heading.
CSS = """
@page { size: 100mm 80mm; margin: 12mm; @bottom-center { content: counter(page) } }
@page :first { size: 120mm 80mm }
@page :left { @top-left { content: "左" string(head) } }
@page :right { @top-right { content: "右" string(head) } }
@page :blank { @bottom-center { content: none } }
@page wide { size: 140mm 80mm }
@page wide:left { @top-left { content: "宽左" } }
h1 { string-set: head content(); font: 10pt 'Noto Serif CJK SC'; break-before: page }
h1.right { break-before: right }
section { page: wide }
"""
HTML = ("<h1>甲</h1><h1>乙</h1><h1>丙</h1><h1 class=right>丁</h1>"
        "<section><h1>戊</h1><h1>己</h1><h1>庚</h1></section><h1>辛</h1>")


def _render(tmp_path, css: str, name: str):
    import weasyprint

    from publisher.pdf.weasyprint import patched

    with patched(DOCUMENT_ID):
        document = weasyprint.HTML(string=f"<style>{css}</style>{HTML}",
                                   base_url=str(tmp_path) + "/").render()
        document.write_pdf(tmp_path / name)
    return document


def _pages(path) -> list[tuple[int, str]]:
    from pypdf import PdfReader

    return [(round(float(page.mediabox.width) / MM), " ".join(page.extract_text().split()))
            for page in PdfReader(path).pages]


def test_pages_of_a_kind_share_their_styles_and_print_as_if_styled_one_by_one(
        tmp_path, monkeypatch):
    from publisher.pdf.weasyprint import page_styles

    shared = _render(tmp_path, CSS, "shared.pdf")
    with monkeypatch.context() as unpatched:
        unpatched.setattr(page_styles, "install", lambda: lambda: None)
        one_by_one = _render(tmp_path, CSS, "one-by-one.pdf")
    assert _pages(tmp_path / "shared.pdf") == [
        (120, "甲 右甲 1"), (100, "乙 左乙 2"), (100, "丙 右丙 3"), (100, "左丙"),
        (100, "丁 右丁 5"), (140, "戊 宽左 6"), (140, "己 右己 7"), (140, "庚 宽左 8"),
        (100, "辛 右辛 9")]
    assert (tmp_path / "shared.pdf").read_bytes() == (tmp_path / "one-by-one.pdf").read_bytes()
    # The first page, left, right, blank, wide left and wide right: one style each.
    assert len({id(page._page_box.style) for page in shared.pages}) == 6
    assert len({id(page._page_box.style) for page in one_by_one.pages}) == 9


def test_a_document_that_selects_pages_by_index_styles_each_page(tmp_path):
    document = _render(tmp_path, CSS + "@page :nth(4) { size: 160mm 80mm }", "nth.pdf")
    assert [width for width, _ in _pages(tmp_path / "nth.pdf")] == [
        120, 100, 100, 160, 100, 140, 140, 140, 100]
    assert len({id(page._page_box.style) for page in document.pages}) == 9

