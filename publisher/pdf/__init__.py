"""Issue → print HTML (`html`) → CJK text pass (`typeset`) → WeasyPrint with the project's
patches (`weasyprint`) → checks on the laid-out text (`laid_out`) → page plan and labels
(`pages`) → PDF."""

from __future__ import annotations

import logging
from pathlib import Path

from publisher import templates
from publisher.context import BuildContext
from publisher.errors import BuildError
from publisher.output import atomic_output
from publisher.pdf import pages
from publisher.pdf.grid import MM, Grid
from publisher.pdf.html import issue_html
from publisher.pdf.laid_out import check_glyphs, warn_lone_boxes
from publisher.pdf.layout_warnings import layout_problems, report, shrink_pictures
from publisher.pdf.page_map import PageStart, folios, page_starts
from publisher.pdf.typeset import typeset

logger = logging.getLogger(__name__)
# WeasyPrint reports every page laid out at INFO; keep its warnings, not its progress.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def write_pdf(context: BuildContext, path: Path, *, press: bool = False,
              screen: bool = False, strict: bool = False) -> list[PageStart]:
    """Build the issue's PDF at `path`: the printer's variant when `press`; when `screen`, the
    one for reading on screens, in RGB (layouts' screen.css) and tagged for accessibility;
    `strict` refuses to write one with layout problems. Return where each printed page begins
    in the text, for the EPUB's page list."""
    from weasyprint import CSS, HTML

    from publisher.pdf import weasyprint as engine
    from publisher.pdf.weasyprint.boxes import drop_rules_at_column_tops, text_boxes

    issue = context.issue
    intent = pages.output_intent(issue) if press else None
    allowed = (*context.readable, *([intent.profile.resolve()] if intent else []))
    # A user stylesheet: its !important colours override the layouts' CMYK ones.
    screen_css = [CSS(filename=templates.stylesheet(context.layout_folders, "screen.css"))
                  ] if screen else []
    with engine.patched(issue.uuid):
        scales: dict[str, float] = {}  # items whose pictures shrink to keep their ends whole
        while True:
            html = HTML(string=issue_html(context, press=press, picture_scales=scales),
                        base_url=issue.root.resolve().as_uri() + "/",
                        url_fetcher=fetcher(allowed))
            typeset(html.etree_element)
            document = html.render(stylesheets=screen_css)
            drop_rules_at_column_tops(document)
            runs = list(text_boxes(document, issue))
            check_glyphs(runs, context)
            plan = pages.page_plan(document, press=press)
            problems = layout_problems(document, runs, issue, plan.page_names(document))
            smaller = shrink_pictures(problems, scales)
            if smaller is None:
                break
            scales = smaller
        warn_lone_boxes(runs)
        report(problems)
        if strict and problems:
            raise BuildError(f"--strict: {len(problems)} layout problem(s), listed above")
        if plan.blanks:
            logger.warning("added %d blank page(s) at the end of the inside pages: a "
                           "saddle-stitched issue needs a page count that is a multiple of 4",
                           plan.blanks)
        starts = page_starts(plan.order, folios(plan.labels), issue)
        document = document.copy(plan.order)
        options = {"pdf_identifier": True, "uncompressed_pdf": False, "pdf_tags": screen}
        if press:
            options.update(pdf_variant="pdf/x-4", output_intent="device-cmyk")
        data = document.write_pdf(**options)  # SVG pictures fetch their own images only here
    if document.url_fetcher.refused:
        raise BuildError("a picture or layout refers to "
                         + ", ".join(dict.fromkeys(document.url_fetcher.refused))
                         + ": a build reads only files in the issue folder, its layouts and "
                         "fonts folders, and never the network")
    with atomic_output(path) as tmp:
        pages.finish(data, tmp, plan.labels,
                     bleed=Grid(issue.trim).bleed_mm * MM if press else None, intent=intent)
    return starts


def fetcher(allowed: tuple[Path, ...]):
    """A WeasyPrint URL fetcher that reads `data:` URLs and `file:` URLs of files in (or equal
    to) `allowed`, and refuses any other, keeping it in `refused`: a picture (an SVG's own
    `<image href>`) must not pull files from elsewhere on the machine or the network."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    from weasyprint.urls import URLFetcher

    class Fetcher(URLFetcher):
        def __init__(self):
            super().__init__()
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(url2pathname(parts.path)).resolve()
                if any(path.is_relative_to(p) for p in allowed):
                    return super().fetch(url, headers)
            self.refused.append(url)
            raise ValueError("refused: not a file of the issue, its layouts or its fonts")

    return Fetcher()

