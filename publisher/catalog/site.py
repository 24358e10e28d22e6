"""Library → site: decide which issues to rebuild, build them through an executor, write their
files as they arrive, then the pages, feeds and annual indexes from every issue's record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, as_completed
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from publisher.catalog import annual, opds, pages
from publisher.catalog.executors import executor
from publisher.catalog.library import find_issues, fingerprint
from publisher.catalog.paths import issue_folder, year_folder
from publisher.catalog.publish import Published, publish_issue
from publisher.errors import PublisherError
from publisher.output import atomic_output

# The site's memory of what it holds: each issue's record (with its fingerprint) by its folder
# in the library, and each annual index's key.
STATE = "catalog.json"


@dataclass
class Summary:
    built: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        head = (f"{len(self.built)} built, {len(self.reused)} reused, "
                f"{len(self.failed)} failed")
        return [head, *(f"failed: {name}: {error}" for name, error in self.failed)]


def build_catalog(library: Path, site: Path, *, jobs: int | None = None,
                  scheduler: str | None = None,
                  progress: Callable[[str], None] = lambda line: None) -> Summary:
    """Build the site of the issues in `library` into `site`, rebuilding only the issues whose
    fingerprint changed. A failed issue keeps its last good build in the site, if any."""
    library = library.resolve()
    state = _read_state(site)
    summary = Summary()
    records: dict[str, dict] = {}
    todo: dict[str, tuple[Path, str]] = {}
    for root in find_issues(library):
        name = root.relative_to(library).as_posix()
        previous = state["issues"].get(name)
        try:
            key = fingerprint(root)
        except PublisherError as exc:
            _failed(summary, records, name, str(exc), previous, progress)
            continue
        if previous and previous["fingerprint"] == key and _present(site, previous):
            records[name] = previous
            summary.reused.append(name)
            progress(f"reused {name} ({previous['magazine']} {previous['label']})")
        else:
            todo[name] = (root, key)

    with executor(jobs, scheduler) as pool:
        futures = {_submit(pool, publish_issue, str(root), key): name
                   for name, (root, key) in todo.items()}
        for count, future in enumerate(as_completed(futures), 1):
            name = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # a bug, or a pool that lost its process: the rest go on
                result = Published(None, error=f"{type(exc).__name__}: {exc}")
            where = f"[{count}/{len(futures)}]"
            if result.error:
                _failed(summary, records, name, result.error, state["issues"].get(name),
                        progress, where)
                continue
            folder = issue_folder(result.record)
            for file, data in result.files.items():
                write(site / folder / file, data)
            records[name] = result.record
            summary.built.append(name)
            progress(f"{where} built {name} ({result.record['magazine']} "
                     f"{result.record['label']}) in {result.seconds:.1f} s")
        _refuse_doubles(summary, records)

        issues = sorted(records.values(), key=lambda r: (r["magazine"], r["year"], r["month"]))
        years = {}
        for (magazine, year), group in groupby(issues, key=lambda r: (r["magazine"], r["year"])):
            years[year_folder(magazine, year)] = list(group)
        annual_keys = {folder: _annual_key(group) for folder, group in years.items()}
        stale = {folder: _submit(pool, annual.publish_annual,
                                 str(_root_of(library, records, group[-1])), group)
                 for folder, group in years.items()
                 if state["years"].get(folder) != annual_keys[folder]
                 or not (site / folder / annual.PDF).is_file()}
        for folder, future in stale.items():
            try:
                write(site / folder / annual.PDF, future.result())
                progress(f"built annual index {folder}")
            except Exception as exc:  # the issues' own files stay good
                summary.failed.append((folder, str(exc)))
                annual_keys.pop(folder)
                progress(f"failed annual index {folder}: {exc}")

    for path, data in {**pages.site_pages(library, issues, years),
                       **opds.feeds(issues)}.items():
        write(site / path, data)
    write(site / STATE, json.dumps({"issues": records, "years": annual_keys},
                                   ensure_ascii=False, indent=1, sort_keys=True).encode())
    return summary


def _submit(pool: Executor, function: Callable, *args) -> Future:
    """The task's future; if the pool broke (one of its processes died: out of memory, a
    crash), a future that failed with that error, so that the run goes on and reports it."""
    try:
        return pool.submit(function, *args)
    except BrokenExecutor as exc:
        failed = Future()
        failed.set_exception(exc)
        return failed


def _failed(summary: Summary, records: dict[str, dict], name: str, error: str,
            previous: dict | None, progress: Callable[[str], None], where: str = "") -> None:
    summary.failed.append((name, error))
    if previous:
        records[name] = previous
    kept = "; its last good build stays in the site" if previous else ""
    progress(f"{where} failed {name}{kept}:\n{error}".lstrip())


def _refuse_doubles(summary: Summary, records: dict[str, dict]) -> None:
    """Two folders of one magazine's issue would share a folder of the site: neither is shown."""
    by_folder: dict[str, list[str]] = {}
    for name, record in records.items():
        by_folder.setdefault(issue_folder(record), []).append(name)
    for names in by_folder.values():
        if len(names) > 1:
            for name in names:
                records.pop(name)
                summary.failed.append((name, f"the same issue as {', '.join(names)} (magazine, "
                                             "year and month): remove or correct one"))


def _annual_key(group: list[dict]) -> str:
    return hashlib.sha256(" ".join(r["fingerprint"] for r in group).encode()).hexdigest()


def _root_of(library: Path, records: dict[str, dict], record: dict) -> Path:
    return library / next(name for name, r in records.items() if r is record)


def _present(site: Path, record: dict) -> bool:
    folder = site / issue_folder(record)
    return all((folder / f["name"]).is_file() for f in record["files"].values())


def _read_state(site: Path) -> dict:
    try:
        state = json.loads((site / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"issues": {}, "years": {}}
    return state


def write(path: Path, data: bytes) -> None:
    """Write atomically; leave a file with the same bytes untouched (so that its date, which
    a web server's caching and rsync rely on, says when it last changed)."""
    if path.is_file() and path.read_bytes() == data:
        return
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
