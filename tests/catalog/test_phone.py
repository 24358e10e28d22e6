"""index.html and an issue page as a phone shows them: headless Chromium (Debian's) at 390 px."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.catalog.conftest import ISSUES
from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
WIDTH = 390


@pytest.fixture(scope="module")
def phone():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": WIDTH, "height": 844}, device_scale_factor=2)
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def look(phone, page: Path, screenshot: Path) -> dict:
    """Open `page`; what a reader would notice: width, pictures, where each link goes."""
    phone.goto(page.as_uri())
    phone.wait_for_load_state("load")
    phone.screenshot(path=str(screenshot), full_page=True)
    return phone.evaluate("""() => ({
        width: document.documentElement.scrollWidth,
        wide: [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map(e => e.outerHTML.slice(0, 80)),
        images: [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0,
                                                 shown: i.getBoundingClientRect().width})),
        links: [...document.querySelectorAll('a[href], link[href]')].map(a => a.href),
    })""")


def assert_phone_page(seen: dict) -> None:
    assert seen["width"] <= WIDTH and not seen["wide"], seen["wide"]
    assert all(image["ok"] for image in seen["images"]), seen["images"]
    for href in seen["links"]:
        assert urlsplit(href).scheme == "file", href
        assert Path(unquote(urlsplit(href).path)).is_file(), href


def test_index_shows_every_cover_by_year_on_a_phone(site, phone, tmp_path):
    seen = look(phone, site / "index.html", tmp_path / "index.png")
    assert_phone_page(seen)
    assert len(seen["images"]) == len(ISSUES)
    # Two covers side by side on a 390 px screen: large enough to read the masthead.
    assert all(150 <= image["shown"] <= WIDTH / 2 for image in seen["images"])
    years = phone.eval_on_selector_all(".year h3", "hs => hs.map(h => h.firstChild.textContent)")
    assert [y.strip() for y in years] == ["2016年", "2015年", "2016年"]
    issue_pages = {href for href in seen["links"] if href.endswith("/index.html")
                   and "-" in href.split("/")[-2]}
    assert len(issue_pages) == len(ISSUES)


def test_issue_page_on_a_phone(site, phone, tmp_path):
    (page,) = site.glob("*/2015-12/index.html")
    seen = look(phone, page, tmp_path / "issue.png")
    assert_phone_page(seen)
    assert any(href.endswith("2015-12.epub") for href in seen["links"])
    assert any(href.endswith("2015-12-screen.pdf") for href in seen["links"])
    entries = phone.eval_on_selector_all(".entries li", "lis => lis.length")
    assert entries == 6


def test_annual_page_on_a_phone(site, phone, tmp_path):
    (page,) = site.glob("*/2015/index.html")
    seen = look(phone, page, tmp_path / "annual.png")
    assert_phone_page(seen)
    assert any(href.endswith("annual-index.pdf") for href in seen["links"])


# Each element's own text: its colour, and the background it stands on (the nearest one set).
CONTRAST = """() => {
    const rgb = c => c.match(/[\\d.]+/g).map(Number);
    const lum = c => rgb(c).slice(0, 3).map(v => v / 255)
        .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
    const background = e => {
        for (; e; e = e.parentElement) {
            const c = getComputedStyle(e).backgroundColor;
            if (rgb(c).length < 4 || rgb(c)[3] > 0) return c;
        }
        return 'rgb(255, 255, 255)';
    };
    const low = [...document.querySelectorAll('body *')]
        .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => ({text: e.textContent.trim().slice(0, 20),
                    ratio: ratio(getComputedStyle(e).color, background(e))}))
        .filter(seen => seen.ratio < 4.5);
    return {dark: lum(background(document.body)) < 0.2, low};
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_follow_the_phones_colour_scheme_with_contrast(site, phone, scheme):
    pages = [site / "index.html", *site.glob("*/2015-12/index.html"),
             *site.glob("*/2015/index.html")]
    phone.emulate_media(color_scheme=scheme)
    try:
        for page in pages:
            phone.goto(page.as_uri())
            seen = phone.evaluate(CONTRAST)
            assert seen["dark"] == (scheme == "dark"), page
            assert seen["low"] == [], (page, seen["low"])
    finally:
        phone.emulate_media(color_scheme="no-override")


AXE = ROOT / "node_modules" / "@daisy" / "axe-core-for-ace" / "axe.min.js"  # Ace's own axe


def test_pages_pass_the_checks_ace_makes_of_a_book(site, phone):
    """axe, which Ace runs on the EPUB's documents, on the site's pages."""
    if not AXE.is_file():
        pytest.skip(f"{AXE} is missing: make node-tools")
    for page in [site / "index.html", *site.glob("*/2015-12/index.html"),
                 *site.glob("*/2015/index.html")]:
        phone.goto(page.as_uri())
        phone.add_script_tag(path=str(AXE))
        violations = phone.evaluate("""async () => (await axe.run()).violations
            .map(v => [v.id, v.nodes[0].html.slice(0, 80)])""")
        assert violations == [], (page, violations)
