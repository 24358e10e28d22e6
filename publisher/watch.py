"""`publisher watch`: build, then build again whenever a source, layout or font file changes,
in one process that keeps its imports, fonts and caches warm. A broken edit prints its
`path:line: message` and leaves the last good outputs where they are."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from publisher.build import an_output, output_folder, sections_cached
from publisher.errors import IssueErrors, PublisherError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """One build in the loop: the files written, or the error lines that stopped it."""

    files: tuple[Path, ...] = ()
    errors: tuple[str, ...] = ()


def error_lines(exc: PublisherError) -> tuple[str, ...]:
    """The `path:line: message` lines of an error, as `publisher build` prints them."""
    return tuple(str(e) for e in exc.errors) if isinstance(exc, IssueErrors) else (str(exc),)


def watched_folders(root: Path) -> list[Path]:
    """The issue folder, the layout folders and the project's fonts folder."""
    from publisher import templates

    return list(dict.fromkeys(p.resolve() for p in (root, *templates.search_path(root),
                                                     templates.shipped("fonts"))))


def build_once(root: Path, out_dir: Path, **options) -> Outcome:
    """A build whose PDF is put in place as soon as it is made: the pages an editor waits for
    do not wait for the EPUB too."""
    from publisher.build import build

    try:
        with collector_paused():
            return Outcome(files=tuple(build(root, out_dir, each_when_made=True, **options)))
    except PublisherError as exc:
        return Outcome(errors=error_lines(exc))


def watch(root: Path, out_dir: Path | None = None, *, on_build: Callable[[Outcome], None],
          stop: threading.Event | None = None, **options) -> None:
    """Build now and after every change until `stop` is set, telling `on_build` each outcome."""
    from watchfiles import watch as changes

    from publisher import processes

    out_dir = output_folder(root, out_dir).resolve()
    resolved = root.resolve()

    def relevant(_change, name: str) -> bool:
        path = Path(name)
        # Outputs and editors' hidden swap and backup files are not sources.
        return not (an_output(path, resolved, out_dir) or path.name.startswith(".")
                    or path.name.endswith("~"))

    press = options.get("press", False)
    pdf = options.get("pdf", True)
    if pdf:
        from publisher.pdf import sections

        sections.keep_lines()  # from the first build on: the first edit finds its lines
    # Its "3 changes detected" counts the steps of one save; the files changed are told below.
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    # The first build comes once the watcher runs (its first, empty, batch after a timeout), so
    # an edit saved while or just after it builds is not missed; so does one after a watched
    # folder was moved away and another put in its place (a fresh copy unpacked), which the
    # watcher, following the one moved away, would not see.
    due, first = True, True
    rehearsal: Iterator | None = None  # of the sections whose lines the first build did not keep
    leftovers = False  # of a build, for the collector (`collect_leftovers`)
    while not (stop and stop.is_set()):
        folders = watched_folders(root)
        watched = _identities(folders)
        if None in watched:  # moved away: watched again once a folder stands there
            (stop or threading.Event()).wait(0.5)
            continue
        # A batch is yielded once a step passes without a new change: 2-4 ms after a save, where
        # watchfiles' 50 ms step took 50-100 ms of the fifth of a second an edit's build has
        # (a save's writes come microseconds apart). With none for 100 ms, an empty one: a
        # step of the rehearsal.
        for batch in changes(*folders, watch_filter=relevant, stop_event=stop,
                             debounce=200, step=2, rust_timeout=100, yield_on_timeout=True):
            if _identities(folders) != watched:
                logger.info("a watched folder was replaced: watching the one there now")
                due = True
                break
            if batch or due:
                if batch:
                    logger.info("changed: %s", ", ".join(_changed(batch, folders)))
                due = False
                # Its layouts' lines are kept only where the first build lays them out here.
                rehearse = first and pdf and (processes.workers() > 1 or sections_cached(
                    root, out_dir, press=press))
                outcome = build_once(root, out_dir, **options)
                on_build(outcome)
                leftovers = True
                if first:
                    first = False
                    logger.info("watching %s: each change saved is built again; Ctrl-C stops",
                                root)
                    warming = threading.Thread(target=warm_up, kwargs={"pdf": pdf},
                                               daemon=True, name="warm-up")
                    warming.start()
                    if rehearse:
                        rehearsal = rehearsal_steps(root, out_dir, press=press)
                    elif pdf and not outcome.errors:
                        logger.info(READY)
            # Not while the warm-up imports what the rehearsal would import too: two threads
            # importing one package of circular imports may find it half made.
            elif rehearsal is not None and not warming.is_alive():
                if next(rehearsal, None) is None:
                    rehearsal, leftovers = None, False  # collected as it ended
            elif leftovers:
                collect_leftovers()
                leftovers = False


READY = "every section laid out once: an edit's build lays out only the lines it changes"


def rehearsal_steps(root: Path, out_dir: Path, *, press: bool) -> Iterator[str]:
    """The sections of the issue at `root` laid out one a step (`sections.rehearsal`): here
    while no change comes, after a first build that kept none of their lines (it took them
    from the cache, or its workers laid them out); all at once in the warm process. The first
    edit of each then lays out only its paragraph's lines (the sample's took 0.8-1.0 s, not
    1.4-1.5). An edit saved during a step waits for it, a section's layout. Its warnings are
    the builds' own: it says only READY, at its end. A change it cannot read ends it."""
    from publisher.context import resolve
    from publisher.pdf import sections
    from publisher.source.load import load_issue

    steps = None
    while True:
        logging.disable(logging.WARNING)
        try:
            if steps is None:
                steps = sections.rehearsal(resolve(load_issue(root)), press=press,
                                           out_dir=out_dir)
            step = next(steps, None)
        except (PublisherError, OSError):
            return
        finally:
            logging.disable(logging.NOTSET)
        if step is None:
            collect_leftovers()
            logger.info(READY)
            return
        yield step


@contextmanager
def collector_paused() -> Iterator[None]:
    """A build in a warm process, without the collector: what it leaves in reference cycles
    waits for `collect_leftovers`, once no change comes. Its collections of young objects took
    9 ms of the 0.19 s an edit's PDF took on the sample."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collect_leftovers() -> None:
    """Free what the builds of this warm process left in reference cycles: each layout's boxes
    and document, once the next took their place. Layouts run with the collector frozen
    (`publisher.pdf.sections`), and then it walks the oldest objects so seldom that they
    grew 7 MB an edit on the sample, for as long as `watch` ran. A full collection takes some
    0.3 s: it runs once no change has come for a moment, not while an edit waits."""
    import gc

    gc.collect()


def _identities(folders: list[Path]) -> list[tuple[int, int] | None]:
    """Which folder stands at each path (device, inode), None where none does."""
    found = []
    for folder in folders:
        try:
            status = folder.stat()
        except OSError:
            found.append(None)
            continue
        found.append((status.st_dev, status.st_ino))
    return found


def _changed(batch: set, folders: list[Path]) -> list[str]:
    """The files a batch of changes touched, as a person names them (relative to the watched
    folder that holds each), but an editor's temporary file, made and gone within the batch
    (`sed -i`, an editor saving by renaming)."""
    from watchfiles import Change

    added = {name for change, name in batch if change == Change.added}
    shown = set()
    for _, name in batch:
        path = Path(name)
        if name in added and not path.exists():
            continue
        shown.add(next((str(path.relative_to(folder)) for folder in folders
                        if path.is_relative_to(folder)), name))
    return sorted(shown)


def warm_up(*, pdf: bool) -> None:
    """Load what an edit's build needs, while the watcher waits for the first edit: a first
    build from the cache loaded none of it (WeasyPrint and the layout's modules, about a
    second; jieba's dictionary and IDF table where this process does jieba's work, two more),
    and the first edit would pay for it."""
    from publisher import processes, words

    if pdf:
        from publisher.pdf import sections  # noqa: F401
        from publisher.pdf.weasyprint import balance, justify, linegrid  # noqa: F401
    if processes.workers() == 1:
        words.tfidf_terms("", 0)  # its dictionary and IDF table load on first use


def report(outcome: Outcome) -> None:
    """Print a build's errors; its files were logged as written."""
    for line in outcome.errors:
        print(line, file=sys.stderr, flush=True)
    if outcome.errors:
        print("publisher: the last good outputs are kept; waiting for the next change",
              file=sys.stderr, flush=True)
