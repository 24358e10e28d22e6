"""The OPDS 1.2 catalogue: each rule of the specification (and of Atom, RFC 4287) that the
feeds rely on, checked on the feeds of the built site."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from publisher.catalog.paths import issue_folder
from tests.catalog.conftest import ISSUES

A = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/terms/}"
NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ACQUIRE = "http://opds-spec.org/acquisition/open-access"
DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")  # RFC 3339


def feeds(site: Path) -> dict[str, ET.Element]:
    return {path.name: ET.parse(path).getroot() for path in sorted((site / "opds").glob("*.xml"))}


def links(element: ET.Element, rel: str) -> list[ET.Element]:
    return [link for link in element.findall(f"{A}link") if link.get("rel") == rel]


def package(opf: ET.Element, name: str) -> list[str]:
    """The texts of a Dublin Core element of an EPUB's package."""
    return [e.text for e in opf.iter(f"{{http://purl.org/dc/elements/1.1/}}{name}")]


def kind(feed: ET.Element) -> str:
    (self,) = links(feed, "self")
    return self.get("type")


def test_feeds_are_atom_with_the_elements_atom_requires(site):
    for name, feed in feeds(site).items():
        assert feed.tag == f"{A}feed", name
        for tag in ("id", "title", "updated"):
            assert len(feed.findall(f"{A}{tag}")) == 1 and feed.findtext(f"{A}{tag}"), (name, tag)
        assert DATE.match(feed.findtext(f"{A}updated"))
        # An author for the feed, so that every entry has one (RFC 4287 4.1.1).
        assert feed.findtext(f"{A}author/{A}name"), name
        entries = feed.findall(f"{A}entry")
        assert entries, name
        ids = [e.findtext(f"{A}id") for e in entries]
        assert len(set(ids)) == len(ids)
        for entry in entries:
            for tag in ("id", "title", "updated"):
                assert len(entry.findall(f"{A}{tag}")) == 1 and entry.findtext(f"{A}{tag}")
            assert entry.findtext(f"{A}id").startswith("urn:uuid:")
            assert DATE.match(entry.findtext(f"{A}updated"))
            # Without an alternate link, an entry needs content (RFC 4287 4.1.1.1).
            assert entry.find(f"{A}content") is not None or links(entry, "alternate")


def test_every_feed_links_itself_and_the_start_with_opds_types(site):
    for name, feed in feeds(site).items():
        assert kind(feed) in (NAVIGATION, ACQUISITION), name
        (start,) = links(feed, "start")
        assert start.get("href") == "index.xml" and start.get("type") == NAVIGATION
        if name != "index.xml":
            (up,) = links(feed, "up")
            assert up.get("type") == NAVIGATION


def test_navigation_goes_magazine_then_year_to_acquisition_feeds(site):
    all_feeds = feeds(site)
    root = all_feeds["index.xml"]
    assert kind(root) == NAVIGATION
    newest, *entries = root.findall(f"{A}entry")
    assert newest.findtext(f"{A}title") == "最新各期"
    magazines = {e.findtext(f"{A}title"): e for e in entries}
    assert set(magazines) == {magazine for _, magazine, *_ in ISSUES}
    years = set()
    for magazine, entry in magazines.items():
        (sub,) = links(entry, "subsection")
        assert sub.get("type") == NAVIGATION
        magazine_feed = all_feeds[sub.get("href")]
        assert kind(magazine_feed) == NAVIGATION
        for year_entry in magazine_feed.findall(f"{A}entry"):
            assert year_entry.find(f"{A}content").get("type") == "text"
            (sub,) = links(year_entry, "subsection")
            assert sub.get("type") == ACQUISITION
            assert kind(all_feeds[sub.get("href")]) == ACQUISITION
            years.add((magazine, year_entry.findtext(f"{A}title")))
    assert years == {(magazine, f"{magazine} {year}年") for _, magazine, year, *_ in ISSUES}


def test_the_root_offers_the_newest_issues_of_every_magazine_newest_first(site):
    """OPDS 1.2's `sort/new`: an acquisition feed of the newest issues, which the root links
    for the apps that offer it, and lists first for those that do not."""
    all_feeds = feeds(site)
    root = all_feeds["index.xml"]
    (sort_new,) = links(root, "http://opds-spec.org/sort/new")
    assert (sort_new.get("href"), sort_new.get("type")) == ("new.xml", ACQUISITION)
    (subsection,) = links(root.find(f"{A}entry"), "subsection")
    assert (subsection.get("href"), subsection.get("type")) == ("new.xml", ACQUISITION)
    new = all_feeds["new.xml"]
    assert kind(new) == ACQUISITION
    assert [entry.findtext(f"{DC}issued") for entry in new.findall(f"{A}entry")] == \
        sorted((f"{year}-{month:02d}" for _, _, year, month, _ in ISSUES), reverse=True)
    # Two magazines' January: both, in the magazines' order.
    assert [entry.findtext(f"{A}title") for entry in new.findall(f"{A}entry")][:2] == \
        ["共产党人 2016·01", "支部生活 2016·01"]
    assert new.findtext(f"{A}author/{A}name") == root.findtext(f"{A}author/{A}name")


def test_the_newest_issues_are_a_years_worth(site):
    """Of a library of years, the newest twelve issues, newest first."""
    from publisher.catalog import opds

    state = json.loads((site / "catalog.json").read_text(encoding="utf-8"))["issues"]
    record = next(r for r in state.values() if r["magazine"] == "共产党人")
    years = [{**record, "year": year, "month": month, "label": f"{year}·{month:02d}",
              "id": f"urn:uuid:00000000-0000-4000-8000-{year:08d}{month:04d}"}
             for year in (2014, 2015) for month in range(1, 13)]
    new = ET.fromstring(opds.feeds(years)["opds/new.xml"])
    assert [entry.findtext(f"{DC}issued") for entry in new.findall(f"{A}entry")] == \
        [f"2015-{month:02d}" for month in range(12, 0, -1)]


@pytest.fixture(scope="module")
def issue_entries(site):
    entries = {}
    for feed in feeds(site).values():
        if kind(feed) == ACQUISITION:
            for entry in feed.findall(f"{A}entry"):
                entries[entry.findtext(f"{A}title")] = entry
    return entries


def test_acquisition_feeds_hold_one_entry_per_issue(issue_entries):
    assert sorted(issue_entries) == sorted(f"{magazine} {year}·{month:02d}"
                                           for _, magazine, year, month, _ in ISSUES)


def test_an_issue_entry_has_metadata_cover_and_acquisition_links(site, issue_entries):
    state = json.loads((site / "catalog.json").read_text(encoding="utf-8"))["issues"]
    for _, magazine, year, month, _ in ISSUES:
        entry = issue_entries[f"{magazine} {year}·{month:02d}"]
        assert entry.findtext(f"{DC}issued") == f"{year}-{month:02d}"
        assert entry.findtext(f"{DC}language") == "zh-CN"
        assert entry.findtext(f"{A}author/{A}name") == magazine
        assert entry.findtext(f"{A}updated") == f"{year}-{month:02d}-01T00:00:00Z"
        summary = entry.find(f"{A}summary")
        assert summary.get("type") == "text" and "五中全会公报不能错过的7个要点" in summary.text
        record = next(r for r in state.values() if r["id"] == entry.findtext(f"{A}id"))
        folder = f"../{issue_folder(record)}/"
        (image,) = links(entry, "http://opds-spec.org/image")
        (thumbnail,) = links(entry, "http://opds-spec.org/image/thumbnail")
        assert (image.get("href"), image.get("type")) == (folder + "cover.png", "image/png")
        assert (thumbnail.get("href"), thumbnail.get("type")) == (folder + "thumbnail.png",
                                                                  "image/png")
        acquisitions = {link.get("type"): link for link in links(entry, ACQUIRE)}
        assert set(acquisitions) == {"application/epub+zip", "application/pdf"}
        assert acquisitions["application/epub+zip"].get("href").endswith(".epub")
        assert acquisitions["application/pdf"].get("href").endswith("-screen.pdf")
        for link in acquisitions.values():
            file = site / "opds" / link.get("href")
            assert int(link.get("length")) == file.stat().st_size
        # No complete entry is linked: the entry says what the EPUB's package says.
        epub = site / "opds" / acquisitions["application/epub+zip"].get("href")
        with zipfile.ZipFile(epub) as book:
            opf = ET.fromstring(book.read("EPUB/content.opf"))
        assert [e.text for e in entry.findall(f"{DC}publisher")] == package(opf, "publisher")
        assert [e.text for e in entry.findall(f"{A}rights")] == package(opf, "rights")
        assert [e.text for e in entry.findall(f"{A}content")] == package(opf, "description")
        assert [c.get("term") for c in entry.findall(f"{A}category")] == package(opf, "subject")
    rights = [entry.findtext(f"{A}rights") for entry in issue_entries.values()]
    assert "版权所有 © 2016 支部生活杂志社" in rights
    assert "本期聚焦基层党建" in [e.findtext(f"{A}content") for e in issue_entries.values()]
    assert all(entry.findtext(f"{DC}publisher") for entry in issue_entries.values())
    assert all(entry.find(f"{A}category") is not None for entry in issue_entries.values())


def test_namespaces_are_declared_on_the_feed_element(site):
    for path in sorted((site / "opds").glob("*.xml")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<?xml version='1.0' encoding='utf-8'?>\n<feed "
                               'xmlns="http://www.w3.org/2005/Atom"')
        if "<dc:" in text:
            assert 'xmlns:dc="http://purl.org/dc/terms/"' in text.split(">", 2)[1]


def test_feeds_do_not_depend_on_what_else_the_process_registered(site, monkeypatch):
    """ElementTree's namespace prefixes are process-wide: code that maps the default namespace
    to XHTML once gave the feeds `ns0:` prefixes. The feeds declare their own."""
    from publisher.catalog.opds import feeds

    # Changed for this test only, not for the rest of the session.
    monkeypatch.setattr(ET, "_namespace_map", dict(ET._namespace_map))
    ET.register_namespace("", "http://www.w3.org/1999/xhtml")
    ET.register_namespace("dc", "http://purl.org/dc/elements/1.1/")
    state = json.loads((site / "catalog.json").read_text(encoding="utf-8"))["issues"]
    issues = sorted(state.values(), key=lambda r: (r["magazine"], r["year"], r["month"]))
    for path, data in feeds(issues).items():
        assert (site / path).read_bytes() == data, path
