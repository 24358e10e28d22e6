"""The site as a whole: what was built, links, rebuilding only what changed, the command."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as ET

import pytest

from publisher.catalog.library import fingerprint
from publisher.catalog.paths import magazine_key
from publisher.catalog.publish import Published
from publisher.catalog.site import STATE, build_catalog
from publisher.cli import main
from tests.catalog.conftest import BROKEN, CROWDED, ISSUES, site_files


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.targets += [value for name, value in attrs if name in ("href", "src") and value]


def local_targets(page: Path) -> list[Path]:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return [page.parent / unquote(urlsplit(t).path) for t in parser.targets
            if not urlsplit(t).scheme]


def test_every_good_issue_is_built_and_the_broken_one_is_named(built):
    site, summary = built
    assert sorted(summary.built) == sorted(folder for folder, *_ in ISSUES)
    assert summary.reused == []
    ((name, error),) = summary.failed
    assert name == BROKEN
    # 410 has two notes of the importer, 470 one, 490 one: each issue is named with its count
    assert sorted(summary.to_review) == [("gcdr-2015-11", 2), ("gcdr-2016-01", 1),
                                         ("zbsh-2016-01", 1)]
    assert "to review: gcdr-2015-11: published with 2 review note(s) of the importer still in " \
        "its sources: `publisher validate` lists them" in summary.lines()
    assert "060-ganbu-duiwu.md:3" in error and "nowhere" in error
    assert not summary.ok
    state = json.loads((site / STATE).read_text(encoding="utf-8"))
    assert sorted(state["issues"]) == sorted(folder for folder, *_ in ISSUES)


def test_every_link_of_every_page_and_feed_resolves(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 1 + len(ISSUES) + 3  # index, issue pages, 2015, 2016 and 2016 of 支部生活
    for page in pages:
        targets = local_targets(page)
        assert targets, page
        for target in targets:
            assert target.resolve().is_file(), f"{page.relative_to(site)} → {target}"
    feeds = sorted((site / "opds").glob("*.xml"))
    for feed in feeds:
        for link in ET.parse(feed).iter("{http://www.w3.org/2005/Atom}link"):
            assert (feed.parent / link.get("href")).resolve().is_file(), (feed.name, link.attrib)


def test_issue_page_lists_the_contents_with_folios_and_downloads(site):
    (page,) = site.glob("*/2015-12/index.html")
    text = page.read_text(encoding="utf-8")
    for needed in ("2015-12.epub", "2015-12-screen.pdf", "cover.png", "本刊评论员",
                   "把严守纪律当作为人处事从政的重要底线", "“联合党委”让社区工作不再难",
                   "钱丽娟", '<span class="folio">封底</span>'):
        assert needed in text, needed


def test_issue_page_lists_an_untitled_item_as_the_printed_contents_do(site):
    (page,) = site.glob("*/2015-11/index.html")
    assert "党建动态：今年以来，宁夏区委组织部紧密结合工作实际" in page.read_text(encoding="utf-8")


def test_a_rebuild_reuses_unchanged_issues_rebuilds_a_changed_one_and_keeps_a_broken_one(
        library, site, tmp_path):
    library_copy, site_copy = tmp_path / "library", tmp_path / "site"
    shutil.copytree(library, library_copy)
    shutil.copytree(site, site_copy)
    before = site_files(site_copy)
    edited = next((library_copy / "gcdr-2016-01" / "articles").glob("490-*.md"))
    edited.write_text(edited.read_text(encoding="utf-8").replace("。", "！", 1), encoding="utf-8")
    broken = next((library_copy / "zbsh-2016-01" / "articles").glob("470-*.md"))
    broken.write_text(broken.read_text(encoding="utf-8").replace("column: yishi",
                                                                 "column: nowhere"),
                      encoding="utf-8")

    summary = build_catalog(library_copy, site_copy, jobs=1)

    assert summary.built == ["gcdr-2016-01"]
    # Its EPUB changed under the same date: a reader's app would not see the correction.
    assert summary.unannounced == ["gcdr-2016-01"]
    assert any(line.startswith("unannounced: gcdr-2016-01: its EPUB changed")
               for line in summary.lines())
    assert sorted(summary.reused) == ["gcdr-2015-11", "gcdr-2015-12"]
    assert sorted(name for name, _ in summary.failed) == [BROKEN, "zbsh-2016-01"]
    after = site_files(site_copy)
    changed = {path for path in after if before.get(path) != after[path]}
    issue, year = f"{magazine_key('共产党人')}/2016-01", f"{magazine_key('共产党人')}/2016"
    assert {f"{issue}/2016-01.epub", f"{issue}/2016-01-screen.pdf"} <= changed
    assert {path for path in changed if not path.startswith("opds/")} <= {
        f"{issue}/2016-01.epub", f"{issue}/2016-01-screen.pdf", f"{issue}/index.html",
        f"{year}/annual-index.pdf", f"{year}/index.html", STATE}
    # The broken issue's last good build is still published.
    kept = f"{magazine_key('支部生活')}/2016-01"
    assert f'href="{kept}/index.html"' in after["index.html"].decode()
    assert after[f"{kept}/2016-01.epub"] == before[f"{kept}/2016-01.epub"]


def test_a_revised_issue_is_a_new_release_its_feed_announces(library, site, tmp_path):

    library_copy, site_copy = tmp_path / "library", tmp_path / "site"
    shutil.copytree(library, library_copy)
    shutil.copytree(site, site_copy)
    root = library_copy / "gcdr-2015-11"
    edited = next((root / "articles").glob("410-*.md"))
    edited.write_text(edited.read_text(encoding="utf-8").replace("。", "！", 1), encoding="utf-8")
    with (root / "issue.yaml").open("a", encoding="utf-8") as manifest:
        manifest.write("revised: 2015-11-20\n")

    summary = build_catalog(library_copy, site_copy, jobs=1)

    assert summary.built == ["gcdr-2015-11"] and summary.unannounced == []
    state = json.loads((site_copy / STATE).read_text(encoding="utf-8"))
    assert state["issues"]["gcdr-2015-11"]["updated"] == "2015-11-20T00:00:00Z"
    entries = [e for feed in (site_copy / "opds").glob("*.xml")
               for e in ET.parse(feed).iter("{http://www.w3.org/2005/Atom}entry")
               if e.findtext("{http://www.w3.org/2005/Atom}id") == state["issues"][
                   "gcdr-2015-11"]["id"]]
    assert entries and all(e.findtext("{http://www.w3.org/2005/Atom}updated")
                           == "2015-11-20T00:00:00Z" for e in entries)
    (epub,) = site_copy.glob("*/2015-11/2015-11.epub")
    with zipfile.ZipFile(epub) as book:
        opf = book.read(next(n for n in book.namelist() if n.endswith(".opf"))).decode()
    assert '<meta property="dcterms:modified">2015-11-20T00:00:00Z</meta>' in opf


def test_fingerprint_follows_the_issue_sources_and_its_own_layouts(library, tmp_path):
    root = tmp_path / "issue"
    shutil.copytree(library / "gcdr-2015-11", root)
    first = fingerprint(root)
    assert fingerprint(root) == first
    (root / "layouts").mkdir()
    (root / "layouts" / "print.css").write_text("/* an issue's own layout */\n")
    second = fingerprint(root)
    assert second != first
    (root / "fonts").mkdir()
    # A fallback family for the serif role: another font file to set it with.
    (root / "fonts" / "fonts.yaml").write_text(
        "serif:\n  family: [Noto Serif CJK SC, LXGW WenKai]\n")
    assert fingerprint(root) != second


def test_catalog_command_reuses_everything_and_exits_1_for_the_broken_issue(
        library, built, tmp_path, capsys, caplog):
    site, first = built
    site_copy = tmp_path / "site"
    shutil.copytree(site, site_copy)
    before = site_files(site_copy)
    assert main(["catalog", str(library), "-o", str(site_copy), "--jobs", "1"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == f"0 built, {len(ISSUES)} reused, 1 failed"
    assert f"failed {BROKEN}" in err
    # Every issue's line is counted among all of them, a reused one too.
    counted = re.findall(r"^\[(\d)/5\] (?:reused|failed) ", err, re.MULTILINE)
    assert sorted(counted) == ["1", "2", "3", "4", "5"]
    # A reused issue tells what its build told: the importer's notes left and its warnings.
    assert sorted(line for line in out.splitlines() if line.startswith("to review: ")) \
        == sorted(line for line in first.lines() if line.startswith("to review: "))
    warnings = json.loads((site / STATE).read_text(encoding="utf-8"))["issues"][CROWDED][
        "warnings"]
    assert any("cover lines fit the EPUB cover image" in message for *_, message in warnings)
    assert [message for *_, message in warnings] == [
        record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert site_files(site_copy) == before


def die(root: str, expected: str):
    """A build that dies as one killed by the OOM killer would."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_dead_pool_process_fails_the_issues_left_and_the_run_still_ends(
        library, tmp_path, monkeypatch):
    monkeypatch.setattr("publisher.catalog.site.publish_issue", die)
    summary = build_catalog(library, tmp_path / "site", jobs=2)
    assert summary.built == [] and summary.reused == []
    failed = dict(summary.failed)
    assert sorted(failed) == sorted([BROKEN, *(folder for folder, *_ in ISSUES)])
    assert all("BrokenProcessPool" in failed[folder] for folder, *_ in ISSUES)
    assert json.loads((tmp_path / "site" / STATE).read_text(encoding="utf-8"))["issues"] == {}


# A catalogue whose issue builds stall, until a signal comes; each prints `ready` then.
STALLED_CATALOGUE = """
import sys, time
import publisher.catalog.site

def stalled(root, expected):
    sys.stdout.write("ready\\n")  # one write: two processes print it
    sys.stdout.flush()
    time.sleep(120)

publisher.catalog.site.publish_issue = stalled
from publisher.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_killed_catalogues_pool_ends_with_it(library, tmp_path):
    # Its pool's processes hold its output: a reader that waits for the end of the output
    # before it collects the killed run must get it, and none is left waiting for work.
    run = subprocess.Popen(
        [sys.executable, "-c", STALLED_CATALOGUE, "catalog", str(library), "-o",
         str(tmp_path / "site"), "--jobs", "2"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PUBLISHER_CACHE": str(tmp_path / "cache")})
    try:
        assert run.stdout.readline() == "ready\n"
        pool = subprocess.run(["ps", "-o", "pid=", "--ppid", str(run.pid)],
                              capture_output=True, text=True, check=True).stdout.split()
        assert len(pool) == 2
        run.kill()
        run.communicate(timeout=30)
        assert run.returncode == -signal.SIGKILL
    finally:
        run.kill()
        run.wait()


def test_fingerprint_leaves_out_the_sites_own_templates(library, tmp_path):
    root = tmp_path / "issue"
    shutil.copytree(library / "gcdr-2015-11", root)
    first = fingerprint(root)
    (root / "layouts" / "catalog").mkdir(parents=True)
    (root / "layouts" / "catalog" / "site.css").write_text("body { color: black; }\n")
    assert fingerprint(root) == first


def test_catalog_command_refuses_a_folder_without_issues_and_a_pool_of_none(tmp_path, capsys):
    assert main(["catalog", str(tmp_path), "-o", str(tmp_path / "site")]) == 1
    assert "no issue folders" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["catalog", str(tmp_path), "-o", str(tmp_path / "site"), "--jobs", "0"])
    assert exit_.value.code == 2


def test_fingerprint_follows_no_link_reads_no_pipe_and_hashes_a_large_file_by_its_date(
        library, tmp_path):
    root = tmp_path / "issue"
    shutil.copytree(library / "gcdr-2015-11", root)
    (root / "mem").symlink_to("/proc/self/mem")  # read, it is an I/O error
    os.mkfifo(root / "pipe")  # read, it waits for a writer for ever
    large = root / "scan.tif"
    with large.open("wb") as file:
        file.truncate(65 * 2**20)
    first = fingerprint(root)
    os.utime(large, ns=(1, 1))
    second = fingerprint(root)
    assert second != first
    (root / "mem").unlink()
    (root / "mem").symlink_to("/proc/self/environ")
    assert fingerprint(root) != second


def test_catalog_command_names_a_file_it_cannot_read_in_one_line(library, tmp_path, capsys,
                                                                 monkeypatch):
    root = tmp_path / "library" / "gcdr-2015-11"
    shutil.copytree(library / "gcdr-2015-11", root)
    unreadable = next((root / "articles").glob("410-*.md"))
    digest = hashlib.file_digest

    def bad_disk(file, name):
        if file.name == str(unreadable):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return digest(file, name)

    monkeypatch.setattr(hashlib, "file_digest", bad_disk)
    assert main(["catalog", str(tmp_path / "library"), "-o", str(tmp_path / "site")]) == 1
    out, err = capsys.readouterr()
    assert f"failed: gcdr-2015-11: {unreadable}: cannot read: Input/output error" in out
    assert "Traceback" not in err


def refuse_to_build(root: str, expected: str) -> Published:
    """A build that only says it was asked for (a test that needs no build takes seconds)."""
    return Published(None, error=f"asked to build {Path(root).name}")


def test_two_folders_of_one_issue_are_refused_before_building_and_the_site_keeps_it(
        library, site, tmp_path, monkeypatch):
    library_copy, site_copy = tmp_path / "library", tmp_path / "site"
    shutil.copytree(library, library_copy)
    shutil.copytree(site, site_copy)
    shutil.copytree(library / "gcdr-2015-11", library_copy / "gcdr" / "dup")
    before = site_files(site_copy)
    monkeypatch.setattr("publisher.catalog.site.publish_issue", refuse_to_build)

    summary = build_catalog(library_copy, site_copy, jobs=1)

    assert summary.built == []
    assert sorted(summary.reused) == ["gcdr-2015-12", "gcdr-2016-01", "zbsh-2016-01"]
    failed = dict(summary.failed)
    assert len(failed) == len(summary.failed) == 3
    assert failed[BROKEN] == f"asked to build {BROKEN}"  # the only build asked for
    for name, other in (("gcdr-2015-11", "gcdr/dup"), ("gcdr/dup", "gcdr-2015-11")):
        assert failed[name] == f"the same issue (共产党人 2015-11) as {other}: remove or " \
            "correct one"
    assert summary.lines()[0] == "0 built, 3 reused, 3 failed"
    assert not any(line.startswith(("to review: gcdr-2015-11", "to review: gcdr/dup"))
                   for line in summary.lines())
    # The last good build of 2015-11 stays, with its pages and feeds as they were.
    assert site_files(site_copy) == before


def test_a_feed_of_a_magazine_the_library_no_longer_has_is_removed(library, site, tmp_path,
                                                                     monkeypatch):
    library_copy, site_copy = tmp_path / "library", tmp_path / "site"
    shutil.copytree(library, library_copy)
    shutil.copytree(site, site_copy)
    shutil.rmtree(library_copy / "zbsh-2016-01")
    monkeypatch.setattr("publisher.catalog.site.publish_issue", refuse_to_build)

    build_catalog(library_copy, site_copy, jobs=1)

    feeds = {feed.name for feed in (site_copy / "opds").glob("*.xml")}
    assert feeds == {"index.xml", "new.xml", f"{magazine_key('共产党人')}.xml",
                     f"{magazine_key('共产党人')}-2015.xml", f"{magazine_key('共产党人')}-2016.xml"}


def test_catalog_json_names_files_from_the_library_not_the_server(tmp_path):
    """catalog.json is published with the site: a warning kept in it names the issue's file
    from the library, not where the library is on the server."""
    from publisher.catalog.site import named_from_library

    root = tmp_path / "library" / "gcdr" / "2015-10"
    kept = [("publisher.pdf", logging.WARNING,
             f"{root}/articles/160-quanhui-chuanda.md: p. 9: the last lines of this item …"),
            ("publisher.epub.cover", logging.WARNING, "only 10 of 24 cover lines fit")]
    assert named_from_library(kept, root, "gcdr/2015-10") == [
        ("publisher.pdf", logging.WARNING,
         "gcdr/2015-10/articles/160-quanhui-chuanda.md: p. 9: the last lines of this item …"),
        kept[1]]
