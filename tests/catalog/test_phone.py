"""index.html and an issue page as a phone shows them: headless Chromium (Debian's) at 390 px."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.catalog.conftest import ISSUES

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
