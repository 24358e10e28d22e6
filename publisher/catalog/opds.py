"""The OPDS 1.2 catalogue (Atom) that reading apps browse: a navigation feed of the magazines,
one per magazine of its years, and an acquisition feed per year with one entry per issue; and
the newest issues of every magazine, which the root links as its `sort/new` feed.

Every date is an issue's own (its build time), so the same sources give the same bytes.
"""

from __future__ import annotations

import uuid

from lxml import etree

from publisher.catalog.paths import issue_folder, magazine_key, shelves, year_folder

ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/terms/"
CATALOG = "application/atom+xml;profile=opds-catalog"
NAVIGATION = f"{CATALOG};kind=navigation"
ACQUISITION = f"{CATALOG};kind=acquisition"
# A static site asks nothing for a download: no payment, no sign-in.
ACQUIRE = "http://opds-spec.org/acquisition/open-access"
IMAGE = "http://opds-spec.org/image"
THUMBNAIL = "http://opds-spec.org/image/thumbnail"
NEWEST = "http://opds-spec.org/sort/new"
FOLDER = "opds"
ROOT = f"{FOLDER}/index.xml"
TITLE = "期刊书库"
NEW = f"{FOLDER}/new.xml"
NEW_TITLE = "最新各期"
# A year of a monthly: what a reader who looks in now and then has missed.
NEW_ISSUES = 12

# Declared on each feed, not in a process-wide registry that other code may change.
NAMESPACES = {None: ATOM, "dc": DC}


def feeds(issues: list[dict]) -> dict[str, bytes]:
    """Every feed of the site by its path, for `issues` sorted by magazine, year and month."""
    out: dict[str, bytes] = {}
    magazines = []
    for magazine, years in shelves(issues):
        path = f"{FOLDER}/{magazine_key(magazine)}.xml"
        entries = []
        for year, group in years:
            year_path = f"{FOLDER}/{year_folder(magazine, year).replace('/', '-')}.xml"
            title = f"{magazine} {year}年"
            out[year_path] = _feed(year_path, title, magazine, ACQUISITION, path,
                                   [_issue_entry(record) for record in reversed(group)])
            entries.append(_navigation_entry(title, f"{len(group)} 期", year_path, ACQUISITION,
                                             _newest(group)))
        out[path] = _feed(path, magazine, magazine, NAVIGATION, ROOT, entries)
        magazines.append(_navigation_entry(magazine, f"{len(years)} 年", path, NAVIGATION,
                                           _newest(issue for _, group in years
                                                   for issue in group)))
    publishers = "、".join(m.findtext(f"{{{ATOM}}}title") for m in magazines)
    # Newest first by the issue's month; a month's issues in the magazines' order.
    newest = sorted(issues, key=lambda record: (-record["year"], -record["month"]))[:NEW_ISSUES]
    entries = magazines
    if newest:  # none where every issue failed to build
        out[NEW] = _feed(NEW, NEW_TITLE, publishers, ACQUISITION, ROOT,
                         [_issue_entry(record) for record in newest])
        # Apps that know `sort/new` offer it from the root's link; the entry is for the others.
        entries = [_navigation_entry(NEW_TITLE, f"{len(newest)} 期", NEW, ACQUISITION,
                                     _newest(newest)), *magazines]
    out[ROOT] = _feed(ROOT, TITLE, publishers, NAVIGATION, None, entries,
                      newest_feed=NEW if newest else None)
    return out


def _newest(issues) -> str:
    return max(record["updated"] for record in issues)


def _feed(path: str, title: str, author: str, kind: str, up: str | None,
          entries: list[etree.Element], newest_feed: str | None = None) -> bytes:
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap=NAMESPACES)
    _text(feed, "id", _urn(path))
    _text(feed, "title", title)
    _text(feed, "updated", max((e.findtext(f"{{{ATOM}}}updated") for e in entries),
                               default="1970-01-01T00:00:00Z"))
    etree.SubElement(_text(feed, "author", None), f"{{{ATOM}}}name").text = author
    _link(feed, "self", _local(path), kind)
    _link(feed, "start", _local(ROOT), NAVIGATION)
    if up:
        _link(feed, "up", _local(up), NAVIGATION)
    if newest_feed:
        _link(feed, NEWEST, _local(newest_feed), ACQUISITION)
    feed.extend(entries)
    etree.cleanup_namespaces(feed)  # declared once, on the feed; dc only where it is used
    etree.indent(feed)
    return etree.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _navigation_entry(title: str, content: str, target: str, kind: str,
                      updated: str) -> etree.Element:
    entry = etree.Element(f"{{{ATOM}}}entry", nsmap=NAMESPACES)
    _text(entry, "title", title)
    _text(entry, "id", _urn(target))
    _text(entry, "updated", updated)
    _text(entry, "content", content).set("type", "text")
    _link(entry, "subsection", _local(target), kind)
    return entry


def _issue_entry(record: dict) -> etree.Element:
    folder = f"../{issue_folder(record)}/"
    files = record["files"]
    entry = etree.Element(f"{{{ATOM}}}entry", nsmap=NAMESPACES)
    _text(entry, "title", f"{record['magazine']} {record['label']}")
    _text(entry, "id", record["id"])
    _text(entry, "updated", record["updated"])
    etree.SubElement(_text(entry, "author", None), f"{{{ATOM}}}name").text = record["magazine"]
    etree.SubElement(entry, f"{{{DC}}}issued").text = f"{record['year']}-{record['month']:02d}"
    etree.SubElement(entry, f"{{{DC}}}language").text = record["language"]
    # An entry that links no complete entry must carry all the metadata (OPDS 1.2, 5.1.2): the
    # EPUB's publisher, rights, description and keywords. A record kept from an older build has
    # none.
    if record.get("description"):
        _text(entry, "content", record["description"]).set("type", "text")
    if record.get("publisher"):
        etree.SubElement(entry, f"{{{DC}}}publisher").text = record["publisher"]
    if record.get("rights"):
        _text(entry, "rights", record["rights"]).set("type", "text")
    for word in record.get("keywords", ()):
        etree.SubElement(entry, f"{{{ATOM}}}category", term=word, label=word)
    if record["cover_lines"]:
        _text(entry, "summary", "；".join(record["cover_lines"])).set("type", "text")
    _link(entry, IMAGE, folder + files["cover"]["name"], files["cover"]["type"])
    _link(entry, THUMBNAIL, folder + files["thumbnail"]["name"], files["thumbnail"]["type"])
    for kind in ("epub", "pdf"):
        link = _link(entry, ACQUIRE, folder + files[kind]["name"], files[kind]["type"])
        link.set("length", str(files[kind]["size"]))
    _link(entry, "alternate", folder + "index.html", "text/html")
    return entry


def _text(parent: etree.Element, tag: str, text: str | None) -> etree.Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = text
    return element


def _link(parent: etree.Element, rel: str, href: str, media_type: str) -> etree.Element:
    return etree.SubElement(parent, f"{{{ATOM}}}link", {"rel": rel, "href": href,
                                                      "type": media_type})


def _local(path: str) -> str:
    """A feed's path as a link from another feed (all of them are in `opds/`)."""
    return path.removeprefix(f"{FOLDER}/")


def _urn(path: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"publisher:catalog:{path}").urn
