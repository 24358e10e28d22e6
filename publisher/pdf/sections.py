"""The print layout in sections: each laid out on its own, cached, in parallel, then composed.

The issue breaks into sections at every block that opens a page (`html.parts`): the front pages
(封面, 封二, 目录), each stretch of a column from an item that opens a page to the next, the
blank page and the back pages. A section's lines depend on its own HTML, the layouts, fonts and
pictures, never on what comes before it, so each is laid out as its own WeasyPrint document and
kept in the build cache under a digest of exactly that (`Job.key`).

What does depend on the rest of the issue is added when the pages are composed (`compose`):

* **Sides.** Mirrored margins only move a page's text block sideways. A body section is laid out
  with a right page's margins on every page, and each page that prints on the left is shifted by
  the difference: one layout serves both sides, whatever comes before it.
* **Furniture.** Running heads and folios are laid out by the layouts' own `@page` rules on a
  document of empty pages that repeats the issue's page sequence (`furniture_html`), and laid over
  the front and body pages; so a section knows neither its folios nor its column's name on its
  pages.
* **目录.** The front pages are laid out with the sections, the 目录's page numbers left blank
  (a number sits in a cell of fixed width, so the numbers cannot change the page count, which
  the folios after them depend on). The furniture prints the numbers where their cells stood
  (`toc_numbers`).
* **Links, bookmarks, keywords, page labels.** Each section's named destinations and bookmarks
  are read from its PDF and written again for the whole, the 目录's links resolving by name; the
  issue's keywords (jieba's, which an edit may change) go into the metadata; labels, PDF/X and
  bleed are `pages.finish`'s, as for a whole layout.

Sections are laid out in a process pool (`PUBLISHER_WORKERS`, default: the machine's cores as
the memory budget allows) that ends with the layouts; with one worker (`publisher watch`), or one
section to lay out, in this process. Every path yields the same section bytes, hence the same PDF.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from publisher import cache, processes, templates, words
from publisher.context import BuildContext
from publisher.errors import BuildError, PublisherError
from publisher.pdf.grid import Grid
from publisher.pdf.html import Part, issue_html, parts
from publisher.pdf.toc_numbers import OVERLAY_CSS, TocCell, overlay
from publisher.source.model import Kind

logger = logging.getLogger(__name__)

# A body section's pages are named with these numbers while it is laid out, so that its layout
# problems can be told in the issue's folios once the pages are composed.
LOCAL_FOLIO = 9_000_000
LOCAL_FOLIO_RE = re.compile(r"(?<!\d)9\d{6}(?!\d)")
FURNITURE_FORM = "/PublisherFurniture"
# Whether layouts in this process keep their lines for the next (`keep_lines`).
_lines_kept = False


def local_folios(document) -> list[str]:
    """The names of a body section's pages while it is laid out (`LOCAL_FOLIO`)."""
    return [str(LOCAL_FOLIO + i) for i in range(len(document.pages))]


@dataclass(frozen=True)
class FurniturePage:
    """One page of the furniture document: its @page name, the column it opens, if any, and the
    page numbers of the 目录 it prints (`toc_numbers`: each cell with its folio)."""

    name: str
    column: str | None = None
    numbers: tuple[tuple[TocCell, str], ...] = ()


@dataclass(frozen=True)
class Job:
    """One WeasyPrint layout: a section of the issue (`part`), or the furniture (`pages`)."""

    part: Part | None
    press: bool
    toc_folios: tuple[tuple[str, str], ...] | None = None
    pages: tuple[FurniturePage, ...] = ()

    @property
    def name(self) -> str:
        return "running heads, folios and the 目录's numbers" if self.part is None else \
            self.part.name

    def html(self, context: BuildContext, scales: dict[str, float] | None = None) -> str:
        if self.part is None:
            return furniture_html(context, self.pages, press=self.press)
        return issue_html(context, press=self.press, picture_scales=scales, part=self.part,
                          toc_folios=dict(self.toc_folios) if self.toc_folios else None)

    def css(self, context: BuildContext) -> str:
        """A user stylesheet (its !important rules override the layouts'): the front and body
        sections are laid out without furniture, a body section with a right page's margins,
        the 目录 without its numbers; the furniture prints them."""
        if self.part is None:  # the sections paint their pages' backgrounds
            return ("@page { background: none !important; }\n"
                    "html, body { background: none !important; }\n" + OVERLAY_CSS)
        if self.part.kind not in ("front", "body"):
            return ""
        furniture = ("@top-center { content: none !important; border: none !important; }\n"
                     "  @bottom-center { content: none !important; }")
        if self.part.kind == "front":
            return (f"@page {{ marks: none !important;\n  {furniture} }}\n"
                    ".toc-page::before, .toc-page::after { content: none !important; }\n")
        _, _, inner, outer = Grid(context.issue.trim, self.press).margins()
        return (f"@page {{ marks: none !important; margin-left: {inner}pt !important; "
                f"margin-right: {outer}pt !important;\n  {furniture} }}\n")

    def key(self, context: BuildContext, shared: str, html: str) -> str:
        """The cache key of this layout of `html` (this job's HTML)."""
        return cache.key("section", shared, str(self.press), self.css(context), html)


@dataclass
class LaidOut:
    """A laid-out section: its PDF and what the whole issue needs from it."""

    pdf: bytes
    page_names: list[str]  # each page's @page name ("" for the default)
    dests: list[tuple[str, int, float, float]]  # name, page, left, top
    bookmarks: list[tuple[int, str, int, float, float]]  # level, title, page, left, top
    firsts: list  # where each page begins in the text (page_map.page_firsts)
    problems: list[tuple[int, str, str, bool]]  # item order, page, message, tail
    items_on_pages: list[tuple[int, int]]  # (page, item order) for each item on each page
    toc_listed: list[int]  # orders of the items the 目录 lists
    toc_cells: list  # where the 目录's numbers go (TocCell.to_json), in the front's layout
    fonts: list[list]  # the fonts whose subsetting waits for composing (fontshare.deferred)
    warnings: list[tuple[str, int, str]] = field(default_factory=list)
    fresh: bool = False  # laid out in this process: its warnings were logged already

    def anchors(self, page: int) -> frozenset[str]:
        return frozenset(name for name, at, _, _ in self.dests if at == page)

    def to_bytes(self) -> bytes:
        meta = {name: getattr(self, name) for name in (
            "page_names", "dests", "bookmarks", "firsts", "problems", "items_on_pages",
            "toc_listed", "toc_cells", "fonts", "warnings")}
        return json.dumps(meta, ensure_ascii=False).encode() + b"\n" + self.pdf

    @classmethod
    def from_bytes(cls, data: bytes) -> LaidOut | None:
        head, _, pdf = data.partition(b"\n")
        try:
            meta = json.loads(head)
            return cls(pdf=pdf, **meta)
        except (ValueError, TypeError):
            return None


def _executor(size: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(size, mp_context=processes.layout_server(),
                               initializer=_start_worker, initargs=(dict(os.environ),))


class Workers:
    """The processes that lay out one build's sections: started when a layout first needs them,
    and kept for the build's last layout, the furniture, which then finds WeasyPrint's code and
    fonts warm in them. They end with the block, before the pages are composed, so that idle
    workers hold no memory meanwhile."""

    def __init__(self):
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    @property
    def started(self) -> bool:
        return self._pool is not None

    def pool(self, size: int) -> ProcessPoolExecutor:
        """The pool, started with `size` workers if it has not been."""
        if self._pool is None:
            self._pool = _executor(size)
        return self._pool


def _start_worker(environment: dict[str, str]) -> None:
    """A worker ends with its build, and logs nothing itself: its warnings travel back with
    its section. It has the build's environment (the cache, SOURCE_DATE_EPOCH), not that of
    the process that started the server, which may have been an earlier build's; and it starts
    no process of its own (jieba's: it finds its words in the cache, or asks jieba itself)."""
    processes.end_with_parent()
    sys.excepthook = sys.__excepthook__  # the server's was for workers that do not start
    os.environ.clear()
    os.environ.update(environment, PUBLISHER_WORKERS="1")
    # What the server imported lives as long as the worker: out of the collector's way.
    gc.freeze()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.NullHandler())


def run(context: BuildContext, jobs: list[Job], out_dir: Path, shared: str,
        progress: Callable[[str, Job], None] = lambda how, job: None,
        meanwhile: Callable[[], None] = lambda: None,
        workers: Workers | None = None) -> list[LaidOut]:
    """Lay out `jobs` (or take them from the cache); their results in the same order. This
    process does `meanwhile` while `workers` (else workers of this call's own) lay out, or
    before it lays out itself: one section to lay out (an edit) is laid out here, while
    jieba's process finds the keywords, unless `workers` are started (the furniture, after
    the sections). `shared` is `shared_digest` as the caller took it before: a layout is kept
    in the cache only if nothing it reads besides its HTML changed while it was made (a
    layout file saved meanwhile)."""
    keys: dict[int, str] = {}
    sizes: dict[int, int] = {}
    done: dict[int, LaidOut] = {}
    cached: set[int] = set()

    def uncached(indices: list[int]) -> list[int]:
        for index in indices:
            html = jobs[index].html(context)
            keys[index], sizes[index] = jobs[index].key(context, shared, html), len(html)
            data = cache.get("sections", keys[index])
            found = LaidOut.from_bytes(data) if data is not None else None
            if found is not None:
                done[index] = found
                cached.add(index)
                progress("cached", jobs[index])
        return [i for i in indices if i not in done]

    todo = uncached(list(range(len(jobs))))
    # The longest first, so that no worker is left with a long section at the end.
    todo.sort(key=lambda i: -sizes[i])
    here = min(processes.workers(), len(todo)) <= 1 and not (workers and workers.started)
    if here or not todo:  # with nothing to lay out, started workers are not asked
        meanwhile()
        # An edit in a warm process: its boxes wait for the collection it makes once idle
        # (a collection now took 0.03 s of the 0.35 s an edit's build takes).
        _lay_out_here(context, jobs, todo, done, progress, shared,
                      release=not (_lines_kept and len(todo) == 1))
    else:
        with nullcontext(workers) if workers is not None else Workers() as pool:
            _lay_out_by_workers(context, jobs, todo, done, progress, meanwhile, pool)
    made = sorted(keys.keys() - cached)
    if made and shared_digest(context, out_dir) == shared:
        for index in made:
            cache.put("sections", keys[index], done[index].to_bytes())
    return [done[i] for i in range(len(jobs))]


def keep_lines() -> None:
    """Keep the lines and pages of each section's last layout in this process for its next, as
    long as the layouts, fonts and pictures do not change: `watch` lays out the edited section
    again after every edit, and so lays out again only the lines, and the pages from the first,
    that the edit changed (`_kept`)."""
    global _lines_kept
    _lines_kept = True


def _lay_out_here(context: BuildContext, jobs: list[Job], todo: list[int],
                  done: dict[int, LaidOut], progress: Callable[[str, Job], None],
                  shared: str, *, release: bool = True) -> None:
    if not todo:
        return
    # These layouts share a font configuration (`font_scope`): a serial build's fonts are loaded
    # once, not once per section, and the lines `watch` keeps hold one font map.
    # This process holds what the build loaded (jieba's dictionary, the issue): set aside
    # from the collections that free each section's boxes, which would walk it every time.
    # Not collected first: in `watch` that walk alone took 0.13 s an edit, and what it would
    # have freed is left to the collector once the layouts are done (in a warm process, to
    # the collection it makes once idle: `watch.collect_leftovers`).
    gc.freeze()
    try:
        for index in todo:
            with _kept(context, jobs[index], shared):
                done[index] = _checked(lay_out(context, jobs[index], font_scope=shared,
                                               in_process=True, release=release))
            progress("laid out", jobs[index])
    finally:
        gc.unfreeze()


@contextmanager
def _kept(context: BuildContext, job: Job, shared: str) -> Iterator[None]:
    """Where this process keeps its layouts (`keep_lines`), the lines and pages of `job`'s, as
    its section's last: its next layout breaks into lines only the paragraphs an edit changed
    (`lines`), and lays out only the pages from the first that the edit changes (`resume`)."""
    if not _lines_kept:
        yield
        return
    from publisher.pdf.weasyprint import lines, resume

    section = cache.key("section", shared, str(job.press), job.css(context), job.name)
    with lines.carried(section), resume.section(section):
        yield


def _lay_out_by_workers(context: BuildContext, jobs: list[Job], todo: list[int],
                        done: dict[int, LaidOut], progress: Callable[[str, Job], None],
                        meanwhile: Callable[[], None], workers: Workers) -> None:
    # Each layout a font configuration of its own: one kept for all of a worker's layouts
    # saved 3% of a cold build's CPU, and took 50-60 MiB more, which the budget lacks.
    pool = workers.pool(min(processes.workers(), len(todo)))
    futures: dict[Future, int] = {pool.submit(lay_out, context, jobs[todo[0]]): todo[0]}
    # jieba's process finds the keywords while one worker starts; the others start once it has
    # ended, as its memory is a worker's.
    words.release()
    futures.update({pool.submit(lay_out, context, jobs[i]): i for i in todo[1:]})
    try:
        meanwhile()
        for future in as_completed(futures):
            index = futures[future]
            done[index] = _checked(future.result())
            progress("laid out", jobs[index])
    finally:
        for future in futures:
            future.cancel()


def _checked(result: LaidOut | tuple) -> LaidOut:
    """A section's layout, or the error that stopped it raised here (exceptions cross the
    process boundary as their parts: path and line must survive)."""
    if isinstance(result, tuple):
        message, path, line = result
        raise BuildError(message, path, line)
    return result


def lay_out(context: BuildContext, job: Job, *, font_scope: str | None = None,
            in_process: bool = False, release: bool = True) -> LaidOut | tuple:
    """Lay `job` out (in a worker, or here), with the project's patches, and with the font
    configuration of this process's layouts whose fonts `font_scope` names (the `shared`
    digest), else a new one; then give its boxes back, once nothing of the layout is held but
    what it made and that configuration (unless not `release`: a warm process's edit, whose
    leftovers it collects once no change comes, `watch.collect_leftovers`)."""
    result = _laid_out(context, job, font_scope=font_scope, in_process=in_process)
    if release:
        _release_memory()
    return result


def _laid_out(context: BuildContext, job: Job, *, font_scope: str | None,
              in_process: bool) -> LaidOut | tuple:
    from pypdf import PdfReader
    from weasyprint import CSS

    from publisher.build import collected_warnings
    from publisher.pdf import refuse_fetched, render_checked
    from publisher.pdf import weasyprint as engine
    from publisher.pdf.layout_warnings import (
        require_back_cover_fits,
        require_imprint_fits,
        toc_listed,
    )
    from publisher.pdf.page_map import page_firsts
    from publisher.pdf.pages import output_intent
    from publisher.pdf.toc_numbers import cells
    from publisher.pdf.weasyprint import fontshare

    issue = context.issue
    intent = output_intent(issue) if job.press else None
    allowed = (*context.readable, *([intent.profile.resolve()] if intent else []))
    stylesheets = [CSS(string=job.css(context))]
    body = job.part is not None and job.part.kind == "body"
    front = job.part is not None and job.part.kind == "front"
    try:
        with engine.patched(issue.uuid), collected_warnings() as given:
            document, runs, problems = render_checked(
                context, lambda scales: job.html(context, scales), stylesheets=stylesheets,
                allowed=allowed, text=job.part is not None,
                page_names=local_folios if body else None, toc=False,
                font_config=None if font_scope is None
                else engine.font_configuration(font_scope))
            if job.part is not None and job.part.kind != "body":
                require_imprint_fits(document, issue)
                require_back_cover_fits(document, issue)
            options = {"pdf_identifier": True, "uncompressed_pdf": False}
            if job.press:
                options.update(pdf_variant="pdf/x-4", output_intent="device-cmyk")
            with fontshare.deferred() as fonts:
                data = document.write_pdf(**options)
            firsts = page_firsts(document.pages, issue) if job.part is not None else []
        refuse_fetched(document.url_fetcher, context.layout_folders)
    except PublisherError as error:
        if in_process:
            raise
        return (error.message, error.path, error.line)
    # A warm process composes the section next: the reader of its links is composing's.
    reader = _parsed_pdf(data) if _lines_kept else PdfReader(BytesIO(data))
    laid_out = LaidOut(
        pdf=data,
        page_names=[page._page_box.page_type.name or "" for page in document.pages],
        dests=_dests(reader),
        bookmarks=[(level, *found) for level, found in zip(
            (level for page in document.pages for level, *_ in page.bookmarks),
            _bookmarks(reader), strict=True)],
        firsts=[list(first) if first else None for first in firsts],
        problems=[(p.item.order, p.page, p.message, p.tail) for p in problems],
        items_on_pages=sorted({(index, item.order) for index, item, _ in runs
                               if item is not None and body}),
        toc_listed=sorted(item.order for item in toc_listed(document, runs)),
        toc_cells=[cell.to_json() for cell in cells(document)] if front else [],
        fonts=fonts, warnings=given, fresh=in_process)
    return laid_out


def _release_memory() -> None:
    """Give a section's boxes back to the system before the next one: the peak of a build is
    the memory it holds between layouts plus the largest layout. What survives is set aside
    from the collector, as what the worker imported is, so that the next collection walks
    only the next section's objects (a layout runs with the collector frozen: in a worker,
    which ends with the build, or in `_lay_out_here`, which thaws it after its layouts); so
    nothing of the layout may be held when it runs (`lay_out`)."""
    import ctypes

    gc.collect()
    gc.freeze()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc
        pass


def _destination(reader, dest) -> tuple[int, float, float]:
    return (reader.get_destination_page_number(dest), float(dest.left or 0),
            float(dest.top or 0))


def _dests(reader) -> list[tuple[str, int, float, float]]:
    return [(str(name), *_destination(reader, dest))
            for name, dest in sorted(reader.named_destinations.items())]


def _bookmarks(reader) -> list[tuple[str, int, float, float]]:
    """The outline of a section's PDF in document order; its depths are not the levels of the
    issue's outline (a section that goes on with a column has no column bookmark above its
    items), which come from the layout."""
    found = []

    def walk(outline) -> None:
        for entry in outline:
            if isinstance(entry, list):
                walk(entry)
            else:
                found.append((str(entry.title), *_destination(reader, entry)))

    walk(reader.outline)
    return found


def furniture_html(context: BuildContext, pages: tuple[FurniturePage, ...], *,
                   press: bool) -> str:
    """Empty pages named as the issue's front and body pages, under the layouts' @page rules:
    their margin boxes are the running heads and folios those pages print; the 目录's pages
    carry its page numbers (`toc_numbers.overlay`)."""
    from markupsafe import Markup

    from publisher import fonts
    from publisher.output import build_time
    from publisher.pdf.html import _environment, stylesheet_uris
    from publisher.pdf.pages import output_intent

    issue = context.issue
    return templates.render(
        _environment(context.layout_folders), "furniture.html.j2", issue=issue, pages=pages,
        numbers=[overlay(page.numbers) for page in pages],
        created=build_time(issue).isoformat().replace("+00:00", "Z"),
        page_css=Markup(Grid(issue.trim, press).css() + fonts.font_css(context.roles)),
        press_profile=output_intent(issue).profile.as_uri() if press else None,
        stylesheets=stylesheet_uris(context))


@dataclass(frozen=True, eq=False)
class PageRef:
    """A page of a section, as the page plan sees it (by identity: a repeated page is one)."""

    section: int
    page: int
    anchors: frozenset[str]


@dataclass
class LaidOutIssue:
    """The sections of the issue laid out, in order, and the page plan over them."""

    jobs: list[Job]
    sections: list[LaidOut]
    plan: object  # pages.PagePlan over PageRefs
    folios: list[str]
    shared: str  # the `shared_digest` they were laid out with

    def global_index(self) -> dict[tuple[int, int], int]:
        """(section, page) → its first place in print order."""
        found: dict[tuple[int, int], int] = {}
        for at, ref in enumerate(self.plan.order):
            found.setdefault((ref.section, ref.page), at)
        return found

    def item_folios(self) -> dict[str, str]:
        """Each named destination of the body and back sections → the folio of its page."""
        where = self.global_index()
        return {name: self.folios[where[(index, page)]]
                for index, section in enumerate(self.sections)
                if self.jobs[index].part.kind != "front"
                for name, page, _, _ in section.dests if (index, page) in where}


def shared_digest(context: BuildContext, out_dir: Path) -> str:
    """What every section's layout reads besides its own HTML: the layout folders, the fonts,
    the issue's pictures and other files (not its texts, which the HTML holds)."""
    from publisher.build import inputs_digest

    return inputs_digest(context.issue.root, out_dir, texts=False) or ""


def lay_out_issue(context: BuildContext, *, press: bool, out_dir: Path,
                  progress: Callable[[str, Job], None] = lambda how, job: None,
                  workers: Workers | None = None) -> LaidOutIssue:
    """Every section laid out (the front pages with blank page numbers), and the page plan."""
    from types import SimpleNamespace

    from publisher.build import layouts_seen_key
    from publisher.pdf import pages
    from publisher.pdf.page_map import folios

    jobs = issue_jobs(context, press=press)
    shared = shared_digest(context, out_dir)
    sections = run(context, jobs, out_dir, shared, progress, workers=workers)
    cache.put("layouts-seen", layouts_seen_key(shared, press), b"")
    # An issue without back pages renders an empty back section, which WeasyPrint lays out as
    # one empty page: none of its pages carries an anchor, and none is printed.
    refs = [PageRef(index, page, section.anchors(page))
            for index, section in enumerate(sections)
            if section.dests or jobs[index].part.kind != "back"
            for page in range(len(section.page_names))]
    plan = pages.page_plan(SimpleNamespace(pages=refs), press=press)
    return LaidOutIssue(jobs, sections, plan, folios(plan.labels), shared)


def issue_jobs(context: BuildContext, *, press: bool) -> list[Job]:
    """A layout of each section of the issue, the front pages' with blank page numbers."""
    return [Job(part, press, _toc_folios(context) if part.kind == "front" else None)
            for part in parts(context)]


def rehearsal(context: BuildContext, *, press: bool, out_dir: Path) -> Iterator[str]:
    """Lay every section out in this process, one a step, and keep only their lines
    (`keep_lines`); then compose the issue from the cache, writing nothing. Each step yields
    what it did. The warm process and `watch` do it before the first edit, whose layout then
    breaks into lines only the paragraph edited, and whose composing finds the other sections
    parsed, as each later edit's does. It stops where the layouts, fonts or pictures changed:
    lines laid out with the old ones would push out those of the new."""
    jobs = issue_jobs(context, press=press)
    shared = shared_digest(context, out_dir)
    for index, job in enumerate(jobs):
        if shared_digest(context, out_dir) != shared:
            return
        _lay_out_here(context, jobs, [index], {}, lambda how, job: None, shared)
        yield job.name
    laid_out = lay_out_issue(context, press=press, out_dir=out_dir)
    compose(context, laid_out, finish_layout(context, laid_out, out_dir=out_dir))
    yield "composed"


def _toc_folios(context: BuildContext) -> tuple[tuple[str, str], ...]:
    """Each item the 目录 may list (all but boxes), its folio left blank: the furniture prints
    it (`toc_numbers`)."""
    return tuple((a.anchor, "") for a in context.issue.articles if a.kind != Kind.box)


def page_starts(laid_out: LaidOutIssue):
    """Where each printed page begins in the text, for the EPUB's page list."""
    from publisher.pdf.page_map import fill

    # The first 目录 entry on each page of the front section after the 目录's first, which
    # begins at its heading.
    opening_entries: dict[int, str] = {}
    for cell in map(TocCell.from_json, laid_out.sections[0].toc_cells):
        opening_entries.setdefault(cell.page, cell.anchor)
    opening_entries.pop(min(opening_entries, default=None), None)
    seen: set[int] = set()
    firsts, entries = [], []
    for ref in laid_out.plan.order:
        repeated = id(ref) in seen
        seen.add(id(ref))
        firsts.append(None if repeated else laid_out.sections[ref.section].firsts[ref.page])
        entries.append(opening_entries.get(ref.page) if ref.section == 0 else None)
    return fill(laid_out.folios, firsts, entries)


def finish_layout(context: BuildContext, laid_out: LaidOutIssue, *, out_dir: Path,
                  progress: Callable[[str, Job], None] = lambda how, job: None,
                  workers: Workers | None = None,
                  meanwhile: Callable[[], None] = lambda: None) -> LaidOut:
    """The furniture, with the 目录's page numbers: laid out last, while this process parses
    the sections' PDFs for composing and does `meanwhile`."""
    folios = laid_out.item_folios()
    toc_cells = [TocCell.from_json(cell) for cell in laid_out.sections[0].toc_cells]
    furniture: list[FurniturePage] = []
    for ref in laid_out.plan.order:
        job = laid_out.jobs[ref.section]
        if job.part.kind not in ("front", "body"):
            break
        column = job.part.run and not job.part.run["continued"] and ref.page == 0
        numbers = tuple((cell, folios.get(cell.anchor, "")) for cell in toc_cells
                        if ref.section == 0 and cell.page == ref.page)
        furniture.append(FurniturePage(laid_out.sections[ref.section].page_names[ref.page],
                                       job.part.run["column"].name if column else None,
                                       numbers))
    stamps, = run(context, [Job(None, laid_out.jobs[0].press, pages=tuple(furniture))],
                  out_dir, laid_out.shared, progress,
                  meanwhile=lambda: (_parse_ahead(laid_out.sections), meanwhile()),
                  workers=workers)
    if len(stamps.page_names) != len(furniture):  # an issue's own furniture.html.j2
        raise BuildError(f"layout template: makes {len(stamps.page_names)} page(s) of running "
                         f"heads and folios for the {len(furniture)} front and body pages: it "
                         "makes one for each of the `pages` it is given",
                         templates.stylesheet(context.layout_folders, "furniture.html.j2"))
    return stamps


def compose(context: BuildContext, laid_out: LaidOutIssue, furniture: LaidOut):
    """The issue's PDF (a pypdf writer) from its laid-out sections: the front pages' file, with
    every other page added after them, shifted to its side, each of the front and the body under
    its furniture, and the named destinations and bookmarks of the whole."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        NameObject,
    )

    from publisher.pdf.weasyprint import fontshare

    _, _, inner, outer = Grid(context.issue.trim, laid_out.jobs[0].press).margins()
    shift = round(outer - inner, 4)
    sections = laid_out.sections
    readers = [_parsed_pdf(part.pdf) for part in sections]
    writer = PdfWriter(clone_from=readers[0])
    for name in ("/Outlines", "/Names"):  # the 目录's link targets: made again below
        writer.root_object.pop(NameObject(name), None)
    stamps = _parsed_pdf(furniture.pdf)
    dests: dict[str, tuple[int, float, float]] = {}
    bookmarks: list[tuple[int, str, int, float, float]] = []
    placed: set[int] = set()
    for at, ref in enumerate(laid_out.plan.order):
        section = sections[ref.section]
        kind = laid_out.jobs[ref.section].part.kind
        if id(ref) in placed:  # a repeated blank page: a page object of its own
            page = writer.add_page(PdfReader(BytesIO(section.pdf)).pages[ref.page])
        elif ref.section == 0:
            page = writer.pages[at]
        else:
            page = writer.add_page(readers[ref.section].pages[ref.page])
        dx = shift if kind == "body" and at % 2 else 0.0
        if kind in ("front", "body"):
            _stamp(writer, page, stamps.pages[at], dx)
        if id(ref) not in placed:
            for name, page_index, left, top in section.dests:
                if page_index == ref.page and (kind != "front" or name not in dests):
                    dests[name] = (at, left + dx, top)
            bookmarks += [(depth, title, at, left + dx, top)
                          for depth, title, page_index, left, top in section.bookmarks
                          if page_index == ref.page]
        placed.add(id(ref))
    fontshare.share(writer, [font for section in (*sections, furniture)
                             for font in section.fonts])
    share_profiles(writer)
    _write_dests(writer, dests)
    _write_outline(writer, bookmarks)
    _write_keywords(writer, context.keywords)
    used = {id(reader) for reader in (*readers, stamps)}
    for digest in [digest for digest, reader in _parsed.items() if id(reader) not in used]:
        del _parsed[digest]
    return writer


def share_profiles(writer) -> None:
    """Point every reference to an ICC profile (an /ICCBased colour space's stream, an output
    intent's /DestOutputProfile) at one stream of its bytes, the first in the file, and drop
    the others. Each section of a press PDF is a PDF/X of its own: it embeds the output
    profile in its output intent and again as its /device-cmyk colour space (the layouts'
    `@color-profile`), so the sample's composed file held the same 187 KB profile 22 times
    (4.9 MB, where one makes 2.0 MB). Only references are walked, never a content stream or
    a font's widths."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    from publisher.pdf.widths import WIDTH_KEYS

    objects = writer._objects
    # An ICC profile is a stream with its number of components (/N): a print PDF has none,
    # and is not walked.
    if sum(isinstance(obj, StreamObject) and "/N" in obj for obj in objects) < 2:
        return
    references: list[tuple[object, object, int]] = []  # holder, key, object number
    profiles: set[int] = set()
    stack = [obj for obj in objects if isinstance(obj, (DictionaryObject, ArrayObject))]
    while stack:
        node = stack.pop()
        for key, value in node.items():
            if isinstance(value, IndirectObject):
                references.append((node, key, value.idnum))
            elif isinstance(value, (DictionaryObject, ArrayObject)) and key not in WIDTH_KEYS:
                stack.append(value)
        if isinstance(node, ArrayObject):
            if len(node) > 1 and node[0] == "/ICCBased" and isinstance(node[1], IndirectObject):
                profiles.add(node[1].idnum)
        elif isinstance(profile := dict.get(node, "/DestOutputProfile"), IndirectObject):
            profiles.add(profile.idnum)
    if len(profiles) < 2:
        return
    first: dict[tuple, int] = {}
    same: dict[int, int] = {}
    for idnum in sorted(profiles):
        stream = objects[idnum - 1]
        if stream is None or not hasattr(stream, "_data"):
            continue
        entries = tuple(sorted((str(key), repr(value)) for key, value in stream.items()
                               if key != "/Length"))
        kept = first.setdefault((entries, bytes(stream._data)), idnum)
        if kept != idnum:
            same[idnum] = kept
    for holder, key, idnum in references:
        if idnum in same:
            holder[key] = IndirectObject(same[idnum], 0, writer)
    # As fontshare drops its stand-ins: a free entry in the cross-reference table.
    for idnum in same:
        objects[idnum - 1] = None


# Sections' PDFs as pypdf parsed them, by digest: those the last composing used (`watch` and
# `preview` compose the unchanged sections again) and those parsed while a worker laid out the
# furniture (`_parse_ahead`). Parsing a section costs more than copying it.
_parsed: dict[bytes, object] = {}


def _parsed_pdf(pdf: bytes):
    """`pdf` as pypdf parsed it, kept in `_parsed`."""
    from pypdf import PdfReader

    from publisher.pdf import widths

    digest = hashlib.sha256(pdf).digest()
    if digest not in _parsed:
        reader = PdfReader(BytesIO(pdf))
        widths.freeze(reader)
        _parsed[digest] = reader
    return _parsed[digest]


def _parse_ahead(sections: list[LaidOut]) -> None:
    for section in sections:
        _parsed_pdf(section.pdf)


def _stamp(writer, page, furniture, dx: float) -> None:
    """Shift `page`'s content by `dx` and draw `furniture` (a page) over it, as a form: no
    content stream is parsed, so composing costs little."""
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
    )

    form = DecodedStreamObject()
    form.set_data(furniture.get_contents().get_data())
    form.update({NameObject("/Type"): NameObject("/XObject"),
                 NameObject("/Subtype"): NameObject("/Form"),
                 NameObject("/BBox"): furniture.mediabox,
                 NameObject("/Resources"): furniture["/Resources"].clone(writer)})
    resources = DictionaryObject(page["/Resources"].get_object())
    xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
    xobjects[NameObject(FURNITURE_FORM)] = writer._add_object(form)
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    contents = page.raw_get("/Contents")  # by reference: a stream is never direct
    resolved = contents.get_object()
    streams = list(resolved) if isinstance(resolved, ArrayObject) else [contents]

    def stream(data: bytes):
        made = DecodedStreamObject()
        made.set_data(data)
        return writer._add_object(made)

    page[NameObject("/Contents")] = ArrayObject([
        stream(f"q 1 0 0 1 {dx:g} 0 cm\n".encode()), *streams,
        stream(f"\nQ q {FURNITURE_FORM} Do Q\n".encode())])
    for annotation in page.get("/Annots", ()):
        annotation = annotation.get_object()
        left, bottom, right, top = (float(v) for v in annotation["/Rect"])
        annotation[NameObject("/Rect")] = ArrayObject(
            FloatObject(v) for v in (left + dx, bottom, right + dx, top))


def _write_dests(writer, dests: dict[str, tuple[int, float, float]]) -> None:
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    names = ArrayObject()
    for name in sorted(dests):
        at, left, top = dests[name]
        names += [TextStringObject(name), ArrayObject([
            writer.pages[at].indirect_reference, NameObject("/XYZ"), FloatObject(left),
            FloatObject(top), NumberObject(0)])]
    tree = DictionaryObject({NameObject("/Names"): names})
    writer.root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/Dests"): writer._add_object(tree)})


def _write_keywords(writer, keywords: tuple[str, ...]) -> None:
    """The issue's keywords in the PDF's info dictionary, and in its XMP where it has one (a
    PDF/X), as WeasyPrint writes a whole document's. No section's HTML carries them: a change
    of keywords (jieba's, after an edit) lays out no page again, and no layout waits for them."""
    from publisher.pdf.pages import keywords_xmp

    if not keywords:
        return
    joined = ", ".join(keywords)
    writer.add_metadata({"/Keywords": joined})
    if "/Metadata" in writer.root_object:
        metadata = writer.root_object["/Metadata"].get_object()
        metadata.set_data(keywords_xmp(metadata.get_data(), joined))


def _write_outline(writer, bookmarks: list[tuple[int, str, int, float, float]]) -> None:
    """The bookmarks of all sections as one outline, each under the last one a level up."""
    from pypdf.generic import Fit

    parents: list = []
    for depth, title, at, left, top in bookmarks:
        del parents[depth - 1:]
        parent = parents[-1] if parents else None
        parents.append(writer.add_outline_item(title=title, page_number=at, parent=parent,
                                               fit=Fit.xyz(left, top, 0)))
