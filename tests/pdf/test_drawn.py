"""Pages taken from a section's last layout are drawn from what drawing them wrote then
(`publisher.pdf.weasyprint.drawn`, issue #11): the same PDF as drawing them again."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from weasyprint.text.fonts import FontConfiguration

from publisher.pdf.weasyprint import drawn, resume
from tests.pdf.test_grid import paragraph
from tests.pdf.test_resume import items_html, laid_out


@pytest.fixture(autouse=True)
def _forgotten():
    resume.forget()
    yield
    resume.forget()


def drawn_again(monkeypatch) -> list[object]:
    """The page boxes drawn (not replayed) from now on."""
    boxes: list[object] = []
    draw = drawn._original_draw_page

    def counted(page, stream):
        boxes.append(page)
        draw(page, stream)

    monkeypatch.setattr(drawn, "_original_draw_page", counted)
    return boxes


def test_the_pages_an_edit_leaves_are_written_as_drawn_before(monkeypatch):
    """Twelve briefs; the last rewritten in characters no page had: the pages before it are
    written from their last drawing, and the PDF (its fonts' glyphs, widths and text included)
    is the one drawing every page makes."""
    items = [paragraph(6 + n % 5) for n in range(12)]
    fonts = FontConfiguration()
    laid_out(items_html(items), fonts)
    boxes = drawn_again(monkeypatch)
    items[-1] = "<p>“鑫淼”焱垚，犇骉。" + "龘" * 40 + "</p>"
    document, edited = laid_out(items_html(items), fonts)
    pages = [page._page_box for page in document.pages]
    assert 0 < len(boxes) < len(pages) and boxes == pages[-len(boxes):]
    assert edited == laid_out(items_html(items), kept=False)[1]


def test_a_page_with_a_picture_is_drawn_again(monkeypatch):
    """A picture is a resource of the whole document: its page is drawn each time."""
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(picture, "PNG")
    source = "data:image/png;base64," + base64.b64encode(picture.getvalue()).decode()
    items = [f'<p><img src="{source}" style="width: 2em"></p>{paragraph(3)}',
             *(paragraph(6 + n % 5) for n in range(11))]
    fonts = FontConfiguration()
    laid_out(items_html(items), fonts)
    boxes = drawn_again(monkeypatch)
    items[-1] = paragraph(2)
    document, edited = laid_out(items_html(items), fonts)
    assert boxes[0] is document.pages[0]._page_box
    assert edited == laid_out(items_html(items), kept=False)[1]


def test_only_the_pages_drawn_again_have_their_backgrounds_laid_out(monkeypatch):
    """Briefs on grey: the backgrounds of a page whose drawing is replayed serve nothing and
    are not laid out; those of the pages drawn again are, and the PDF is the one laying the
    section out afresh makes."""
    items = [f'<p style="background: #ddd">{paragraph(6 + n % 5)[3:]}' for n in range(12)]
    fonts = FontConfiguration()
    laid_out(items_html(items), fonts)
    boxes = drawn_again(monkeypatch)
    backgrounds: list[object] = []
    lay_out = drawn._original_layout_backgrounds
    monkeypatch.setattr(drawn, "_original_layout_backgrounds",
                        lambda page, fetch: (backgrounds.append(page), lay_out(page, fetch)))
    items[-1] = f'<p style="background: #ddd">改{paragraph(8)[4:]}'
    document, edited = laid_out(items_html(items), fonts)
    assert 0 < len(boxes) < len(document.pages) and backgrounds == boxes
    assert edited == laid_out(items_html(items), kept=False)[1]
