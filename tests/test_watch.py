"""`publisher watch`: an edit is rebuilt without asking; a broken edit reports its file and line
and keeps the last good output."""

from __future__ import annotations

import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from publisher.watch import Outcome, build_once, report, watch
from tests.conftest import ROOTS

WAIT = 300  # seconds: a build on a busy two-core machine


@pytest.fixture
def watching(tmp_path):
    """A copy of a small issue under `watch` (EPUB only, to keep the test short), and a queue of
    its builds' outcomes; the watcher is stopped after the test."""
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "epub-elements", issue)
    outcomes: queue.Queue[Outcome] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(issue, tmp_path / "out"), daemon=True,
                              kwargs={"on_build": outcomes.put, "stop": stop, "pdf": False,
                                      "epub": True})
    thread.start()
    yield issue, outcomes
    stop.set()
    thread.join(WAIT)
    assert not thread.is_alive()


def _text(epub) -> str:
    with zipfile.ZipFile(epub) as book:
        return "".join(book.read(name).decode() for name in book.namelist()
                       if name.endswith(".xhtml"))


def test_an_edit_is_rebuilt_and_a_broken_one_keeps_the_last_good_output(watching, capsys,
                                                                          caplog):
    caplog.set_level(logging.INFO)
    issue, outcomes = watching
    first = outcomes.get(timeout=WAIT)
    assert not first.errors
    (epub,) = first.files
    assert "简讯正文第一段" in _text(epub)

    brief = issue / "articles" / "01-brief.md"
    brief.write_text(brief.read_text(encoding="utf-8").replace("简讯正文第一段", "改过的一句话"),
                     encoding="utf-8")
    edited = outcomes.get(timeout=WAIT)
    assert edited.files == (epub,) and "改过的一句话" in _text(epub)
    told = [r.getMessage() for r in caplog.records if r.name.startswith(("publisher.watch",
                                                                        "watchfiles"))]
    assert told == [f"watching {issue}: each change saved is built again; Ctrl-C stops",
                    "changed: articles/01-brief.md"]

    good = epub.read_bytes()
    brief.write_text("---\nkind: brief\ncolumn: nowhere\ntitle: 标题\n---\n\n正文。\n",
                     encoding="utf-8")
    broken = outcomes.get(timeout=WAIT)
    assert not broken.files
    (line,) = broken.errors
    assert line.startswith(f"{brief}:3: ") and "nowhere" in line
    assert epub.read_bytes() == good
    report(broken)
    assert capsys.readouterr().err.splitlines()[0] == line


def test_a_save_written_in_two_parts_is_built_once_it_is_whole(watching):
    """`watch` builds 2-4 ms after a save: a file written in two parts 50 ms apart is built
    from its first half, and then again, whole, and the last build is the whole file's."""
    issue, outcomes = watching
    (epub,) = outcomes.get(timeout=WAIT).files
    brief = issue / "articles" / "01-brief.md"
    text = brief.read_text(encoding="utf-8").replace("简讯正文第一段", "分两次写下的一句话")
    half = len(text.encode()) // 2
    with brief.open("wb") as saving:
        saving.write(text.encode()[:half])
        saving.flush()
        time.sleep(0.05)
        saving.write(text.encode()[half:])
    last = outcomes.get(timeout=WAIT)
    while True:  # the half file's build, if it came, then the whole one's
        try:
            last = outcomes.get(timeout=3)
        except queue.Empty:
            break
    assert not last.errors and "分两次写下的一句话" in _text(epub)


def test_an_issue_folder_replaced_by_a_fresh_copy_is_watched_in_its_place(watching, caplog):
    caplog.set_level(logging.INFO)
    issue, outcomes = watching
    (epub,) = outcomes.get(timeout=WAIT).files
    # Moved away, and a fresh copy (with an edit) put where it was: built as it stands.
    fresh = issue.parent / "fresh"
    shutil.copytree(issue, fresh)
    brief = fresh / "articles" / "01-brief.md"
    brief.write_text(brief.read_text(encoding="utf-8").replace("简讯正文第一段", "新拷贝里的话"),
                     encoding="utf-8")
    issue.rename(issue.parent / "old")
    fresh.rename(issue)
    assert not outcomes.get(timeout=WAIT).errors and "新拷贝里的话" in _text(epub)
    assert "a watched folder was replaced: watching the one there now" in caplog.messages
    # …and an edit to the folder now there is built too.
    brief = issue / "articles" / "01-brief.md"
    brief.write_text(brief.read_text(encoding="utf-8").replace("新拷贝里的话", "再改一次"),
                     encoding="utf-8")
    assert not outcomes.get(timeout=WAIT).errors and "再改一次" in _text(epub)


def test_after_a_first_build_from_the_cache_watch_loads_what_an_edit_needs(tmp_path):
    """A first build whose outputs come from the cache loads neither WeasyPrint nor jieba; the
    watcher loads them while it waits, not when the first edit comes."""
    issue, out = tmp_path / "issue", tmp_path / "out"
    shutil.copytree(ROOTS / "good-minimal", issue)
    env = {**os.environ, "PUBLISHER_CACHE": str(tmp_path / "cache"), "PUBLISHER_WORKERS": "1"}
    subprocess.run([sys.executable, "-m", "publisher.cli", "-q", "build", str(issue), "-o",
                    str(out)], env=env, check=True, capture_output=True)
    script = f"""
import sys, threading, time
from pathlib import Path
from publisher import words
from publisher.watch import watch

def loaded():
    return "weasyprint" in sys.modules and words.jieba.cache_info().currsize == 1

first, stop = threading.Event(), threading.Event()
threading.Thread(target=watch, args=(Path({str(issue)!r}), Path({str(out)!r})), daemon=True,
                 kwargs={{"on_build": lambda outcome: first.set(), "stop": stop}}).start()
first.wait(120)
print("after the first build:", loaded())
deadline = time.monotonic() + 120
while not loaded() and time.monotonic() < deadline:
    time.sleep(0.2)
print("while waiting:", loaded())
stop.set()
"""
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=WAIT, cwd=Path(__file__).parents[1])
    assert done.stdout.splitlines() == ["after the first build: False", "while waiting: True"], \
        done.stderr


def test_a_changes_files_are_named_but_an_editors_temporary_one(tmp_path):
    """`sed -i` writes a temporary file and renames it over the article: the batch has both."""
    from watchfiles import Change

    from publisher.watch import _changed

    article = tmp_path / "articles" / "10-a.md"
    article.parent.mkdir()
    article.write_text("正文", encoding="utf-8")
    temporary, removed = tmp_path / "articles" / "sedBEklBd", tmp_path / "articles" / "20-b.md"
    batch = {(Change.added, str(temporary)), (Change.deleted, str(temporary)),
             (Change.modified, str(article)), (Change.deleted, str(removed))}
    assert _changed(batch, [tmp_path]) == ["articles/10-a.md", "articles/20-b.md"]


def test_after_a_first_build_from_the_cache_an_edit_lays_out_only_the_lines_it_changed(
        tmp_path):
    """The first build took the sections from the cache and kept none of their lines: while
    it waits, `watch` lays every section out once, so that the first edit breaks into lines
    only the paragraph edited, not its section's every paragraph."""
    issue, out = tmp_path / "issue", tmp_path / "out"
    shutil.copytree(ROOTS / "good-minimal", issue)
    article = issue / "articles" / "10-good.md"
    long_paragraphs = "".join(f"\n第{n}段：" + "组织部门推动基层党建工作落地见效，" * 24 + "\n"
                              for n in range(4))
    article.write_text(article.read_text(encoding="utf-8") + long_paragraphs, encoding="utf-8")
    env = {**os.environ, "PUBLISHER_CACHE": str(tmp_path / "cache"), "PUBLISHER_WORKERS": "1"}
    subprocess.run([sys.executable, "-m", "publisher.cli", "-q", "build", str(issue), "-o",
                    str(out)], env=env, check=True, capture_output=True)
    script = f"""
import logging, queue, threading
from pathlib import Path
from publisher.pdf.weasyprint import lines
from publisher.watch import READY, watch

laid_out = []
lay_out_line = lines._lay_out_line
def counted(*arguments):
    laid_out.append(1)
    return lay_out_line(*arguments)
lines._lay_out_line = counted

rehearsed = threading.Event()
class Ready(logging.Handler):
    def emit(self, record):
        if record.getMessage() == READY:
            rehearsed.set()
logging.getLogger("publisher.watch").addHandler(Ready())
logging.getLogger("publisher.watch").setLevel(logging.INFO)

outcomes, stop = queue.Queue(), threading.Event()
issue = Path({str(issue)!r})
threading.Thread(target=watch, args=(issue, Path({str(out)!r})), daemon=True,
                 kwargs={{"on_build": outcomes.put, "stop": stop}}).start()
print("first build laid out", len(laid_out) if not outcomes.get(timeout=120).errors else None)
print("rehearsed:", rehearsed.wait(120))
laid_out.clear()
article = issue / "articles" / "10-good.md"
article.write_text(article.read_text(encoding="utf-8").replace("正文第一段。", "正文第一段改了。"),
                   encoding="utf-8")
print("edit's errors:", len(outcomes.get(timeout=120).errors))
print(len(laid_out))
stop.set()
"""
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=WAIT, cwd=Path(__file__).parents[1])
    *told, count = done.stdout.splitlines() or [""]
    assert told == ["first build laid out 0", "rehearsed: True", "edit's errors: 0"], \
        done.stderr
    # The edited paragraph is one line; the four after it some twenty each (83 in all).
    assert 1 <= int(count) <= 2


def test_what_an_edits_build_leaves_in_reference_cycles_is_freed_while_watch_waits(tmp_path):
    """Layouts run with the collector frozen, and its rare walks of the oldest objects left
    each edit's boxes and document in memory (7 MB an edit of the sample, for as long as
    `watch` ran): `watch` collects them once no change has come for a moment. Here, after
    three edits and a pause, a collection finds nothing of theirs left; without `watch`'s,
    it found some 10,000 objects."""
    issue, out = tmp_path / "issue", tmp_path / "out"
    shutil.copytree(ROOTS / "good-minimal", issue)
    env = {**os.environ, "PUBLISHER_CACHE": str(tmp_path / "cache"), "PUBLISHER_WORKERS": "1"}
    script = f"""
import gc, queue, threading, time
from pathlib import Path
from publisher.watch import watch

outcomes, stop = queue.Queue(), threading.Event()
issue = Path({str(issue)!r})
threading.Thread(target=watch, args=(issue, Path({str(out)!r})), daemon=True,
                 kwargs={{"on_build": outcomes.put, "stop": stop, "epub": False}}).start()
print("first build's errors:", len(outcomes.get(timeout=120).errors))
article = issue / "articles" / "10-good.md"
for n in range(3):
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("正文第", f"正文{{n}}第", 1), encoding="utf-8")
    print("edit's errors:", len(outcomes.get(timeout=120).errors))
time.sleep(3)
print(gc.collect())
stop.set()
"""
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=WAIT, cwd=Path(__file__).parents[1])
    *told, found = done.stdout.splitlines() or [""]
    assert told == ["first build's errors: 0"] + ["edit's errors: 0"] * 3, done.stderr
    assert int(found) < 1000


def test_an_edits_build_runs_without_the_collector_which_is_back_after_it(monkeypatch, tmp_path):
    """Young-object collections took 9 ms of an edit's 0.19 s on the sample: a build in
    `watch` runs without the collector (its leftovers wait for the pause, above), which is
    running again after it, after a broken one too."""
    import gc

    from publisher import build as building
    from publisher.errors import BuildError

    collecting = []

    def build(root, out_dir, **options):
        collecting.append(gc.isenabled())
        if len(collecting) == 2:
            raise BuildError("a broken edit", root)
        return []

    monkeypatch.setattr(building, "build", build)
    assert gc.isenabled()
    assert build_once(tmp_path, tmp_path / "out").errors == ()
    assert build_once(tmp_path, tmp_path / "out").errors
    assert collecting == [False, False] and gc.isenabled()
