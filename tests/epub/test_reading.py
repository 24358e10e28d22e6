"""The EPUB as readers see it: DAISY Ace's accessibility checks, and the sample's documents laid
out by headless Chromium (Debian's) at phone and tablet widths, light and dark, measured
character by character (tests/epub/measure.js).

Ace and Chromium run once per session; each test reads their results.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ACE = ROOT / "node_modules" / ".bin" / "ace-puppeteer"
MEASURE = Path(__file__).with_name("measure.js")
WIDTHS = (320, 390, 768)
THEMES = ("light", "dark")
# A reading system's night theme that restyles the page only: html and body, not the boxes.
READER_NIGHT = "html, body { background-color: #000 !important; color: #ddd !important; }"
# A reader's largest text: twice the size.
LARGE_TEXT = "html { font-size: 200% !important; }"
TABLET_MEASURE_EMS = 40.5  # "about 40 characters at most", plus what autospace adds


def _require(tool: Path, install: str) -> None:
    if not tool.exists():
        pytest.skip(f"{tool} is missing: {install}")


@pytest.fixture(scope="session")
def ace_report(sample_epub, tmp_path_factory) -> dict:
    _require(CHROMIUM, "apt-get install chromium")
    _require(ACE, "make node-tools")
    out = tmp_path_factory.mktemp("ace")
    subprocess.run([str(ACE), "--force", "--silent", "--outdir", str(out), str(sample_epub)],
                   check=True, env={**os.environ, "PUPPETEER_EXECUTABLE_PATH": str(CHROMIUM)},
                   timeout=600)
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_ace_reports_no_violations(ace_report, sample_epub):
    from tests.epub.conftest import Book

    violations = [(document["earl:testSubject"]["url"], rule["earl:test"]["dct:title"],
                   rule["earl:test"]["earl:impact"])
                  for document in ace_report["assertions"]
                  for rule in document.get("assertions", [])
                  if rule["earl:result"]["earl:outcome"] == "fail"]
    assert violations == []
    assert ace_report["earl:result"]["earl:outcome"] == "pass"
    # Ace read the whole book, printed page breaks included
    checked = {document["earl:testSubject"]["url"] for document in ace_report["assertions"]}
    assert set(Book(sample_epub).spine()) <= checked
    assert ace_report["properties"]["hasPageBreaks"]


@pytest.fixture(scope="session")
def unpacked_epub(sample_epub, tmp_path_factory) -> list[Path]:
    """The sample's content documents, unzipped, in spine order but for the navigation."""
    folder = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(sample_epub) as archive:
        archive.extractall(folder)
    documents = sorted((folder / "EPUB").glob("*.xhtml"))
    return [d for d in documents if d.name != "nav.xhtml"]


@pytest.fixture(scope="session")
def measurements(unpacked_epub) -> dict:
    """(width, theme) → what measure.js found in every document, each finding tagged with its
    document; theme "reader night" is light with a reader's own night colours on the page,
    "large text" light with a reader's largest text."""
    _require(CHROMIUM, "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    script = MEASURE.read_text(encoding="utf-8")
    runs = [(width, theme) for width in WIDTHS for theme in THEMES] + [
        (390, "reader night"), (390, "large text")]
    found: dict = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox"])
        for width, theme in runs:
            page = browser.new_page(viewport={"width": width, "height": 800},
                                    color_scheme="dark" if theme == "dark" else "light")
            total: dict = {}
            for document in unpacked_epub:
                page.goto(document.as_uri())
                if theme in ("reader night", "large text"):
                    page.add_style_tag(
                        content=READER_NIGHT if theme == "reader night" else LARGE_TEXT)
                for key, value in page.evaluate(script, theme == "reader night").items():
                    if isinstance(value, list):
                        total.setdefault(key, []).extend(f"{document.name}: {v}" for v in value)
                    else:
                        total[key] = max(total.get(key, 0), value)
            found[width, theme] = total
            page.close()
        browser.close()
    return found


RUNS = [pytest.param(width, theme, id=f"{width}px-{theme}")
        for width in WIDTHS for theme in THEMES]


@pytest.mark.parametrize(("width", "theme"), RUNS)
def test_no_paragraph_ends_on_a_line_of_one_character(measurements, width, theme):
    assert measurements[width, theme]["oneCharLastLines"] == []


@pytest.mark.parametrize(("width", "theme"), RUNS)
def test_han_and_latin_keep_an_eighth_of_an_em_apart(measurements, width, theme):
    assert measurements[width, theme]["tightPairs"] == []


@pytest.mark.parametrize(("width", "theme"), RUNS)
def test_titles_and_contents_entries_break_between_words(measurements, width, theme):
    assert measurements[width, theme]["brokenWords"] == []


@pytest.mark.parametrize(("width", "theme"), RUNS)
def test_contents_entries_opening_with_a_mark_stand_flush(measurements, width, theme):
    assert measurements[width, theme]["indentedEntries"] == []


@pytest.mark.parametrize(("width", "theme"), RUNS)
def test_nothing_overflows_the_screen(measurements, width, theme):
    assert measurements[width, theme]["overflow"] <= 0


@pytest.mark.parametrize(("width", "theme"), RUNS)
def test_every_text_has_contrast(measurements, width, theme):
    assert measurements[width, theme]["lowContrast"] == []


def test_nothing_overflows_a_phone_in_a_readers_largest_text(measurements):
    """A 目录 entry's author stayed on one line and ran off the screen."""
    assert measurements[390, "large text"]["overflow"] <= 0


def test_a_picture_takes_the_width_its_editor_gave_it(tmp_path):
    """`{width=60}` set a picture at six tenths of its column in print, and across the whole
    screen in the EPUB."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import ROOTS
    from tests.epub.conftest import build_epub

    _require(CHROMIUM, "apt-get install chromium")
    with zipfile.ZipFile(build_epub(tmp_path, ROOTS / "press-periodical")) as archive:
        archive.extractall(tmp_path / "unpacked")
    (document,) = [d for d in (tmp_path / "unpacked" / "EPUB").glob("*.xhtml")
                   if "栏宽六成" in d.read_text(encoding="utf-8")]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 800})
        page.goto(document.as_uri())
        shares = page.evaluate("""() => [...document.querySelectorAll("figure")].map(figure =>
            [figure.querySelector("figcaption").textContent,
             figure.getBoundingClientRect().width / figure.parentElement.clientWidth])""")
        browser.close()
    widths = {caption: round(share, 2) for caption, share in shares}
    assert widths["会场外景（栏宽六成）"] == 0.6, widths
    assert widths["镂空图（透明底）"] == 0.4, widths


def test_boxes_keep_their_contrast_under_a_readers_night_colours(measurements):
    assert measurements[390, "reader night"]["lowContrast"] == []


def test_lines_on_a_tablet_hold_about_forty_characters(measurements):
    assert 36 <= measurements[768, "light"]["longestLine"] <= TABLET_MEASURE_EMS


def test_the_phone_picture_shows_both_themes():
    from PIL import Image

    image = Image.open(ROOT / "docs" / "epub-phone.png").convert("L")
    width, height = image.size
    halves = [image.crop((0, 0, width // 2, height)), image.crop((width // 2, 0, width, height))]
    brightness = [sum(h.tobytes()) / (h.width * h.height) for h in halves]
    assert max(brightness) > 180 and min(brightness) < 80  # one light page, one dark

