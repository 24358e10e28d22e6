"""The files each issue and year publish: the screen PDF, the covers, the annual index PDF."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from publisher.catalog.annual import PDF, annual_columns, publish_annual
from publisher.catalog.paths import issue_folder, year_folder
from publisher.catalog.publish import THUMBNAIL_WIDTH
from publisher.errors import BuildError
from tests.catalog.conftest import ISSUES

MM = 72 / 25.4
CMYK_OPERATOR = re.compile(rb"(?<![\w/])(k|K)\s")  # DeviceCMYK fill and stroke colours


@pytest.fixture(scope="module")
def records(site) -> list[dict]:
    return list(json.loads((site / "catalog.json").read_text(encoding="utf-8"))["issues"].values())


def screen_pdfs(site):
    return sorted(site.glob("*/*/*-screen.pdf"))


def color_spaces(reader: PdfReader) -> set[str]:
    """Every colour space named in the pages' resources, images included."""
    found: set[str] = set()

    def walk(value, seen):
        if isinstance(value, IndirectObject):
            if value.idnum in seen:
                return
            seen.add(value.idnum)
            value = value.get_object()
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "/ColorSpace" and isinstance(item.get_object(), str):
                    found.add(str(item.get_object()))
                walk(item, seen)
        elif isinstance(value, list):
            for item in value:
                walk(item, seen)
        elif isinstance(value, str) and value.startswith("/Device"):
            found.add(value)

    for page in reader.pages:
        walk(page.get("/Resources"), set())
    return found


def test_screen_pdfs_are_rgb_without_bleed_or_marks(site):
    assert len(screen_pdfs(site)) == len(ISSUES)
    for path in screen_pdfs(site):
        reader = PdfReader(path)
        assert "/DeviceCMYK" not in color_spaces(reader), path.name
        for page in reader.pages:
            assert not CMYK_OPERATOR.search(page.get_contents().get_data()), path.name
            box = [round(float(v), 2) for v in page.mediabox]
            assert box == [0, 0, round(210 * MM, 2), round(285 * MM, 2)], path.name
            for other in ("/TrimBox", "/BleedBox"):
                assert [round(float(v), 2) for v in page.get(other, page.mediabox)] == box


def test_screen_pdfs_are_tagged_with_bookmarks_and_page_labels(library, site):
    from publisher.source.load import load_issue

    state = json.loads((site / "catalog.json").read_text(encoding="utf-8"))["issues"]
    for name, record in state.items():
        path = site / issue_folder(record) / record["files"]["pdf"]["name"]
        reader = PdfReader(path)
        root = reader.trailer["/Root"]
        assert root["/MarkInfo"]["/Marked"].value is True
        tree = root["/StructTreeRoot"].get_object()
        assert tree["/K"] and "/ParentTree" in tree
        assert root["/Lang"]
        labels = reader.page_labels
        # Folios from 1, then 封三 if the page count needed a blank page, then 封底.
        inside = labels[2:-2] if labels[-2] == "封三" else labels[2:-1]
        assert labels[:2] == ["封面", "封二"] and labels[-1] == "封底"
        assert inside == [str(n) for n in range(1, len(inside) + 1)] and inside
        bookmarks = [item.title for item in reader.outline if not isinstance(item, list)]
        columns = dict.fromkeys(column.name for column, _ in load_issue(library / name).by_column())
        assert bookmarks == ["目录", *columns]


def test_covers_and_thumbnails_are_pngs_of_the_trim_proportions(site):
    """A thumbnail is the cover made small, and light: a phone lists a year of them (the
    catalogue's index, an OPDS feed)."""
    from PIL import Image, ImageChops, ImageStat

    covers = sorted(site.glob("*/*/cover.png"))
    assert len(covers) == len(ISSUES)
    for cover in covers:
        thumbnail = cover.with_name("thumbnail.png")
        with Image.open(cover) as big, Image.open(thumbnail) as small:
            assert big.format == small.format == "PNG"
            assert small.width == THUMBNAIL_WIDTH
            assert abs(big.height / big.width - 285 / 210) < 0.01
            assert abs(small.height / small.width - 285 / 210) < 0.01
            resized = big.convert("RGB").resize(small.size, Image.LANCZOS)
            difference = ImageStat.Stat(ImageChops.difference(resized, small.convert("RGB")))
            assert max(difference.mean) < 1.5  # of 255: the same picture
        assert thumbnail.stat().st_size < 32 * 1024


def pdf_text(path) -> str:
    """The PDF's text in the order it was set (-raw), column after column, without spaces."""
    text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)


def test_annual_index_lists_every_listed_item_with_issue_and_folio(site, records):
    by_year: dict[tuple[str, int], list[dict]] = {}
    for record in records:
        by_year.setdefault((record["magazine"], record["year"]), []).append(record)
    assert len(list(site.glob(f"*/*/{PDF}"))) == len(by_year) == 3
    for (magazine, year), group in by_year.items():
        path = site / year_folder(magazine, year) / PDF
        text = pdf_text(path)
        assert f"{year}年总目录" in text and magazine in text
        reader = PdfReader(path)
        assert reader.trailer["/Root"]["/MarkInfo"]["/Marked"].value is True
        columns = [item.title for item in reader.outline[1:] if not isinstance(item, list)]
        if not columns:  # the column bands nest under the title's bookmark
            columns = [item.title for item in reader.outline[1]]
        html = (path.parent / "index.html").read_text(encoding="utf-8")
        for record in group:
            for column in record["contents"]:
                assert column["column"] in columns
                for item in column["items"]:
                    title = re.sub(r"\s+", "", item["title"])
                    assert title in text, title
                    assert f"{record['month']}·{item['folio']}" in text, (title, item["folio"])
                    assert item["title"] in html
                    assert f'href="../{record["stem"]}/index.html">{record["month"]}期</a>·' \
                           f'{item["folio"]}' in html


def test_annual_index_keeps_each_issues_column_order_when_the_columns_change():
    """A column the year's last issue does not have goes after the one before it where it was
    printed; the 封底 stays last."""
    def record(month: int, names: str) -> dict:
        return {"month": month, "stem": f"2015-{month:02d}", "contents": [
            {"column": name, "order": place, "items": [{"title": f"{name}{month}"}]}
            for place, name in enumerate(names.split())]}

    october = record(10, "卷首语 要闻要论 领导论坛 调查研究 经验交流 干部心得 以史为鉴 封底")
    november = record(11, "特稿 卷首语 要闻要论 专题 调查研究 封底")
    columns = annual_columns([october, november])
    assert [column["column"] for column in columns] == [
        "特稿", "卷首语", "要闻要论", "领导论坛", "专题", "调查研究", "经验交流", "干部心得",
        "以史为鉴", "封底"]
    assert [item["title"] for item in columns[-1]["items"]] == ["封底10", "封底11"]


def test_annual_index_pdf_looks_like_the_magazine(site):
    path = next(site.glob(f"*/2015/{PDF}"))
    reader = PdfReader(path)
    assert [round(float(v)) for v in reader.pages[0].mediabox] == [0, 0, 595, 808]
    # The 目录's red column bands, in screen colours like the screen PDFs.
    content = b"".join(page.get_contents().get_data() for page in reader.pages)
    assert not CMYK_OPERATOR.search(content)
    assert re.search(rb"0\.78\d* 0\.06\d* 0\.18\d* rg", content)


@pytest.mark.parametrize(("written", "refused"), [
    ('<a href="file:///etc/passwd">看这里</a>', "a link to `file:///etc/passwd`"),
    ('<img src="file:///etc/hostname">', "refers to file:///etc/hostname"),
    ("{{ 'x' | center(10 ** 8) }}", "`|center` would make a value too large for a layout to hold"),
])
def test_a_librarys_annual_index_layout_is_held_to_what_an_issues_layouts_may_do(tmp_path,
                                                                               written, refused):
    """An annual-index.html.j2 put a `file:` link into the published PDF, a picture from
    elsewhere on the machine was left out without a word, and a width took the memory."""
    layouts = tmp_path / "library" / "layouts"
    layouts.mkdir(parents=True)
    (layouts / "annual-index.html.j2").write_text(
        f'<!DOCTYPE html>\n<html lang="zh-CN"><body>\n<p>{written}</p>\n</body></html>\n',
        encoding="utf-8")
    record = {"magazine": "测试月刊", "year": 2015, "month": 10, "label": "2015·10",
              "language": "zh-CN", "stem": "2015-10", "updated": "2015-10-01", "contents": [],
              "id": "urn:uuid:0c5b2e1e-4a3b-5c6d-8e9f-0a1b2c3d4e5f"}
    with pytest.raises(BuildError) as raised:
        publish_annual(str(layouts.parent), [record])
    assert refused in raised.value.message
    assert (raised.value.path, raised.value.line) == (layouts / "annual-index.html.j2", 3)


def test_an_issue_claiming_a_masthead_does_not_set_its_annual_index(tmp_path):
    """The index was set in the own layouts of the year's last issue, whichever folder claimed
    the magazine in its issue.yaml: one issue from outside set what it says of every other."""
    from publisher.catalog.site import build_catalog
    from publisher.templates import shipped
    from tests.catalog.conftest import make_issue

    library = tmp_path / "library"
    make_issue(library / "gcdr-2015-11", "共产党人", 2015, 11, ("020",))
    hostile = make_issue(library / "claimed-2015-12", "共产党人", 2015, 12, ("030",))
    (hostile / "layouts").mkdir()
    (hostile / "layouts" / "annual-index.html.j2").write_text(
        "<!DOCTYPE html>\n<html><body><p>本刊已停刊</p></body></html>\n", encoding="utf-8")
    # The distributor's own: the project's template with a line of its own.
    shutil.copytree(shipped("layouts"), library / "layouts", ignore=shutil.ignore_patterns(
        "catalog", "epub", "partials", "*.css", "magazine.html.j2", "furniture.html.j2"))
    index = library / "layouts" / "annual-index.html.j2"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "</section>", "<p>本站发行</p>\n</section>"), encoding="utf-8")
    site = tmp_path / "site"
    summary = build_catalog(library, site, jobs=1)
    assert summary.ok, summary.lines()
    text = pdf_text(site / year_folder("共产党人", 2015) / PDF)
    assert "本刊已停刊" not in text
    assert "本站发行" in text and "2015年总目录" in text
    records = json.loads((site / "catalog.json").read_text(encoding="utf-8"))["issues"].values()
    for record in records:
        for column in record["contents"]:
            for item in column["items"]:
                assert f"{record['month']}·{item['folio']}" in text, item["title"]
