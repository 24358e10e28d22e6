"""Issue → print HTML (`html`) → CJK text pass (`typeset`) → WeasyPrint with the project's
patches (`weasyprint`) → checks on the laid-out text (`laid_out`) → page plan and labels
(`pages`) → PDF. The print and press PDFs are laid out in sections, cached and composed
(`sections`); the screen PDF, tagged, is laid out whole: its structure tree would not survive
composing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from publisher import templates
from publisher.context import BuildContext
from publisher.errors import BuildError
from publisher.output import atomic_output
from publisher.pdf import pages, progress, sections
from publisher.pdf.grid import MM, Grid
from publisher.pdf.html import issue_html
from publisher.pdf.laid_out import check_glyphs, warn_lone_boxes
from publisher.pdf.layout_warnings import (
    LayoutProblem,
    layout_problems,
    missing_from_toc,
    report,
    shrink_pictures,
)
from publisher.pdf.page_map import PageStart
from publisher.pdf.toc_numbers import TocCell
from publisher.pdf.typeset import typeset

logger = logging.getLogger(__name__)
# WeasyPrint reports every page laid out at INFO; keep its warnings, not its progress.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def write_pdf(context: BuildContext, path: Path, *, press: bool = False,
              screen: bool = False, strict: bool = False,
              meanwhile: Callable[[list[PageStart]], None] | None = None) -> None:
    """Build the issue's PDF at `path`: the printer's variant when `press`; when `screen`, the
    one for reading on screens, in RGB (layouts' screen.css) and tagged for accessibility;
    `strict` refuses to write one with layout problems. A print or press PDF hands where each
    printed page begins in the text (the EPUB's page list) to `meanwhile` as soon as the
    sections are laid out, while a worker lays out the furniture."""
    if screen:
        _write_whole(context, path, strict=strict)
        return
    issue = context.issue
    with progress.Sections() as shown:
        with sections.Workers() as workers:
            laid_out = sections.lay_out_issue(context, press=press, out_dir=path.parent,
                                              progress=shown.update, workers=workers)
            furniture = sections.finish_layout(
                context, laid_out, out_dir=path.parent, progress=shown.update, workers=workers,
                meanwhile=(lambda: meanwhile(sections.page_starts(laid_out))) if meanwhile
                else lambda: None)
        _report(context, laid_out, [furniture], strict=strict)
        writer = sections.compose(context, laid_out, furniture)
        shown.composed(len(writer.pages))
    with atomic_output(path) as tmp:
        pages.finish(writer, tmp, laid_out.plan.labels, texts=context.texts,
                     bleed=Grid(issue.trim).bleed_mm * MM if press else None,
                     intent=pages.output_intent(issue) if press else None)


def _report(context: BuildContext, laid_out: sections.LaidOutIssue, last: list, *,
            strict: bool) -> None:
    """What the sections' layouts found, told in the issue's pages: the warnings of sections
    laid out elsewhere (a worker, an earlier build), lone boxes, layout problems."""
    issue = context.issue
    for section in [*laid_out.sections, *last]:
        if not section.fresh:
            for name, level, message in section.warnings:
                logging.getLogger(name).log(level, "%s", message)
    where = laid_out.global_index()
    articles = {a.order: a for a in issue.articles}
    runs = [(where[(index, page)], articles[order], None)
            for index, section in enumerate(laid_out.sections)
            for page, order in section.items_on_pages]
    warn_lone_boxes(sorted(runs, key=lambda run: (run[0], run[1].order)))
    problems = []
    for index, section in enumerate(laid_out.sections):
        def folio(match, index=index) -> str:
            return laid_out.folios[where[(index, int(match[0]) - sections.LOCAL_FOLIO)]]

        problems += [LayoutProblem(articles[order], sections.LOCAL_FOLIO_RE.sub(folio, page),
                                   sections.LOCAL_FOLIO_RE.sub(folio, message), tail)
                     for order, page, message, tail in section.problems]
    item_folios = laid_out.item_folios()
    problems += missing_from_toc({articles[order] for order in laid_out.sections[0].toc_listed},
                                 issue, lambda item: item_folios.get(item.anchor, "?"))
    numbered = {TocCell.from_json(cell).anchor for cell in laid_out.sections[0].toc_cells}
    problems += [LayoutProblem(articles[order], item_folios.get(articles[order].anchor, "?"),
                               "the 目录 lists this item without its page number: its entry "
                               "has no cell of class toc-page that links to it")
                 for order in laid_out.sections[0].toc_listed
                 if articles[order].anchor not in numbered]
    report(problems)
    if strict and problems:
        raise BuildError(f"--strict: {len(problems)} layout problem(s), listed above")
    if laid_out.plan.blanks:
        logger.warning("added %d blank page(s) at the end of the inside pages: a "
                       "saddle-stitched issue needs a page count that is a multiple of 4",
                       laid_out.plan.blanks)


def _write_whole(context: BuildContext, path: Path, *, strict: bool) -> None:
    """The screen PDF: the issue laid out as one document, tagged."""
    from pypdf import PdfReader, PdfWriter
    from weasyprint import CSS

    from publisher.pdf import weasyprint as engine

    issue = context.issue
    # A user stylesheet: its !important colours override the layouts' CMYK ones.
    screen_css = [CSS(filename=templates.stylesheet(context.layout_folders, "screen.css"))]

    plan = None  # of the last document laid out, the one kept

    def printed_names(document) -> list[str]:
        nonlocal plan
        plan = pages.page_plan(document, press=False)
        return plan.page_names(document)

    with engine.patched(issue.uuid):
        document, runs, problems = render_checked(
            context, lambda scales: issue_html(context, picture_scales=scales),
            stylesheets=screen_css, allowed=context.readable, page_names=printed_names)
        warn_lone_boxes(runs)
        report(problems)
        if strict and problems:
            raise BuildError(f"--strict: {len(problems)} layout problem(s), listed above")
        if plan.blanks:
            logger.warning("added %d blank page(s) at the end of the inside pages: a "
                           "saddle-stitched issue needs a page count that is a multiple of 4",
                           plan.blanks)
        document = document.copy(plan.order)
        # SVG pictures fetch their own images only here.
        data = document.write_pdf(pdf_identifier=True, uncompressed_pdf=False, pdf_tags=True)
    refuse_fetched(document.url_fetcher, context.layout_folders)
    with atomic_output(path) as tmp:
        pages.finish(PdfWriter(clone_from=PdfReader(BytesIO(data))), tmp, plan.labels,
                     texts=context.texts)


def render_checked(context: BuildContext, html_for: Callable[[dict[str, float]], str], *,
                   stylesheets: list, allowed: tuple[Path, ...], text: bool = True,
                   page_names: Callable[[object], list[str]] | None = None,
                   toc: bool = True,
                   font_config=None) -> tuple[object, list, list[LayoutProblem]]:
    """The document WeasyPrint lays out from `html_for(picture scales)`, reading only files in
    `allowed`, with its text runs and layout problems. With the issue's `text` (the furniture
    has none) it is typeset and its glyphs checked; given `page_names` (what the problems call
    each page), its problems are found (`toc` as in `layout_problems`) and it is laid out again
    with smaller pictures while an item's last lines stand alone and its pictures can shrink.
    `font_config`: WeasyPrint's font configuration, if not a new one."""
    from weasyprint import HTML

    from publisher.pdf.weasyprint.boxes import text_boxes

    issue = context.issue
    scales: dict[str, float] = {}  # items whose pictures shrink to keep their ends whole
    while True:
        html = HTML(string=html_for(scales), base_url=issue.root.resolve().as_uri() + "/",
                    url_fetcher=fetcher(allowed))
        if text:
            typeset(html.etree_element)
        document = html.render(stylesheets=stylesheets, font_config=font_config)
        refuse_outside_links(document, context.layout_folders)
        if not text:
            return document, [], []
        runs = list(text_boxes(document, issue))
        check_glyphs(runs, context)
        if page_names is None:
            return document, runs, []
        problems = layout_problems(document, runs, issue, page_names(document), toc=toc)
        smaller = shrink_pictures(problems, scales)
        if smaller is None:
            return document, runs, problems
        scales = smaller


def refuse_outside_links(document, folders: tuple[Path, ...]) -> None:
    """A link goes to the web or within the issue (the loader checks the articles'): one that a
    layout made (an `<a href>`, a CSS `-weasy-link`) to a `file:` would point a reader into the
    build machine."""
    from urllib.parse import urlsplit

    from publisher.source.markup import WEB_SCHEMES, WEB_SCHEMES_SHOWN

    for page in document.pages:
        for kind, target, *_ in page.links:
            if kind == "external" and urlsplit(target).scheme not in WEB_SCHEMES:
                raise BuildError(f"layout template: a link to `{target}`: a link goes to a web "
                                 f"address ({WEB_SCHEMES_SHOWN}) or to an item of the issue",
                                 *templates.written_at(folders, target))


def refuse_fetched(url_fetcher, folders: tuple[Path, ...]) -> None:
    """Stop a build whose pictures or layouts asked for what `fetcher` refused, or for a file
    of the issue that is not there (the articles' pictures are checked before: a layout's)."""
    if url_fetcher.refused:
        found = list(dict.fromkeys(url_fetcher.refused))
        raise BuildError(f"a picture or layout refers to {', '.join(found)}: a build reads only "
                         "files in the issue folder, its layouts and fonts folders, and never "
                         "the network", *_written(folders, found[0]))
    if url_fetcher.missing:
        found = list(dict.fromkeys(url_fetcher.missing))
        raise BuildError(f"a layout refers to {', '.join(found)}: no such file",
                         *_written(folders, found[0]))
    if url_fetcher.unreadable or _unloaded:
        url, reason = next(iter({**url_fetcher.unreadable, **_unloaded}.items()))
        raise BuildError(f"a layout refers to {url}: {reason}", *_written(folders, url))


def _written(folders: tuple[Path, ...], url: str) -> tuple[Path | None, int | None]:
    """Where a layout wrote `url`: as it is, else by its file's name (a relative URL is
    resolved before it is fetched)."""
    from urllib.parse import unquote, urlsplit

    where = templates.written_at(folders, url)
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return where if where[0] is not None or not name else templates.written_at(folders, name)


# The URLs a fetcher refused or found missing: the build stops on them with the line that asked
# (`refuse_fetched`), so WeasyPrint's own message of each is not shown too.
_failed_fetches: set[str] = set()
# Stylesheets and pictures WeasyPrint read but could not load, by URL, with why: it would leave
# them out, and the build stops on them too.
_unloaded: dict[str, str] = {}
UNLOADED = ("Failed to load stylesheet", "Failed to load image")
MAX_IMPORTS = 16  # of one stylesheet by one document: more is a loop


class _FailedFetches(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not (str(record.msg).startswith(UNLOADED) and len(record.args or ()) == 2):
            return True
        url, problem = record.args
        if url not in _failed_fetches:
            _unloaded.setdefault(url, "WeasyPrint could not read it"
                                 + (f" ({problem})" if str(problem) else ""))
        return False


def fetcher(allowed: tuple[Path, ...]):
    """A WeasyPrint URL fetcher that reads `data:` URLs and `file:` URLs of files in (or equal
    to) `allowed`, and refuses any other, keeping it in `refused`: a picture (an SVG's own
    `<image href>`) must not pull files from elsewhere on the machine or the network."""
    import mimetypes
    from collections import Counter
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    from weasyprint.urls import URLFetcher, URLFetcherResponse

    from publisher.errors import MAX_PICTURE_BYTES, SourceError, read_regular

    class Fetcher(URLFetcher):
        def __init__(self):
            super().__init__()
            self.refused: list[str] = []
            self.missing: list[str] = []
            self.unreadable: dict[str, str] = {}  # each URL with why it is not read
            self.fetched: Counter[Path] = Counter()

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(url2pathname(parts.path)).resolve()
                if any(path.is_relative_to(p) for p in allowed):
                    if not path.exists():
                        self.missing.append(url)
                        _failed_fetches.add(url)
                        raise ValueError("no such file")
                    self.fetched[path] += 1
                    try:
                        if any(templates.hidden(path, p) for p in allowed
                               if path.is_relative_to(p)):
                            raise SourceError("hidden (a name starting with a dot): not read")
                        # WeasyPrint follows an @import loop until Python's recursion limit,
                        # parsing the stylesheet again at each step: minutes, then no styles.
                        if path.suffix == ".css" and self.fetched[path] > MAX_IMPORTS:
                            raise SourceError("it imports itself, in a loop of @import")
                        # A regular file of bounded size: a FIFO would block the build for ever.
                        data = read_regular(path, MAX_PICTURE_BYTES)
                    except SourceError as exc:
                        self.unreadable[url] = exc.message
                        _failed_fetches.add(url)
                        raise ValueError(exc.message) from None
                    kind = mimetypes.guess_type(path.name)[0]  # as urllib names a file's type
                    return URLFetcherResponse(url, data, {"Content-Type": kind} if kind else {})
            self.refused.append(url)
            _failed_fetches.add(url)
            raise ValueError("refused: not a file of the issue, its layouts or its fonts")

    _failed_fetches.clear()  # a layout's, from here on: earlier ones stopped their builds
    _unloaded.clear()
    weasyprint_logger = logging.getLogger("weasyprint")
    if not any(isinstance(f, _FailedFetches) for f in weasyprint_logger.filters):
        weasyprint_logger.addFilter(_FailedFetches())
    return Fetcher()

