"""After layout the build says where the layout went wrong, as `path: p. N: message`: each item
of tests/roots/layout-warnings provokes one warning; the sample names only what is wrong with
it. Pictures an editor places (`{width=60 span=page}`), measured on the built file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader

from publisher.errors import IssueErrors
from publisher.pdf.grid import Grid
from tests.conftest import BUILD_WARNINGS, ROOTS, build_logged

WARNINGS = ROOTS / "layout-warnings"


@pytest.fixture(scope="session")
def warnings_pdf(tmp_path_factory) -> Path:
    (path,) = build_logged(WARNINGS, tmp_path_factory.mktemp("warnings"), pdf=True, epub=False)
    return path


def article(name: str) -> Path:
    return WARNINGS / "articles" / name


def test_each_layout_problem_is_reported_at_its_file_and_page(warnings_pdf):
    # Not 30-zhaiyao's box: on the line grid the text after it lands half a line below it, the
    # space its margin leaves above.
    assert sorted(BUILD_WARNINGS[warnings_pdf]) == sorted([
        f"{article('10-changbiaoti.md')}: p. 2: the title is set at 10.5 pt to keep its longest "
        "line whole, below the house minimum of 15 pt: write `title:` as a list of shorter "
        "lines",
        f"{article('20-butong.md')}: p. 3: the right column ends 35 lines short of the other: "
        "something that cannot be split (a picture, a box, a heading kept with its text) left "
        "the gap; shorten, shrink or move it",
        f"{article('42-guoye.md')}: p. 7: the last lines of this item stand alone on this page, "
        "4 line(s) deep: cut them, so that they fit on p. 6",
        f"{article('45-kongbai.md')}: p. 8: 68 mm at the foot of the page stay empty while "
        "this item goes on overleaf: what follows (a picture, a box) did not fit; make it "
        "smaller",
        f"{article('50-wubiaoti.md')}: p. 10: this item is not in the 目录",
        # tall.png, 600 pixels across, set 78 mm and 67 mm wide: too coarse for print
        f"{article('20-butong.md')}: p. 3: picture `tall.png` prints at 196 pixels per inch, "
        "fewer than the 250 print needs: use a larger picture, or set it smaller",
        f"{article('45-kongbai.md')}: p. 9: picture `tall.png` prints at 229 pixels per inch, "
        "fewer than the 250 print needs: use a larger picture, or set it smaller",
    ])


def test_the_reported_pages_are_the_printed_folios(warnings_pdf):
    """p. 7 is the page whose label and folio read 7: it holds 过页三行's last lines alone."""
    reader = PdfReader(warnings_pdf)
    index = reader.page_labels.index("7")
    with pdfplumber.open(warnings_pdf) as pdf:
        text = pdf.pages[index].extract_text()
    assert "（执笔：李四）" in text and "2015·10" in text and "过页三行" not in text


def test_a_picture_shrinks_rather_than_leave_an_items_last_lines_alone(warnings_pdf):
    """尾行孤页 (40-weiye): at the width its editor gave, its picture pushed the last lines and
    the end note onto a page of their own; the build set it smaller instead, so the end note
    shares the picture's page."""
    assert not [w for w in BUILD_WARNINGS[warnings_pdf] if "40-weiye" in w]
    reader = PdfReader(warnings_pdf)
    with pdfplumber.open(warnings_pdf) as pdf:
        pages = [i for i, page in enumerate(pdf.pages) if "（执笔：张三）" in page.extract_text()]
        (end,) = pages
        page = pdf.pages[end]
        (picture,) = page.images
        measure = Grid(load_warnings_issue().trim).measure_pt
        assert picture["width"] < 0.35 * measure * 0.9  # below the {width=35} it was given
    assert reader.page_labels[end].isdigit()


def load_warnings_issue():
    from publisher.source.load import load_issue

    return load_issue(WARNINGS)


def test_strict_fails_and_writes_nothing(tmp_path):
    run = subprocess.run([sys.executable, "-m", "publisher.cli", "build", str(WARNINGS), "-o",
                          str(tmp_path), "--pdf", "--strict"], capture_output=True, text=True)
    assert run.returncode == 1
    assert "--strict: 7 layout problem(s), listed above" in run.stderr
    assert "p. 10: this item is not in the 目录" in run.stderr
    assert not list(tmp_path.iterdir())


def test_the_sample_names_only_what_is_wrong_with_it(sample_pdf):
    """Its problem, visible on the page: the last lines of 要闻要论 alone on p. 9. They were
    three, in one column (two and one would leave a last line alone atop the right one); p. 8
    gives the brief that opens its right column a line more under its head, so they are four,
    two and two. Every full column ends on the block's last line. And a hole on p. 8: that
    brief's head and first lines need some five lines and a half at the left column's foot,
    where five are left; they open above the one brief of the column. And the foot of p. 40:
    吴永福's speech goes on the series after 马宏伟's, whose columns end nine lines up the page,
    but its title and first lines need some ten, and begin p. 41. (p. 39's foot, as empty, is
    not named: the series that begins p. 40 opens a page.)"""
    articles = ROOTS.parent.parent / "examples/2015-10/articles"
    assert BUILD_WARNINGS[sample_pdf] == [
        f"{articles / '160-quanhui-chuanda.md'}: p. 9: the last lines of this item stand alone "
        "on this page, 2 line(s) deep: cut them, so that they fit on p. 8",
        f"{articles / '150-zizhiqu-yantao.md'}: p. 8: 6 lines of space stand above this item in "
        "its column: what comes after it (a heading kept with its text, a brief's head, a box) "
        "did not fit at the column's foot, and nothing else in the column could share the lines "
        "it left; cut or add a line or two nearby",
        f"{articles / '360-wu-yongfu.md'}: p. 40: 56 mm at the foot of the page stay empty: what "
        "begins this item (its title with its first lines, a box) did not fit there and begins "
        "overleaf; cut lines on this page so that it fits, or add enough to fill it"]


def test_untitled_items_and_the_back_cover_are_in_the_toc_and_bookmarks_as_in_the_epub(
        sample_pdf, sample_issue):
    from publisher.epub.nav import nav_label

    reader = PdfReader(sample_pdf)

    def titles(outline):
        for entry in outline:
            yield from titles(entry) if isinstance(entry, list) else [entry.title]

    bookmarks = list(titles(reader.outline))
    with pdfplumber.open(sample_pdf) as pdf:  # the 目录: two pages of two columns
        toc = "".join(half.extract_text() for page in pdf.pages[2:4]
                      for half in (page.crop((0, 0, page.width / 2, page.height)),
                                   page.crop((page.width / 2, 0, page.width, page.height))))
    toc = toc.replace("\n", "")
    for item in sample_issue.articles:
        if item.kind.value == "box":
            continue
        label = nav_label(item, sample_issue)
        assert label in bookmarks, label
        assert label.replace(" ", "") in toc.replace(" ", ""), label
    back = nav_label(sample_issue.articles[-1], sample_issue)
    assert back == sample_issue.back_cover and back + "封底" in toc.replace(" ", "")


def test_pictures_take_the_width_the_editor_gives(periodical_press_pdf):
    """{width=60}: 60 % of the column; {width=80 span=page}: 80 % of the text block, across
    both columns, the columns above it closed; each caption right under its picture."""
    from publisher.source.load import load_issue

    grid = Grid(load_issue(ROOTS / "press-periodical").trim)
    with pdfplumber.open(periodical_press_pdf) as pdf:
        # hall.png, 900 × 600, set twice on one page
        page = next(p for p in pdf.pages if len(p.images) >= 2)
        narrow, wide = sorted((i for i in page.images if tuple(i["srcsize"]) == (900, 600)),
                              key=lambda i: i["width"])
        assert narrow["width"] == pytest.approx(0.6 * grid.column_pt, abs=1)
        assert wide["width"] == pytest.approx(0.8 * grid.measure_pt, abs=1)
        words = {w["text"][:5]: w for w in page.extract_words()}
        # The paragraph before the wide picture ends the right column above it; the next one
        # starts the columns again under it.
        before, after = words["正文第三段"], words["正文第四段"]
        assert before["x0"] > page.width / 2 and before["bottom"] < wide["top"]
        assert after["top"] > wide["bottom"] and after["x0"] < page.width / 2
        for picture, caption in ((narrow, "会场外景"), (wide, "会场全景")):
            below = page.crop((picture["x0"], picture["bottom"], picture["x1"],
                               picture["bottom"] + 20)).extract_text()
            assert caption in below.replace(" ", "")


@pytest.mark.parametrize("option, message", [
    ("{width=10}", "picture width `10`: write a share of the column from 20 to 100, e.g. "
                   "{width=60}"),
    ("{span=both}", "picture span `both`: write span=page to set it across both columns (the "
                    "default is its column)"),
    ("{height=3}", "picture option `height` unknown: write {width=60} (per cent of the column) "
                   "and/or {span=page} (across both columns)"),
])
def test_a_wrong_picture_option_is_an_error_at_its_line(tmp_path, option, message):
    from publisher.source.load import load_issue

    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    source = issue / "articles" / "20-figure.md"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("(images/photo.png)", f"(images/photo.png){option}"),
                      encoding="utf-8")
    line = text.splitlines().index("![现场教学](images/photo.png)") + 1
    with pytest.raises(IssueErrors) as error:
        load_issue(issue)
    assert str(error.value) == f"{source}:{line}: {message}"


@pytest.mark.parametrize(("lines_apart", "warned"), [(2 + 1e-13, False), (3 - 1e-13, True)])
def test_columns_two_lines_apart_are_even_enough_whatever_the_float_sums(lines_apart, warned):
    """Two lines apart is allowed: float sums a hair above it were warned of, and one below not."""
    from publisher.pdf.layout_warnings import _uneven_columns
    from publisher.pdf.weasyprint.geometry import ColumnSet
    from publisher.source.model import Article

    line = 18.0
    item = Article.model_construct(path=Path("10-a.md"))
    columns = ColumnSet(page=0, item="a", bottoms=(500.0, 500.0 - lines_apart * line))
    found = list(_uneven_columns([columns], {"a": item}, ["12"], line))
    assert [problem.message.split(":")[0] for problem in found] == (
        ["the right column ends 3 lines short of the other"] if warned else [])
