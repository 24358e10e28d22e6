"""The print PDF laid out in sections (publisher/pdf/sections.py): the same bytes whichever way
it was built, one section laid out again after a one-sentence edit, and the composed pages as
the issue laid out whole would have them."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE

EDITED = "articles/150-zizhiqu-yantao.md"


def _build(issue: Path, out: Path, cache: Path, workers: int) -> dict[str, str]:
    """Build PDF and EPUB in a fresh process; the sha256 of each output by name."""
    env = {**os.environ, "PUBLISHER_CACHE": str(cache), "PUBLISHER_WORKERS": str(workers)}
    subprocess.run([sys.executable, "-m", "publisher.cli", "-q", "build", str(issue), "-o",
                    str(out)], env=env, check=True, capture_output=True)
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def copied_sample(tmp_path_factory) -> Path:
    issue = tmp_path_factory.mktemp("sections") / "2015-10"
    shutil.copytree(SAMPLE, issue)
    return issue


def test_the_same_bytes_serial_parallel_and_from_the_section_cache(copied_sample, tmp_path):
    issue = tmp_path / "2015-10"
    shutil.copytree(copied_sample, issue)
    parallel = _build(issue, tmp_path / "parallel", tmp_path / "cache-a", workers=2)
    serial = _build(issue, tmp_path / "serial", tmp_path / "cache-b", workers=1)
    # Without the whole outputs, the build composes from the cached sections.
    shutil.rmtree(next((tmp_path / "cache-a").iterdir()) / "outputs")
    cached = _build(issue, tmp_path / "cached", tmp_path / "cache-a", workers=2)
    assert set(parallel) == {"2015-10.pdf", "2015-10.epub"}
    assert parallel == serial == cached
    epub_alone = tmp_path / "epub-alone"
    env = {**os.environ, "PUBLISHER_CACHE": str(tmp_path / "cache-a")}
    subprocess.run([sys.executable, "-m", "publisher.cli", "-q", "build", str(issue),
                    "--epub", "-o", str(epub_alone)], env=env, check=True)
    assert (hashlib.sha256((epub_alone / "2015-10.epub").read_bytes()).hexdigest()
            == parallel["2015-10.epub"])
    # Two sections edited without moving a line: the workers lay them out, and the furniture,
    # its pages as they were, comes from the cache (a traceback, once).
    for name in ("articles/180-fu-xingguo.md", "articles/190-ma-honghai.md"):
        article = issue / name
        text = article.read_text(encoding="utf-8")
        at = text.index("的", text.index("\n---", 3) + 4)
        article.write_text(text[:at] + "地" + text[at + 1:], encoding="utf-8")
    edited = _build(issue, tmp_path / "edited", tmp_path / "cache-a", workers=2)
    assert edited != parallel
    assert edited == _build(issue, tmp_path / "edited-serial", tmp_path / "cache-b", workers=1)


def test_one_sentence_lays_out_one_section_again(copied_sample, tmp_path, monkeypatch):
    """…and lays it out before it asks for the issue's keywords, which jieba's process finds
    meanwhile; new keywords lay out no page again."""
    from pypdf import PdfReader

    from publisher import keywords
    from publisher.build import build
    from publisher.pdf import progress, sections

    monkeypatch.setenv("PUBLISHER_WORKERS", "1")
    counts: list[dict[str, int]] = []
    exit_progress = progress.Sections.__exit__

    def keep(self, *exc):
        counts.append(dict(self.counts))
        return exit_progress(self, *exc)

    monkeypatch.setattr(progress.Sections, "__exit__", keep)
    issue = tmp_path / "2015-10"
    shutil.copytree(copied_sample, issue)
    (before,) = build(issue, tmp_path / "before", pdf=True, epub=False)
    edited = issue / EDITED
    text = edited.read_text(encoding="utf-8")
    at = text.index("。", text.index("\n---", 3) + 4)
    edited.write_text(text[:at] + "，再议" + text[at:], encoding="utf-8")
    events: list[str] = []
    lay_out, issue_keywords = sections.lay_out, keywords.issue_keywords
    monkeypatch.setattr(sections, "lay_out", lambda context, job, **options: (
        events.append(job.name), lay_out(context, job, **options))[1])
    monkeypatch.setattr(keywords, "issue_keywords", lambda found: (
        events.append("keywords"), issue_keywords(found))[1])
    (after,) = build(issue, tmp_path / "after", pdf=True, epub=False)
    sections_laid_out = counts[-1]["laid out"]
    assert sections_laid_out == 1, counts
    assert events == ["item-020", "keywords"]
    old, new = PdfReader(before), PdfReader(after)
    assert len(old.pages) == len(new.pages)
    changed = [index for index, (a, b) in enumerate(zip(old.pages, new.pages, strict=True))
               if a.extract_text() != b.extract_text()]
    assert changed and all("再议" in new.pages[index].extract_text() for index in changed[:1])
    # Composed from the sections this process parsed for the first build: the same bytes as
    # a cold build of the edited issue.
    cold = _build(issue, tmp_path / "cold", tmp_path / "cold-cache", workers=2)
    assert hashlib.sha256(after.read_bytes()).hexdigest() == cold["2015-10.pdf"]
    # New keywords lay out no page again: the PDF gets them when its pages are composed.
    for article in sorted((issue / "articles").glob("*.md")):
        text = article.read_text(encoding="utf-8")
        article.write_text(text.replace("---\n", "---\nkeywords: [排版试验]\n", 1),
                           encoding="utf-8")
    (retagged,) = build(issue, tmp_path / "retagged", pdf=True, epub=False)
    assert counts[-1].get("laid out", 0) == 0, counts
    assert PdfReader(retagged).metadata["/Keywords"] == "排版试验"
    assert "排版试验" not in PdfReader(after).metadata["/Keywords"]


def test_workers_start_before_jieba_answers_where_no_section_was_laid_out(tmp_path,
                                                                           monkeypatch):
    """Their server's import of WeasyPrint overlaps the build's reading of the issue and jieba's
    work; after an edit to a text, whose section is laid out in the build's own process, none is
    started."""
    from multiprocessing import forkserver

    from publisher import build as building
    from publisher.source import load
    from tests.conftest import ROOTS

    monkeypatch.setenv("PUBLISHER_WORKERS", "2")
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "cache"))
    events: list[str] = []
    start, ask = forkserver.ensure_running, building._ask_jieba_first
    monkeypatch.setattr(forkserver, "ensure_running", lambda: (events.append("workers"),
                                                              start())[1])
    monkeypatch.setattr(building, "_ask_jieba_first", lambda *args, **options: (
        events.append("jieba"), ask(*args, **options))[1])
    read = load.load_issue
    monkeypatch.setattr(load, "load_issue", lambda root: (events.append("read"), read(root))[1])
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)

    def build(**options) -> list[str]:
        events.clear()
        building.build(issue, tmp_path / "out", **options)
        return list(events)

    assert build() == ["workers", "read", "jieba"]
    article = next((issue / "articles").glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8") + "\n再议。\n", encoding="utf-8")
    assert build() == ["read", "jieba"]
    assert build(press=True, epub=False) == ["workers", "read", "jieba"]  # no press section yet


def _record_handing_out(monkeypatch, events: list[str], event) -> None:
    """Have the section workers' pool append `event(job)` to `events` for each job handed out."""
    from publisher.pdf import sections

    executor = sections._executor

    def recording_executor(size: int):
        pool = executor(size)
        submit = pool.submit
        pool.submit = lambda function, context, job: (
            events.append(event(job)), submit(function, context, job))[1]
        return pool

    monkeypatch.setattr(sections, "_executor", recording_executor)


def test_one_worker_lays_out_while_jieba_finds_the_keywords(tmp_path, monkeypatch):
    """jieba's process and a worker each take about a worker's memory: a cold build lets the
    first worker start while jieba finds the keywords, and the next only once it has ended."""
    from publisher import build as building
    from publisher import words
    from tests.conftest import ROOTS

    monkeypatch.setenv("PUBLISHER_WORKERS", "2")
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "cache"))
    events: list[str] = []
    release = words.release

    def ended() -> None:
        release()
        events.append("jieba ended")

    monkeypatch.setattr(words, "release", ended)
    _record_handing_out(monkeypatch, events, lambda job: "section")
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    building.build(issue, tmp_path / "out")
    assert events[:3] == ["section", "jieba ended", "section"], events
    assert words._process is None


def test_the_epub_is_made_while_a_worker_lays_out_the_furniture(tmp_path, monkeypatch):
    """The furniture (with the 目录's numbers) waits for every section, and the EPUB needs only
    where the pages begin: it is made after the furniture is handed to a worker and before its
    layout is taken."""
    import publisher.epub
    from publisher import build as building
    from publisher.pdf import progress
    from tests.conftest import ROOTS

    monkeypatch.setenv("PUBLISHER_WORKERS", "2")
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "cache"))
    events: list[str] = []
    write_epub, update = publisher.epub.write_epub, progress.Sections.update
    _record_handing_out(monkeypatch, events, lambda job: f"handed {job.name}")
    monkeypatch.setattr(publisher.epub, "write_epub", lambda *args, **options: (
        events.append("EPUB"), write_epub(*args, **options))[1])
    monkeypatch.setattr(progress.Sections, "update", lambda self, how, job: (
        events.append(f"{how} {job.name}"), update(self, how, job))[1])
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    pdf, epub = building.build(issue, tmp_path / "out")
    assert pdf.read_bytes().startswith(b"%PDF-")
    furniture = "running heads, folios and the 目录's numbers"
    assert events.index(f"handed {furniture}") < events.index("EPUB") \
        < events.index(f"laid out {furniture}"), events
    # The same bytes as an EPUB built alone, which lays out its own page map.
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "another cache"))
    (alone,) = building.build(issue, tmp_path / "alone", pdf=False)
    assert alone.read_bytes() == epub.read_bytes()


def test_a_worker_has_the_environment_of_the_build_that_asks_it(tmp_path, monkeypatch):
    """The workers' server outlives a build (a watch or a test runs many in one process): a
    worker takes the cache and the rest of the environment from the build that starts it, not
    from the one that started the server, and starts no jieba process of its own."""
    from publisher import cache, processes
    from publisher.pdf import sections

    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "first"))
    with sections._executor(1) as pool:  # starts the server, unless an earlier test did
        assert pool.submit(cache.folder).result() == tmp_path / "first"
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "second"))
    monkeypatch.setenv("PUBLISHER_WORKERS", "2")
    with sections._executor(1) as pool:
        assert pool.submit(cache.folder).result() == tmp_path / "second"
        assert pool.submit(processes.workers).result() == 1


def test_left_pages_are_shifted_to_their_margins_and_carry_their_furniture(sample_pdf):
    """Body pages are laid out with a right page's margins: on a left page the text block and
    the running head sit at the left page's margins, the folio at its outer (left) edge."""
    import pdfplumber

    from publisher.pdf.grid import Grid
    from publisher.source.load import load_issue

    _, _, inner, outer = Grid(load_issue(SAMPLE).trim).margins()
    with pdfplumber.open(sample_pdf) as pdf:
        for number in (5, 6):  # folios 4 (a left page) and 5 (a right one)
            page = pdf.pages[number]
            words = page.extract_words()
            body = [w for w in words if page.height * 0.15 < w["top"] < page.height * 0.85]
            left_edge = min(w["x0"] for w in body)
            folio = str(number - 1)
            foot = [w for w in words if w["top"] > page.height * 0.9 and folio in w["text"]]
            assert foot, (number, [w["text"] for w in words[-5:]])
            if number % 2:  # a left page: its outer margin is on the left
                assert left_edge == pytest.approx(outer, abs=1.5)
                assert foot[0]["x0"] == pytest.approx(outer, abs=1.5)
            else:
                assert left_edge == pytest.approx(inner, abs=1.5)
                assert foot[-1]["x1"] == pytest.approx(page.width - outer, abs=1.5)
            head = [w for w in words if w["top"] < page.height * 0.1]
            assert any("要闻要论" in w["text"] for w in head)


def test_a_press_pdf_is_the_same_bytes_serial_and_parallel(tmp_path):
    """The press file's XMP is rewritten by the process that composes it, which in parallel
    has written no PDF itself."""
    from tests.conftest import ROOTS

    def press(workers: int) -> bytes:
        out = tmp_path / f"out-{workers}"
        env = {**os.environ, "PUBLISHER_CACHE": str(tmp_path / f"cache-{workers}"),
               "PUBLISHER_WORKERS": str(workers)}
        subprocess.run([sys.executable, "-m", "publisher.cli", "-q", "build",
                        str(ROOTS / "press-periodical"), "--pdf", "--press", "-o", str(out)],
                       env=env, check=True, capture_output=True)
        (built,) = out.iterdir()
        return built.read_bytes()

    assert press(1) == press(2)


def test_progress_is_quiet_when_stderr_is_not_a_terminal(capsys):
    from types import SimpleNamespace

    from publisher.pdf.progress import Sections

    with Sections() as shown:
        shown.update("laid out", SimpleNamespace(name="item-010"))
        shown.update("cached", SimpleNamespace(name="item-020"))
        shown.composed(4)
    assert shown.counts == {"laid out": 1, "cached": 1}
    assert capsys.readouterr() == ("", "")


def test_nothing_of_a_section_layout_is_held_once_it_is_laid_out(monkeypatch):
    """A layout runs with the collector frozen, and what survives each section's collection
    is frozen too (`sections._release_memory`): nothing of the layout may survive it, or it
    would be held until the worker ends. The PDF reader that reads the section's links is one
    that holds reference cycles."""
    import gc
    import weakref

    import pypdf

    from publisher.context import resolve
    from publisher.pdf import sections
    from publisher.pdf.html import parts
    from publisher.source.load import load_issue

    readers: list[weakref.ref] = []
    opened = pypdf.PdfReader.__init__

    def remembered(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        readers.append(weakref.ref(self))

    monkeypatch.setattr(pypdf.PdfReader, "__init__", remembered)
    context = resolve(load_issue(SAMPLE))
    last = [sections.Job(part, False) for part in parts(context)][-2:]  # the blank, the back
    gc.freeze()
    try:
        laid_out = [sections.lay_out(context, job, in_process=True) for job in last]
    finally:
        gc.unfreeze()
    assert [len(section.page_names) for section in laid_out] == [1, 1]
    assert len(readers) == 2 and all(reader() is None for reader in readers)


def test_composing_copies_fonts_widths_whole_and_writes_them_as_pypdf_does(sample_pdf, tmp_path,
                                                                           monkeypatch):
    """A font's widths, three quarters of the values in the composed PDF, are copied whole
    (`widths.Widths`) and written as the bytes pypdf writes for them: the PDF composed is the
    one that copying them number by number makes, which is the sample's."""
    from publisher.context import resolve
    from publisher.pdf import pages, sections, widths
    from publisher.source.load import load_issue

    context = resolve(load_issue(SAMPLE))

    def composed(path: Path) -> tuple[bytes, int]:
        sections._parsed.clear()
        laid_out = sections.lay_out_issue(context, press=False, out_dir=sample_pdf.parent)
        furniture = sections.finish_layout(context, laid_out, out_dir=sample_pdf.parent)
        pages.finish(sections.compose(context, laid_out, furniture), path,
                     laid_out.plan.labels, texts=context.texts, bleed=None, intent=None)
        whole = sum(isinstance(font.get_object()[key], widths.Widths)
                    for reader in sections._parsed.values() for page in reader.pages
                    for font in page["/Resources"].get_object().get("/Font", {}).values()
                    for key in ("/Widths",) if key in font.get_object())
        whole += sum(isinstance(cid.get_object().raw_get("/W"), widths.Widths)
                     for reader in sections._parsed.values() for page in reader.pages
                     for font in page["/Resources"].get_object().get("/Font", {}).values()
                     for cid in font.get_object().get("/DescendantFonts", ())
                     if "/W" in cid.get_object())
        return path.read_bytes(), whole

    frozen, whole = composed(tmp_path / "whole.pdf")
    assert whole > 20
    monkeypatch.setattr(widths, "freeze", lambda reader: None)
    copied, none = composed(tmp_path / "by-number.pdf")
    assert none == 0
    assert frozen == copied == sample_pdf.read_bytes()
