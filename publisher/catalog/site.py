"""Library → site: decide which issues to rebuild, build them through an executor, write their
files as they arrive, then the pages, feeds and annual indexes from every issue's record."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from publisher.catalog import annual, opds, pages
from publisher.catalog.executors import executor
from publisher.catalog.library import annual_fingerprint, find_issues, fingerprint
from publisher.catalog.paths import issue_folder, year_folder
from publisher.catalog.publish import Published, publish_issue
from publisher.errors import PublisherError
from publisher.output import atomic_output
from publisher.source.load import load_manifest

# The site's memory of what it holds: each issue's record (with its fingerprint) by its folder
# in the library, and each annual index's key.
STATE = "catalog.json"


def named_from_library(warnings: list, root: Path, name: str) -> list:
    """A build's warnings with the issue's folder named as in the library (`name`), not by
    where the library is on the server: catalog.json, which keeps them, is published."""
    return [(logger, level, message.replace(f"{root}/", f"{name}/"))
            for logger, level, message in warnings]


@dataclass
class Summary:
    built: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    # Issues whose book changed since the site last published them, under the same date.
    unannounced: list[str] = field(default_factory=list)
    # Issues built with the importer's review notes still in their sources, and how many.
    to_review: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        head = (f"{len(self.built)} built, {len(self.reused)} reused, "
                f"{len(self.failed)} failed")
        return [head, *(f"failed: {name}: {error}" for name, error in self.failed),
                *(f"unannounced: {name}: its EPUB changed since the site published it, but not "
                  "its date: if readers should get the new version (a correction, not a new "
                  "version of the tool or the layouts), add `revised: YYYY-MM-DD` to its "
                  "issue.yaml, or readers' apps and the feed will not show it"
                  for name in self.unannounced),
                *(f"to review: {name}: published with {count} review note(s) of the importer "
                  "still in its sources: `publisher validate` lists them"
                  for name, count in self.to_review)]


def build_catalog(library: Path, site: Path, *, jobs: int | None = None,
                  scheduler: str | None = None,
                  progress: Callable[[str], None] = lambda line: None) -> Summary:
    """Build the site of the issues in `library` into `site`, rebuilding only the issues whose
    fingerprint changed. A failed issue keeps its last good build in the site, if any."""
    roots = find_issues(library.resolve())
    if not roots:
        raise PublisherError("no issue folders (folders with an issue.yaml) here", library)
    run = Run(library.resolve(), site, progress, total=len(roots))
    todo = run.reuse(run.refuse_doubles(roots))
    with executor(jobs, scheduler) as pool:
        run.build_issues(pool, todo)
        issues, annual_keys = run.build_annual_indexes(pool)
    feeds = opds.feeds(issues)
    for path, data in {**pages.site_pages(run.library, issues), **feeds}.items():
        write(site / path, data)
    # A feed of a year or magazine the site no longer has would still be found by its address.
    for stale in {*(site / opds.FOLDER).glob("*.xml")} - {site / path for path in feeds}:
        stale.unlink()
    write(site / STATE, json.dumps({"issues": run.records, "years": annual_keys},
                                   ensure_ascii=False, indent=1, sort_keys=True).encode())
    return run.summary


@dataclass
class Run:
    """One run's state: what the site held (`state`), and what it will hold (`records`)."""

    library: Path
    site: Path
    progress: Callable[[str], None]
    total: int  # the library's issues, which the progress lines count
    told: int = 0
    summary: Summary = field(default_factory=Summary)
    records: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self):
        self.state = _read_state(self.site)
        # The folder that is each issue of the library, by its manifest, when only one is.
        self.folder_of: dict[tuple[str, int, int], str] = {}

    def refuse_doubles(self, roots: list[Path]) -> list[Path]:
        """`roots` but the folders that are the same issue (magazine, year and month) as another:
        they would share its folder in the site, so none of them is built. Told by their
        manifests, before anything is built; a manifest too broken to say is its build's to
        report."""
        folders: dict[tuple[str, int, int], list[Path]] = {}
        for root in roots:
            try:
                manifest = load_manifest(root)
            except PublisherError:
                continue
            folders.setdefault((manifest.magazine, manifest.year, manifest.month),
                               []).append(root)
        # All known before any is refused: a refused folder's last build may be another's issue.
        self.folder_of = {issue: self.name(same[0]) for issue, same in folders.items()
                          if len(same) == 1}
        refused = []
        for (magazine, year, month), same in folders.items():
            if len(same) == 1:
                continue
            names = [self.name(root) for root in same]
            for name in names:
                others = ", ".join(other for other in names if other != name)
                self.failed(name, f"the same issue ({magazine} {year}-{month:02d}) as {others}: "
                                  "remove or correct one")
            refused += same
        return [root for root in roots if root not in refused]

    def name(self, root: Path) -> str:
        """An issue's name in the summary and in catalog.json: its folder in the library."""
        return root.relative_to(self.library).as_posix()

    def reuse(self, roots: list[Path]) -> dict[str, tuple[Path, str]]:
        """Keep the issues whose fingerprint is unchanged; return the others, with their
        fingerprints."""
        todo: dict[str, tuple[Path, str]] = {}
        for root in roots:
            name = self.name(root)
            previous = self.state["issues"].get(name)
            try:
                key = fingerprint(root)
            except PublisherError as exc:
                self.failed(name, str(exc))
                continue
            # A record from before the warnings were kept with it is built again to have them.
            if (previous and previous["fingerprint"] == key and "warnings" in previous
                    and _present(self.site, previous)):
                self.summary.reused.append(name)
                self.published(name, previous, "reused")
            else:
                todo[name] = (root, key)
        return todo

    def build_issues(self, pool: Executor, todo: dict[str, tuple[Path, str]]) -> None:
        """Build `todo` on the pool, writing each issue's files as they come back."""
        futures = {_submit(pool, publish_issue, str(root), key): name
                   for name, (root, key) in todo.items()}
        for future in as_completed(futures):
            name = futures[future]
            root = todo[name][0]
            try:
                result = future.result()
            except Exception as exc:  # a bug, or a pool that lost its process: the rest go on
                result = Published(None, error=f"{type(exc).__name__}: {exc}")
            if result.error:
                self.failed(name, result.error)
                continue
            result.record["warnings"] = named_from_library(result.record["warnings"], root, name)
            for file, data in result.files.items():
                write(self.site / issue_folder(result.record) / file, data)
            if _unannounced(self.state["issues"].get(name), result.record):
                self.summary.unannounced.append(name)
            self.summary.built.append(name)
            self.published(name, result.record, "built", f" in {result.seconds:.1f} s")

    def build_annual_indexes(self, pool: Executor):
        """Rebuild the annual index PDF of each year whose issues changed; return the issues in
        order and the annual indexes' keys."""
        ordered = sorted(self.records.items(), key=lambda item: (
            item[1]["magazine"], item[1]["year"], item[1]["month"]))
        years: dict[str, list[dict]] = {}
        # A year is indexed while one of its issues built or was reused in this run.
        indexed: set[str] = set()
        failed = {name for name, _ in self.summary.failed}
        for name, record in ordered:
            folder = year_folder(record["magazine"], record["year"])
            years.setdefault(folder, []).append(record)
            if name not in failed:
                indexed.add(folder)
        layouts = annual_fingerprint(self.library)
        keys = {folder: _annual_key(years[folder], layouts) for folder in sorted(indexed)}
        stale = {folder: _submit(pool, annual.publish_annual, str(self.library), years[folder])
                 for folder in keys
                 if self.state["years"].get(folder) != keys[folder]
                 or not (self.site / folder / annual.PDF).is_file()}
        for folder, future in stale.items():
            try:
                write(self.site / folder / annual.PDF, future.result())
                self.progress(f"built annual index {folder}")
            except Exception as exc:  # the issues' own files stay good
                self.summary.failed.append((folder, str(exc)))
                keys.pop(folder)
                self.progress(f"failed annual index {folder}: {exc}")
        return [record for _, record in ordered], keys

    def published(self, name: str, record: dict, how: str, took: str = "") -> None:
        """Publish an issue built or reused, and tell what its build told: the importer's notes
        left and its warnings, the same whether it was built now or before."""
        self.records[name] = record
        if record["to_review"]:
            self.summary.to_review.append((name, record["to_review"]))
        self.tell(f"{how} {name} ({record['magazine']} {record['label']}){took}")
        for logger, level, message in record["warnings"]:
            logging.getLogger(logger).log(level, "%s", message)

    def failed(self, name: str, error: str) -> None:
        """Report a failed issue; its last good build, if any, stays in the site, unless
        another folder is that issue now."""
        self.summary.failed.append((name, error))
        previous = self.state["issues"].get(name)
        if previous and self.folder_of.get(
                (previous["magazine"], previous["year"], previous["month"]), name) != name:
            previous = None
        if previous:
            self.records[name] = previous
        kept = "; its last good build stays in the site" if previous else ""
        self.tell(f"failed {name}{kept}:\n{error}")

    def tell(self, line: str) -> None:
        """An issue's progress line, counted among all the library's issues."""
        self.told += 1
        self.progress(f"[{self.told}/{self.total}] {line}")


def _submit(pool: Executor, function: Callable, *args) -> Future:
    """The task's future; if the pool broke (one of its processes died: out of memory, a
    crash), a future that failed with that error, so that the run goes on and reports it."""
    try:
        return pool.submit(function, *args)
    except BrokenExecutor as exc:
        failed = Future()
        failed.set_exception(exc)
        return failed


def _unannounced(previous: dict | None, record: dict) -> bool:
    """The issue's EPUB is a new release (other bytes) that says the same date as the last."""
    if not previous or "sha256" not in previous["files"]["epub"]:
        return False
    return (previous["files"]["epub"]["sha256"] != record["files"]["epub"]["sha256"]
            and previous["updated"] == record["updated"])


def _annual_key(group: list[dict], layouts: str) -> str:
    return hashlib.sha256(" ".join([layouts, *(r["fingerprint"] for r in group)]).encode()
                          ).hexdigest()


def _present(site: Path, record: dict) -> bool:
    folder = site / issue_folder(record)
    return all((folder / f["name"]).is_file() for f in record["files"].values())


def _read_state(site: Path) -> dict:
    try:
        return json.loads((site / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"issues": {}, "years": {}}


def write(path: Path, data: bytes) -> None:
    """Write atomically; leave a file with the same bytes untouched (so that its date, which
    a web server's caching and rsync rely on, says when it last changed)."""
    if path.is_file() and path.read_bytes() == data:
        return
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
