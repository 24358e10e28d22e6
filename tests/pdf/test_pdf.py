"""The magazine PDF, checked from the PDF itself: geometry, columns, running heads, 目录,
bookmarks, page labels, fonts, the press variant, determinism and the missing-glyph error."""

from __future__ import annotations

import html
import re
import subprocess
import uuid
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader

from publisher import cjk
from publisher.errors import BuildError, PublisherError
from publisher.pdf.grid import MM, Grid
from publisher.source.markup import plain_paragraphs
from publisher.source.model import Kind
from tests.conftest import ROOT, ROOTS

BODY_PT = 10.5


@pytest.fixture(scope="session")
def reader(sample_pdf) -> PdfReader:
    return PdfReader(sample_pdf)


@pytest.fixture(scope="session")
def plumber(sample_pdf):
    with pdfplumber.open(sample_pdf) as pdf:
        yield pdf


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def band(page, top: float, bottom: float) -> str:
    return compact(page.crop((0, top, page.width, bottom)).extract_text() or "")


def page_text(page) -> str:
    """The page's text read whole, then column by column (a headline sits in one column)."""
    half = page.width / 2
    parts = [page, page.crop((0, 0, half, page.height)), page.crop((half, 0, page.width,
                                                                    page.height))]
    return "\n".join(compact(part.extract_text() or "") for part in parts)


def gutter(grid: Grid, index: int) -> tuple[float, float]:
    """x from and to of the gutter on page `index`; the cover, index 0, is a right-hand page."""
    _, _, inner, outer = grid.margins()
    left = inner if index % 2 == 0 else outer
    return left + grid.column_pt, left + grid.column_pt + grid.gutter_em * BODY_PT


def column_starts(reader: PdfReader) -> list[tuple[str, int]]:
    """Top-level bookmarks after 目录: (column name, page index)."""
    return [(item.title, reader.get_destination_page_number(item))
            for item in reader.outline if not isinstance(item, list)][1:]


def test_page_size_is_the_trim(reader, sample_issue):
    width, height = sample_issue.trim.width * MM, sample_issue.trim.height * MM
    for page in reader.pages:
        box = page.mediabox
        assert float(box.width) == pytest.approx(width, abs=0.05)
        assert float(box.height) == pytest.approx(height, abs=0.05)


def test_page_labels_match_printed_folios_odd_on_right_pages(reader, plumber, sample_issue):
    """封面 (a right page), 封二 (blank in the sample), then folio 1 on a right page: odd folios on
    right-hand pages, each at the outer edge; the back cover last, on a left page."""
    labels = reader.page_labels
    assert labels[:2] == ["封面", "封二"]
    assert labels[-1] == "封底"
    assert len(labels) % 2 == 0
    assert not plumber.pages[1].chars
    _, bottom, inner, outer = Grid(sample_issue.trim).margins()
    # The back cover is laid out before the page plan counts the blank pages before it, as a
    # right page here: its margins do not mirror, so its text block is centred.
    back = plumber.pages[-1]
    assert min(c["x0"] for c in back.chars) == pytest.approx((inner + outer) / 2, abs=0.5)
    # A blank 封三 stands before the back cover when the count needs one.
    numbers = labels[2:-2] if labels[-2] == "封三" else labels[2:-1]
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)]
    if labels[-2] == "封三":
        assert not plumber.pages[-2].chars
    for index, label in enumerate(numbers, start=2):
        page = plumber.pages[index]
        right_hand = index % 2 == 0  # the cover, index 0, is a right-hand page
        assert right_hand == (int(label) % 2 == 1), label
        foot = page.crop((0, page.height - bottom, page.width, page.height))
        if right_hand:
            assert compact(foot.extract_text()) == f"2015·10{label}"
            assert max(c["x1"] for c in foot.chars) == pytest.approx(page.width - outer, abs=1)
        else:
            assert compact(foot.extract_text()) == f"{label}2015·10"
            assert min(c["x0"] for c in foot.chars) == pytest.approx(outer, abs=1)


def test_running_head_names_the_column_of_every_body_page(reader, plumber, sample_issue):
    top, *_ = Grid(sample_issue.trim).margins()
    starts = column_starts(reader)
    # From 卷首语 up to the back cover, but for a blank 封三.
    body_pages = range(starts[0][1], starts[-1][1])
    for index in body_pages:
        if reader.page_labels[index] == "封三":
            continue
        column = [name for name, first in starts if first <= index][-1]
        assert band(plumber.pages[index], 0, top) == f"【{column}】", index
    # Cover, 封二, 目录 and back cover: no running head.
    for index in [*range(starts[0][1]), len(reader.pages) - 1]:
        assert "【" not in band(plumber.pages[index], 0, top), index


def test_two_column_pages_set_body_text_in_two_columns_of_21_characters(
        reader, plumber, sample_issue):
    grid = Grid(sample_issue.trim)
    starts = dict(column_starts(reader))
    full_width = {starts["卷首语"], len(reader.pages) - 1}
    checked = 0
    han: list[int] = []  # lengths of lines of Han characters only
    for index in range(starts["卷首语"], len(reader.pages)):
        if index in full_width:
            continue
        page = plumber.pages[index]
        x0, x1 = gutter(grid, index)
        # Not a line of 楷 (a 编者按 across the page), whose quotation marks are 宋's.
        kai = {round(c["top"]) for c in page.chars if "WenKai" in c["fontname"]}
        body = [c for c in page.chars if "Serif" in c["fontname"]
                and abs(c["size"] - BODY_PT) < 0.01 and round(c["top"]) not in kai]
        if len(body) < 200:
            continue
        # A mark set half width at a line's end or start leaves its blank half in the gutter.
        reach = {c["text"]: BODY_PT / 2 + 0.5 for c in body
                 if c["text"] in cjk.OPENING | cjk.LINE_END_COMPRESSIBLE}
        assert not [c["text"] for c in body if c["x1"] > x0 + reach.get(c["text"], 0.5)
                    and c["x0"] < x1 - reach.get(c["text"], 0.5)], index
        assert any(c["x1"] <= x0 + 0.5 for c in body), index
        assert any(c["x0"] >= x1 - 0.5 for c in body), index
        checked += 1
        # A line of plain Han text fills the column with 21 characters (typesetting rule 4).
        rows: dict[tuple[int, bool], list[str]] = {}
        for c in body:
            rows.setdefault((round(c["top"]), c["x0"] >= x1 - 0.5), []).append(c["text"])
        han += [len(r) for r in rows.values() if all("\u4e00" <= ch <= "\u9fff" for ch in r)]
    assert checked >= 8
    assert max(han) == grid.column_em
    assert max(set(han), key=han.count) == grid.column_em


def column_ends(issue) -> list[str]:
    """The last characters of each stretch of the issue set in two columns."""
    from publisher.pdf.html import blocks, item_html
    from publisher.templates import search_path

    folders = search_path(issue.root)
    ends = []
    for _, articles in issue.by_column():
        for block in blocks([item_html(a, folders) for a in articles]):
            if block.columns:
                ends.append(compact(html.unescape(re.sub(r"<[^>]+>", "", block.items[-1])))[-12:])
    return ends


def text_block(page, index: int, grid: Grid) -> tuple[list, list, list]:
    """The page's characters inside the text block (no running head or folio): all of them,
    those of the left column and those of the right one, each column in reading order."""
    top, bottom, _, _ = grid.margins()
    x0, x1 = gutter(grid, index)
    chars = [c for c in page.chars if c["text"].strip() and top - 1 < c["top"]
             and c["bottom"] < page.height - bottom + 1]

    def reading(c):
        return c["top"], c["x0"]
    return (chars, sorted((c for c in chars if c["x1"] <= x0 + 0.5), key=reading),
            sorted((c for c in chars if c["x0"] >= x1 - 0.5), key=reading))


def uneven_column_ends(pdf, issue) -> list[tuple[int, str, list[float]]]:
    """Where an article (or the box after it) ends, the pages whose two columns end more than
    a line apart; at least 20 ends are measured. A tail too short to split (widows and orphans
    of 2, an end note kept to its last line) is made longer from the page before, so it too
    ends level."""
    grid = Grid(issue.trim)
    ends = column_ends(issue)
    first, measured = 0, []
    for end in ends:  # in page order
        for index in range(first, len(pdf.pages)):
            chars, left, right = text_block(pdf.pages[index], index, grid)
            text = "".join(c["text"] for c in left + right)
            if end in text:
                break
        else:
            pytest.fail(f"the column end {end} is on no page")
        first = index
        # A glyph may stand for two characters (the font's —— is one glyph).
        owners = [c for c in left + right for _ in c["text"]]
        last = owners[text.rindex(end) + len(end) - 1]
        # The stretch lies between the full-width parts (title blocks) above and below its end.
        x0, x1 = gutter(grid, index)
        wide = [c["top"] for c in chars if c["x1"] > x0 + 0.5 and c["x0"] < x1 - 0.5]
        above = max((t for t in wide if t < last["top"]), default=0)
        below = min((t for t in wide if t > last["top"]), default=pdf.pages[index].height)
        start = min(c["top"] for c in left + right if above < c["top"])
        stretch = [[c for c in column if above < c["top"] < below] for column in (left, right)]
        feet = [max((c["bottom"] for c in column), default=start) for column in stretch]
        # In whole lines: a 楷 glyph's bottom lies a little below a 宋 one's on the same line.
        apart = round(abs(feet[0] - feet[1]) / grid.line_pt)
        measured.append((index + 1, end, feet, apart))
    assert len(measured) == len(ends) >= 20
    return [(page, end, feet) for page, end, feet, apart in measured if apart > 1]


def test_no_title_stands_at_a_page_foot_without_its_text(reader, plumber):
    """A title block kept with the columns after it: 吴永福's title and byline closed folio 40,
    and his text began overleaf."""
    stranded = []
    for label, page in zip(reader.page_labels, plumber.pages, strict=True):
        titles = [c["bottom"] for c in page.chars if c["size"] >= 15 and c["text"].strip()]
        if not label.isdigit() or not titles:
            continue
        if not any(round(c["size"], 1) == BODY_PT and c["top"] > max(titles)
                   for c in page.chars):
            stranded.append(label)
    assert stranded == []


def test_a_briefs_kicker_stays_one_line(plumber, sample_issue):
    """刘云山…座谈会上强调 wrapped at 9.5 pt, leaving 强调 alone on a line."""
    lines = {compact(line["text"]) for page in plumber.pages
             for half in (page.crop((0, 0, page.width / 2, page.height)),
                          page.crop((page.width / 2, 0, page.width, page.height)))
             for line in half.extract_text_lines()}
    kickers = [a.kicker for a in sample_issue.articles if a.kicker and a.kind.value == "brief"]
    assert len(kickers) == 5
    assert [kicker for kicker in kickers if kicker not in lines] == []


def test_columns_end_balanced(plumber, sample_issue):
    """Where an article (or the box after it) ends, its two columns are about equally long."""
    assert not uneven_column_ends(plumber, sample_issue)


def test_a4_keeps_every_typesetting_rule(a4_sample):
    from publisher.check import check_pdf

    issue, path, pdf = a4_sample
    assert (issue.trim.width, issue.trim.height) == (210, 297)
    assert float(pdf.pages[0].height) == pytest.approx(297 * MM, abs=0.05)
    report = check_pdf(path)
    # Rule 10 (loose lines) is a counted figure: no more than Vivliostyle's 8.
    assert {n for rule, n in report.totals().items() if rule != 10} == {0}, report.format()
    assert report.totals()[10] <= 8, report.format()
    assert report.full_lines > 3000


def test_a4_columns_end_balanced(a4_sample):
    issue, _, pdf = a4_sample
    assert not uneven_column_ends(pdf, issue)


def test_toc_page_numbers_are_the_pages_where_the_articles_start(reader, plumber, sample_issue):
    by_anchor = {a.anchor: a for a in sample_issue.articles}
    labels = reader.page_labels
    toc_pages = range(2, column_starts(reader)[0][1])  # after the cover and 封二, before 卷首语
    numbers: dict[str, tuple[int, list]] = {}
    for index in toc_pages:
        for annot in reader.pages[index].get("/Annots", []):
            annot = annot.get_object()
            rect = [float(v) for v in annot["/Rect"]]
            numbers.setdefault(str(annot["/Dest"]), (index, []))[1].append(rect)
    # Every item but a 微书摘 box: untitled ones under their column and first words.
    listed = [a for a in sample_issue.articles if a.kind != Kind.box]
    assert set(numbers) == {a.anchor for a in listed}
    for anchor, (index, rects) in numbers.items():
        page = plumber.pages[index]
        x0 = min(min(r[0], r[2]) for r in rects)
        x1 = max(max(r[0], r[2]) for r in rects)
        y0 = min(min(r[1], r[3]) for r in rects)
        y1 = max(max(r[1], r[3]) for r in rects)
        printed = compact(page.crop((x0, page.height - y1, x1, page.height - y0)).extract_text())
        item = by_anchor[anchor]
        assert printed == "封底" if item.kind == Kind.back_cover else printed.isdigit(), printed
        target = labels.index(printed)
        opening = item.title[0] if item.title else plain_paragraphs(item.body)[0][:10]
        assert compact(opening) in page_text(plumber.pages[target]), anchor


def test_no_column_name_of_the_toc_stands_alone_at_a_column_foot(reader, plumber, sample_issue):
    """Each column's name in the 目录 has its first entry under it, in the same column."""
    names = {column.name for column in sample_issue.columns}
    seen = set()
    for index in range(2, column_starts(reader)[0][1]):
        page = plumber.pages[index]
        for half in (page.crop((0, 0, page.width / 2, page.height)),
                     page.crop((page.width / 2, 0, page.width, page.height))):
            lines = half.extract_text_lines()
            for at, line in enumerate(lines):
                if compact(line["text"]) in names:
                    seen.add(compact(line["text"]))
                    following = lines[at + 1:at + 2]
                    assert following and following[0]["top"] - line["bottom"] < 20, \
                        f"{line['text']} stands alone at the foot of a column on p. {index + 1}"
    assert seen == names, names - seen  # every column of the sample lists an item


def test_bookmarks_go_from_column_to_article(reader, sample_issue):
    from publisher.epub.nav import nav_label

    expected = []  # every item but a box, named as in the 目录 and the EPUB
    for column, articles in sample_issue.by_column():
        titles = [nav_label(a, sample_issue) for a in articles if a.kind != Kind.box]
        expected.append((column.name, titles))
    outline = reader.outline
    assert outline[0].title == "目录"
    got = []
    items = outline[1:]
    for i, item in enumerate(items):
        if isinstance(item, list):
            continue
        children = items[i + 1] if i + 1 < len(items) and isinstance(items[i + 1], list) else []
        flat = []
        for child in children:  # a series heading holds its speeches one level down
            flat.extend(c.title for c in (child if isinstance(child, list) else [child]))
        got.append((item.title, flat))
    assert [c for c, _ in got] == [c for c, _ in expected]
    assert [compact(" ".join(t)) for _, t in got] == [compact(" ".join(t)) for _, t in expected]


def test_fonts_are_embedded_and_subset(reader):
    seen = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font
                          else font)["/FontDescriptor"]
            assert any(k.startswith("/FontFile") for k in descriptor), font["/BaseFont"]
            assert re.match(r"/[A-Z]{6}\+", font["/BaseFont"]), font["/BaseFont"]
            seen.add(font["/BaseFont"].split("+")[1])
    assert {"Noto-Serif-CJK-SC", "Noto-Sans-CJK-SC-Bold", "LXGW-WenKai"} <= seen


def test_metadata(reader, sample_issue):
    assert reader.metadata.title == f"{sample_issue.magazine} {sample_issue.label}"
    assert reader.metadata["/Keywords"]
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    assert reader.metadata["/CreationDate"] == "D:20151001000000Z"


def test_press_variant_has_bleed_crop_marks_output_intent_and_pages_in_fours(
        sample_press_pdf, sample_issue):
    press = PdfReader(sample_press_pdf)
    assert len(press.pages) % 4 == 0
    width, height = sample_issue.trim.width * MM, sample_issue.trim.height * MM
    bleed = 3 * MM
    for page in press.pages:
        trim, media, bleed_box = page.trimbox, page.mediabox, page.bleedbox
        assert float(trim.width) == pytest.approx(width, abs=0.05)
        assert float(trim.height) == pytest.approx(height, abs=0.05)
        assert float(media.width) > width + 2 * bleed  # room for the marks
        assert float(bleed_box.left) == pytest.approx(float(trim.left) - bleed, abs=0.05)
        assert float(bleed_box.top) == pytest.approx(float(trim.top) + bleed, abs=0.05)
    intent = press.trailer["/Root"]["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFX"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 4  # a CMYK profile
    assert press.page_labels[-1] == "封底"
    for page in press.pages:  # colours are CMYK: no RGB fill or stroke for the printer
        assert not re.search(rb"\s(rg|RG)\s", page.get_contents().get_data())
    with pdfplumber.open(sample_press_pdf) as pdf:
        page, box = pdf.pages[5], press.pages[5]
        left, right = float(box.bleedbox.left), float(box.bleedbox.right)  # pdfplumber's x too
        marks = [line for line in page.lines if line["x1"] < left or line["x0"] > right]
        assert len(marks) >= 4  # crop marks beyond the bleed, at least one per corner
    # The marks are in the registration colour, on every plate.
    registration = box["/Resources"]["/ColorSpace"]["/Registration"].get_object()
    assert registration[:2] == ["/Separation", "/All"]


def test_press_slug_is_clean_beyond_the_bleed(sample_press_pdf, tmp_path):
    """The cover's red stops 3 mm past the trim: the slug beyond, where the crop marks are,
    stays paper, as a printer expects."""
    from PIL import Image

    page = PdfReader(sample_press_pdf).pages[0]
    media, bleed = page.mediabox, page.bleedbox
    subprocess.run(["pdftoppm", "-r", "36", "-png", "-f", "1", "-l", "1", str(sample_press_pdf),
                    str(tmp_path / "cover")], check=True)
    (png,) = tmp_path.glob("cover*.png")
    image = Image.open(png).convert("RGB")
    scale = image.width / float(media.width)
    slug = (float(media.top) - float(bleed.top)) * scale
    mid_x = image.width // 2
    assert image.getpixel((mid_x, int(slug) + 3)) != (255, 255, 255)  # red inside the bleed
    assert {image.getpixel((mid_x, y)) for y in range(int(slug) - 1)} == {(255, 255, 255)}


@pytest.mark.parametrize("press, labels, added", [
    (False, ["封面", "封二", "1", "2", "封三", "封底"], 0),
    (True, ["封面", "封二", "1", "2", "3", "4", "封三", "封底"], 2),
])
def test_blank_pages_put_the_back_cover_last_on_a_left_page(tmp_path, caplog, press, labels,
                                                            added):
    from publisher.context import resolve
    from publisher.pdf import write_pdf
    from publisher.source.load import load_issue

    target = tmp_path / "covers.pdf"
    write_pdf(resolve(load_issue(ROOTS / "pdf-covers")), target, press=press)
    assert PdfReader(target).page_labels == labels
    with pdfplumber.open(target) as pdf:
        text = [compact(page.extract_text()) for page in pdf.pages]
    assert text[1] == "封二图片说明"  # the issue's own layout fills 封二; no folio, no head
    assert text[4:-1] == [""] * (len(labels) - 5)  # 封三 and the pages added are blank
    assert text[-1] == "封底图片同心县张家塬乡封底正文。"
    warning = (f"added {added} blank page(s) at the end of the inside pages: a saddle-stitched "
               "issue needs a page count that is a multiple of 4")
    assert [m for m in caplog.messages if "blank page" in m] == [warning] * bool(added)


@pytest.mark.parametrize("variant", ["sample_pdf", "sample_press_pdf"])
def test_same_sources_give_the_same_bytes(variant, request, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import SAMPLE

    built = Path(request.getfixturevalue(variant))
    flags = ["--pdf", "--press"] if variant == "sample_press_pdf" else ["--pdf"]
    # Another process (no cached item HTML) with another hash seed and an empty build cache, as
    # a rebuild another day on another machine.
    subprocess.run([sys.executable, "-m", "publisher.cli", "-q", "build", str(SAMPLE), "-o",
                    str(tmp_path), *flags], check=True,
                   env={**os.environ, "PYTHONHASHSEED": "12345",
                        "PUBLISHER_CACHE": str(tmp_path / "cache")})
    assert (tmp_path / built.name).read_bytes() == built.read_bytes()


def test_a_character_without_a_glyph_stops_the_build(tmp_path):
    from publisher.context import resolve
    from publisher.pdf import write_pdf
    from publisher.source.load import load_issue

    root = ROOTS / "pdf-missing-glyph"
    target = tmp_path / "out.pdf"
    with pytest.raises(BuildError) as caught:
        write_pdf(resolve(load_issue(root)), target)
    assert str(caught.value) == (
        f"{root / 'articles' / '10-tofu.md'}:9: no font of this text's role has a glyph for "
        "‘\U0010fffd’ (U+10FFFD); replace the character or name a font that has it in "
        "fonts/fonts.yaml")
    assert not target.exists()


def test_toc_lists_every_author_names_and_organisations(tmp_path):
    """As the EPUB's 目录 does: 孙瑛 (with a position) and 石嘴山市委组织部, in byline order."""
    from publisher.context import resolve
    from publisher.pdf import write_pdf
    from publisher.source.load import load_issue

    issue = load_issue(ROOTS / "good-minimal")
    target = tmp_path / "out.pdf"
    write_pdf(resolve(issue), target)
    with pdfplumber.open(target) as pdf:
        toc = compact(pdf.pages[2].extract_text())
    assert toc.startswith("目录")
    assert "第一行第二行孙瑛石嘴山市委组织部" in toc


def test_a_title_without_a_glyph_is_blamed_on_its_article_not_the_manifest(tmp_path):
    """The 目录 sets the title first; its entry names the article too."""
    from publisher.context import resolve
    from publisher.pdf import write_pdf
    from publisher.source.load import load_issue

    root = ROOTS / "pdf-missing-glyph-title"
    with pytest.raises(BuildError) as caught:
        write_pdf(resolve(load_issue(root)), tmp_path / "out.pdf")
    assert str(caught.value).startswith(
        f"{root / 'articles' / '10-title.md'}:3: no font of this text's role has a glyph for "
        "‘\U0010fffd’ (U+10FFFD)")


def test_an_issue_layout_overrides_and_extends_the_project_layout():
    from publisher.context import resolve
    from publisher.pdf.html import issue_html
    from publisher.source.load import load_issue
    from publisher.templates import environment, render, search_path

    root = ROOTS / "pdf-layout-override"
    html = issue_html(resolve(load_issue(root)))
    assert '<p class="special-edition">特刊</p>' in html
    assert '<section class="toc" id="toc">' in html
    with pytest.raises(BuildError) as caught:
        render(environment(search_path(root)), "nowhere.html.j2")
    assert str(caught.value) == (
        f"layout template `nowhere.html.j2` not found in: {root / 'layouts'}, "
        f"{ROOT / 'layouts'}")


def test_the_issue_template_uses_all_it_is_given(monkeypatch):
    """issue_html passes magazine.html.j2 (and the partials it includes) nothing unused."""
    from jinja2 import meta

    from publisher import templates
    from publisher.context import resolve
    from publisher.pdf.html import issue_html
    from publisher.source.load import load_issue

    given: dict[str, object] = {}
    real = templates.render

    def spy(env, name, **context):
        if name == "magazine.html.j2":
            given.update(context)
        return real(env, name, **context)

    monkeypatch.setattr(templates, "render", spy)
    issue_html(resolve(load_issue(ROOTS / "good-minimal")))
    env = templates.environment(templates.search_path(None))
    used: set[str] = set()
    todo, seen = ["magazine.html.j2"], set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            tree = env.parse(env.loader.get_source(env, name)[0])
            used |= meta.find_undeclared_variables(tree)
            todo += [t for t in meta.find_referenced_templates(tree) if t]
    assert "partials/toc.html.j2" in seen
    assert given and set(given) <= used, set(given) - used


def test_a_title_is_sized_by_its_longest_line_and_no_lines_print_nothing():
    from publisher.templates import environment, search_path

    macro = environment(search_path(None)).from_string(
        '{% from "partials/title.html.j2" import title_lines %}'
        "{{ title_lines(lines, 'title', item) }}")
    assert macro.render(lines=[], item=None).strip() == ""
    assert macro.render(lines=["党建", "引领发展"], item="a-10").strip() == (
        '<h2 class="title" data-item="a-10" style="--title-chars: 4"><span class="line">党建'
        '</span><span class="line">引领发展</span></h2>')


def test_a_box_alone_on_a_page_is_reported(sample_issue, caplog):
    from publisher.pdf.laid_out import warn_lone_boxes

    box = next(a for a in sample_issue.articles if a.kind == Kind.box)
    article = next(a for a in sample_issue.articles if a.kind == Kind.article)
    warn_lone_boxes([(4, article, None), (5, article, None), (5, box, None), (5, None, None),
                     (6, box, None), (6, None, None), (7, article, None)])
    assert caplog.messages == [f"{box.path}: this box has a page to itself (PDF page 7): move "
                               "it after an article that ends with room to spare"]


def test_the_patches_refuse_another_weasyprint(monkeypatch):
    from publisher.pdf import weasyprint as engine

    monkeypatch.setattr(engine, "_installed_version", lambda: "71.0")
    with pytest.raises(BuildError, match="patches WeasyPrint 70.0, but 71.0 is installed"):
        with engine.patched(uuid.uuid4()):
            pass


def test_the_patches_are_removed_after_a_build(sample_pdf):
    """A build leaves WeasyPrint as it found it, so a bare run in the same process is bare."""
    from weasyprint.layout import block, column, inline
    from weasyprint.text import line_break

    from publisher.pdf.weasyprint import balance, justify

    assert inline.justify_line is justify._original_justify_line
    assert line_break.Layout.get_first_line is justify._original_get_first_line
    assert block.columns_layout is column.columns_layout is balance._original_columns_layout


def test_balanced_columns_keep_widows_on_a_page_they_open(tmp_path):
    """A paragraph's last three lines and a note open page 2 (columns of five lines): split 2
    and 1, the last line would stand alone atop the second column. WeasyPrint keeps widows only
    where it could push lines to the next page, not in a box that opens the page."""
    import weasyprint

    from publisher.check import check_pdf, read_printed_lines
    from publisher.pdf.weasyprint import patched

    text = ("社区党建工作要坚持以人民为中心的发展思想不断提高服务群众能力和水平推动基层组织建设"
            "全面进步深化改革创新加强干部队伍建设严格落实管党治党责任营造风清气正良好政治生态") * 4
    html = ('<html lang="zh"><head><style>@page { size: 190mm 145pt; margin: 28.5pt 10mm }'
            "body { margin: 0; font: 10.5pt/17.5pt 'Noto Serif CJK SC' }"
            "div { columns: 2; column-gap: 2em; column-fill: balance; width: calc(44em + 0.02pt) }"
            "p { margin: 0; text-indent: 2em; text-align: justify; orphans: 2; widows: 2 }"
            ".note { text-align: right; margin-top: 8.75pt }"
            f"</style></head><body><div><p>{text[:19 + 11 * 21 + 10]}。</p>"
            '<p class="note">（执笔：刘国强）</p></div></body></html>')
    pdf = tmp_path / "tail.pdf"
    with patched(uuid.uuid4()):
        weasyprint.HTML(string=html).write_pdf(pdf)
    page_2 = [line for line in read_printed_lines(pdf) if line.page == 2]
    middle = 10 * MM + 22 * BODY_PT  # the gutter's middle: margin, 21em column, half the gap
    assert [line.text[-2:] for line in page_2 if line.x1 < middle] == ["治党", "作要", "发。"]
    assert [line.text for line in page_2 if line.x0 > middle] == ["（执笔：刘国强）"]
    assert check_pdf(pdf).totals()[7] == 0


def test_long_brief_headlines_are_cut_evenly_between_words():
    from publisher.pdf.html import HEADLINE_CHARS, headline_lines

    assert headline_lines(("党员注意！新版党纪处分条例列生活纪律等六大类清单",)) == [
        "党员注意！新版党纪处分", "条例列生活纪律等六大类清单"]
    # A space between phrases is where a line is cut, and it is not printed.
    assert headline_lines(("坚持长期系统培养 注重择优统筹配备努力形成结构合理",)) == [
        "坚持长期系统培养", "注重择优统筹配备努力形成结构合理"]
    # Never a closing mark at a line start, nor an opening one at a line end.
    long_title = ("中办印发《关于在深化国有企业改革中坚持党的领导加强党的建设的若干意见》"
                  "（全文）发布实施")
    for line in headline_lines((long_title,)):
        assert 2 <= len(line) <= HEADLINE_CHARS
        assert line[0] not in "》）”，、" and line[-1] not in "《（“"
    assert headline_lines(("五中全会公报不能错过的7个要点",)) == ["五中全会公报不能错过的7个要点"]


def test_every_brief_headline_line_prints_whole_on_one_line(plumber, sample_issue):
    from publisher.pdf.html import headline_lines

    printed = set()
    for page in plumber.pages:
        half = page.width / 2
        for part in (page.crop((0, 0, half, page.height)),
                     page.crop((half, 0, page.width, page.height))):
            printed |= {compact(line["text"]) for line in part.extract_text_lines()}
    briefs = [a for a in sample_issue.articles if a.kind.value == "brief"]
    missing = [line for a in briefs for line in headline_lines(a.title)
               if compact(line) not in printed]
    assert missing == []


@pytest.mark.parametrize("template, line, message", [
    ("目录\n{% if %}\n", 2,
     "layout template: Expected an expression, got 'end of statement block'"),
    ("目录\n\n{{ issue.nosuch }}\n", 3,
     "layout template: 'publisher.source.model.Issue object' has no attribute 'nosuch'"),
])
def test_a_broken_issue_layout_names_its_file_and_line(tmp_path, template, line, message):
    import shutil

    from publisher.context import resolve
    from publisher.pdf.html import issue_html
    from publisher.source.load import load_issue

    root = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", root)
    toc = root / "layouts" / "partials" / "toc.html.j2"
    toc.parent.mkdir(parents=True)
    toc.write_text(template, encoding="utf-8")
    # A syntax error is found when the issue loads (validate reports it), others on rendering.
    with pytest.raises(PublisherError) as caught:
        issue_html(resolve(load_issue(root)))
    assert str(caught.value) == f"{toc}:{line}: {message}"


@pytest.fixture
def web_server():
    """A local web server that counts the requests it gets; yields its address and the count."""
    import http.server
    import threading

    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()
    thread.join()


def test_pictures_read_only_files_of_the_issue(tmp_path, web_server):
    """A picture inside the issue folder is embedded; an SVG's own image from elsewhere on the
    machine and a picture on the network are refused (never fetched) and stop the build."""
    import shutil

    from publisher.context import resolve
    from publisher.pdf import write_pdf
    from publisher.source.load import load_issue

    address, asked = web_server
    root = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", root)
    secret = tmp_path / "secret.png"
    shutil.copy(root / "articles" / "images" / "photo.png", secret)
    partial = root / "layouts" / "partials" / "inside-front-cover.html.j2"
    partial.parent.mkdir(parents=True)
    partial.write_text("", encoding="utf-8")
    (partial.parent / "drawing.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
        f'<image href="{secret.as_uri()}" width="20" height="20"/></svg>', encoding="utf-8")
    target = tmp_path / "out.pdf"

    # The manuscript's own picture is in the issue folder.
    write_pdf(resolve(load_issue(root)), target)
    images = {image.data for page in PdfReader(target).pages for image in page.images}
    assert len(images) == 1  # the pages share one resource dictionary

    # The line that asked is named where a layout wrote it (not inside an SVG).
    for picture, refused, where in [
            ('<img src="layouts/partials/drawing.svg">', secret.as_uri(), ""),
            (f'<img src="{address}/photo.png">', f"{address}/photo.png", f"{partial}:1: ")]:
        partial.write_text(picture, encoding="utf-8")
        target.unlink(missing_ok=True)
        with pytest.raises(BuildError) as caught:
            write_pdf(resolve(load_issue(root)), target)
        assert str(caught.value) == (
            f"{where}a picture or layout refers to {refused}: a build reads only files in the "
            "issue folder, its layouts and fonts folders, and never the network")
        assert not target.exists()
    assert asked == []


def test_weasyprints_message_of_a_failed_load_gives_way_to_the_builds_own_line():
    """The build stops on a refused fetch with its line, so WeasyPrint's message is not shown
    too; a file WeasyPrint fails to load in a later layout of the same process (`watch`) is
    not taken for that one: the build stops on it with WeasyPrint's reason."""
    import logging

    from publisher.pdf import _FailedFetches, _unloaded, fetcher

    url = "file:///etc/hostname"
    record = logging.LogRecord("weasyprint", logging.ERROR, "", 0,
                               "Failed to load image at %r: %s", (url, "refused"), None)
    with pytest.raises(ValueError):
        fetcher(()).fetch(url)
    assert not _FailedFetches().filter(record)
    assert _unloaded == {}
    fetcher(())
    assert not _FailedFetches().filter(record)
    assert _unloaded == {url: "WeasyPrint could not read it (refused)"}


def ruled_column_tops(pdf, trim) -> list[int]:
    """Pages where a rule as wide as a column stands in the first line of the text block."""
    grid = Grid(trim)
    top = grid.margins()[0]
    return [index + 1 for index, page in enumerate(pdf.pages)
            for shape in page.rects + page.lines
            if top - 1 < shape["top"] < top + grid.line_pt
            and abs(shape["width"] - grid.column_pt) < 1]


def test_no_brief_opens_a_column_under_a_rule(plumber, sample_issue, a4_sample):
    # The rule that parts two briefs is drawn as the later one's top border; at a column's top
    # it would stand under the running head (the sample had them on pages 7 and 9).
    assert ruled_column_tops(plumber, sample_issue.trim) == []
    issue, _, pdf = a4_sample
    assert ruled_column_tops(pdf, issue.trim) == []


def test_press_marks_keep_what_any_page_draws(tmp_path):
    """A page's /Contents: one stream, an array of them by reference, or none (a blank page):
    each page draws what it drew, clipped to its bleed, then the marks."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject, RectangleObject

    from publisher.pdf.pages import mark_for_press

    writer = PdfWriter()
    drawn = []
    for _ in range(3):
        page = writer.add_blank_page(200, 300)
        page.trimbox = RectangleObject((20, 20, 180, 280))
        stream = DecodedStreamObject()
        stream.set_data(b"0 0 0 1 k 0 0 200 300 re f")
        drawn.append(writer._add_object(stream))
    writer.pages[0][NameObject("/Contents")] = drawn[0]
    writer.pages[1][NameObject("/Contents")] = writer._add_object(ArrayObject(drawn[1:]))
    mark_for_press(writer, 3 * MM)
    writer.write(tmp_path / "marked.pdf")
    pages = PdfReader(tmp_path / "marked.pdf").pages
    for page, expected in zip(pages, ([b"0 0 200 300 re f"], [b"0 0 200 300 re f"] * 2, []),
                              strict=True):
        parts = [part.get_object().get_data() for part in page["/Contents"]]
        assert parts[0].startswith(b"q ") and b"re W n" in parts[0]
        assert [p.split(b"k ")[-1] for p in parts[1:-1]] == expected
        assert parts[-1].startswith(b"Q\n") and b"/Registration CS" in parts[-1]
