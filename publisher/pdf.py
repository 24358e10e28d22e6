"""Issue → print HTML (Jinja2 layouts) → WeasyPrint → PDF, with press options.

Three steps, each in one place, so later passes can hook in: `render_html` builds the page's
HTML from per-item fragments (`item_html` is a pure, cached function of one Article), `layout`
runs WeasyPrint, `write_pdf` checks glyphs, pads press pages and writes the file.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from . import cjk, fonts, layouts, pdfpost
from .errors import BuildError
from .keywords import issue_keywords, word_boundaries
from .markup import render
from .model import Article, Issue, Kind, Layout, Trim
from .output import atomic_output, build_time

logger = logging.getLogger(__name__)
# WeasyPrint reports every page laid out at INFO; keep its warnings, not its progress.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

MM = 72 / 25.4  # points per millimetre
PRESS_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
STYLESHEETS = ("print.css", "cjk.css")
# Items that open a new page; briefs, boxes and the speeches of a series run on.
PAGE_OPENERS = {Kind.article, Kind.editorial, Kind.editor_note, Kind.back_cover}


@dataclass(frozen=True)
class Grid:
    """The text block in whole characters (typesetting rule 4), and page margins derived from it.

    Two columns of `column_em` characters plus a hair (WeasyPrint 70 fits only 20 characters
    in exactly 21 em) and a gutter of `gutter_em`, so full width sets 2 × 21 + 3 = 45 a line.
    """

    trim: Trim
    press: bool = False
    body_pt: float = 10.5  # 五号
    line_pt: float = 17.5  # 5/3 of the body size
    column_em: int = 21
    gutter_em: int = 3
    hair_pt: float = 0.01
    min_top_mm: float = 22.0  # room for the running head
    min_bottom_mm: float = 18.0  # room for the folio
    bleed_mm: float = 3.0  # the printer's BleedBox
    marks_mm: float = 12.0  # CSS bleed: WeasyPrint draws crop marks in its outer half, so
    # they stay clear of the 3 mm the printer keeps

    @property
    def column_pt(self) -> float:
        return self.column_em * self.body_pt + self.hair_pt

    @property
    def measure_pt(self) -> float:
        return 2 * self.column_pt + self.gutter_em * self.body_pt

    @property
    def lines(self) -> int:
        room = (self.trim.height - self.min_top_mm - self.min_bottom_mm) * MM
        return math.floor(room / self.line_pt)

    def margins(self) -> tuple[float, float, float, float]:
        """(top, bottom, inner, outer) in points; the inner margin is the narrower."""
        slack_x = self.trim.width * MM - self.measure_pt
        slack_y = self.trim.height * MM - self.lines * self.line_pt
        if slack_x < 20 * MM:
            raise BuildError(f"trim {self.trim.width:g} mm is too narrow for a text block of "
                             f"{2 * self.column_em + self.gutter_em} characters")
        inner = round(slack_x * 0.44, 2)
        top = round(self.min_top_mm * MM + (slack_y - (self.min_top_mm + self.min_bottom_mm)
                                            * MM) / 2, 2)
        return top, slack_y - top, inner, slack_x - inner

    def css(self) -> str:
        top, bottom, inner, outer = self.margins()
        page = f"size: {self.trim.width}mm {self.trim.height}mm;"
        if self.press:
            page += f" bleed: {self.marks_mm}mm; marks: crop;"
        return (
            f"@page {{ {page} margin: {top}pt {outer}pt {bottom}pt {inner}pt; }}\n"
            f"@page :left {{ margin-left: {outer}pt; margin-right: {inner}pt; }}\n"
            f"@page :right {{ margin-left: {inner}pt; margin-right: {outer}pt; }}\n"
            f":root {{ --body-size: {self.body_pt}pt; --line: {self.line_pt}pt; "
            f"--column: {self.column_pt}pt; --gutter: {self.gutter_em * self.body_pt}pt; "
            f"--measure: {self.measure_pt}pt; --block-height: {self.lines * self.line_pt}pt; "
            f"--margin-top: {top}pt; --margin-bottom: {bottom}pt; "
            f"--margin-side: {(inner + outer) / 2:g}pt; }}\n"
        )


@dataclass(frozen=True)
class ItemHTML:
    """One item's HTML: `head` spans the page (title block, 编者按), `flow` runs in columns
    unless `wide`; `opens_page` starts it on a new page."""

    article: Article
    head: Markup
    flow: Markup
    wide: bool
    opens_page: bool


@lru_cache(maxsize=4)
def _environment(folders: tuple[Path, ...]):
    env = layouts.environment(folders)
    env.filters["padded"] = padded_name
    env.filters["headline_lines"] = headline_lines
    return env


# A brief's headline shrinks from 14 pt towards 12 pt to keep each line whole; a line that is
# still too long for a column is cut into even parts, never leaving a character alone.
HEADLINE_MIN_PT = 12.0
HEADLINE_CHARS = math.floor((Grid.column_em * Grid.body_pt) / HEADLINE_MIN_PT)
# Breaking after these reads naturally in a headline.
HEADLINE_BREAK_AFTER = frozenset("、，：；！？》”）")


def headline_lines(title: tuple[str, ...]) -> list[str]:
    """The printed lines of a brief's headline: each title line, cut evenly if too long."""
    return [part for line in title for part in _even_parts(line)]


def _even_parts(line: str) -> list[str]:
    if len(line) <= HEADLINE_CHARS:
        return [line]
    count = math.ceil(len(line) / HEADLINE_CHARS)
    ideal = len(line) / count

    def cost(at: int) -> float:
        before, after = line[at - 1], line[at]
        if (after in cjk.LINE_START_PROHIBITED or before in cjk.LINE_END_PROHIBITED
                or (before.isascii() and after.isascii() and before.isalnum() and after.isalnum())):
            return math.inf
        if " " in (before, after):
            return abs(at - ideal) - HEADLINE_CHARS  # the editor's own phrase break comes first
        return abs(at - ideal) - (2 if before in HEADLINE_BREAK_AFTER else 0)

    # The first part is a line; the rest must fit in count - 1 lines.
    reach = range(max(2, len(line) - (count - 1) * HEADLINE_CHARS),
                  min(len(line) - 2, HEADLINE_CHARS) + 1)
    # Break between words where jieba finds some in reach, else anywhere allowed.
    boundaries = word_boundaries(line)
    between_words = [at for at in reach if at in boundaries] or reach
    at = min(between_words, key=cost, default=round(ideal))
    return [line[:at].rstrip(), *_even_parts(line[at:].lstrip())]


def padded_name(name: str) -> str:
    """Two-character names are printed with a full-width space between (孙　瑛), as in print."""
    return f"{name[0]}\u3000{name[1]}" if len(name) == 2 else name


@lru_cache(maxsize=1024)
def item_html(article: Article, folders: tuple[Path, ...]) -> ItemHTML:
    """The HTML of one item; a pure function of the Article and the layout folders."""
    env = _environment(folders)
    body = article.body
    if article.kind == Kind.box and "::: excerpt" not in body:
        body = f"::: excerpt\n{body}\n:::\n"
    base = article.path.parent
    fragment = Markup(render(body, lambda src: (base / src).resolve().as_uri()))
    context = {"article": article, "body": fragment, "kind": article.kind.value}
    head = Markup(layouts.render(env, "partials/head.html.j2", **context))
    flow = Markup(layouts.render(env, "partials/flow.html.j2", **context))
    return ItemHTML(
        article=article, head=head, flow=flow,
        wide=article.layout == Layout.full_width,
        opens_page=article.kind in PAGE_OPENERS
        and not (article.series and article.kind != Kind.editor_note),
    )


@dataclass(frozen=True)
class Block:
    """A run of the page: full-width HTML, or a stretch set in two columns."""

    columns: bool
    items: tuple[Markup, ...]
    opens_page: bool = False


def blocks(items: list[ItemHTML]) -> list[Block]:
    """Close and reopen the columns around every full-width part, so that WeasyPrint never has
    to span or break a title block inside a multi-column box (its issues 980 and 1963)."""
    out: list[Block] = []
    for item in items:
        runs_on = not (item.head.strip() or item.wide or item.opens_page)
        if runs_on and out and out[-1].columns:
            out[-1] = Block(True, (*out[-1].items, item.flow), out[-1].opens_page)
            continue
        opens_page = item.opens_page
        if item.head.strip():
            out.append(Block(False, (item.head,), opens_page))
            opens_page = False
        if item.flow.strip():
            out.append(Block(not item.wide, (item.flow,), opens_page))
    return out


def render_html(issue: Issue, *, press: bool = False) -> str:
    """The whole issue as one HTML document for WeasyPrint."""
    folders = layouts.search_path(issue.root)
    roles = fonts.load_roles(issue.root)
    env = _environment(folders)
    runs = []
    for column, articles in issue.by_column():
        items = [item_html(a, folders) for a in articles]
        runs.append({"column": column, "items": items, "blocks": blocks(items),
                     "back_cover": all(a.kind == Kind.back_cover for a in articles)})
    when = build_time(issue).isoformat().replace("+00:00", "Z")
    return layouts.render(
        env, "magazine.html.j2",
        issue=issue, runs=runs,
        keywords=issue_keywords(issue),
        created=when,
        page_css=Markup(Grid(issue.trim, press).css() + fonts.font_css(roles)),
        press_profile=PRESS_PROFILE.as_uri() if press else None,
        stylesheets=[layouts.stylesheet(issue.root, name).as_uri() for name in STYLESHEETS],
    )


def layout(html: str, issue: Issue):
    """Run WeasyPrint on the HTML: the one place the document is laid out."""
    from weasyprint import HTML

    from . import balance, justify

    justify.install()
    balance.install()
    return HTML(string=cjk.typeset(html), base_url=issue.root.resolve().as_uri() + "/",
                url_fetcher=fetcher(readable(issue))).render()


def readable(issue: Issue) -> tuple[Path, ...]:
    """What a build may read: the issue folder, the layouts and fonts folders, the font files
    that fonts.yaml names and the CMYK profile."""
    font_files = [file for role in fonts.load_roles(issue.root).values()
                  for _, file in role.files]
    return tuple(p.resolve() for p in (issue.root, *layouts.search_path(issue.root),
                                       layouts.shipped("fonts"), *font_files, PRESS_PROFILE))


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


def write_pdf(issue: Issue, path: Path, *, press: bool = False) -> None:
    """Build the issue's PDF at `path` (the printer's variant when `press`)."""
    if press and not PRESS_PROFILE.is_file():
        raise BuildError(f"press PDFs need a CMYK output profile: {PRESS_PROFILE} is missing "
                         "(Debian package libgs-common)")
    _check_subsetting()
    document = layout(render_html(issue, press=press), issue)
    drop_rules_at_column_tops(document)
    runs = list(text_boxes(document, issue))
    check_glyphs(runs, issue)
    warn_lone_boxes(runs)
    pages = pdfpost.page_plan(document, press=press)
    if pages.blanks:
        logger.warning("added %d blank page(s) at the end of the inside pages: a "
                       "saddle-stitched issue needs a page count that is a multiple of 4",
                       pages.blanks)
    document = document.copy(pages.order)
    options = {"pdf_identifier": True, "uncompressed_pdf": False}
    if press:
        options.update(pdf_variant="pdf/x-4", output_intent="device-cmyk")
    with _document_id(issue.uuid):
        data = document.write_pdf(**options)  # SVG pictures fetch their own images only here
    if document.url_fetcher.refused:
        raise BuildError("a picture or layout refers to "
                         + ", ".join(dict.fromkeys(document.url_fetcher.refused))
                         + ": a build reads only files in the issue folder, its layouts and "
                         "fonts folders, and never the network")
    with atomic_output(path) as tmp:
        pdfpost.finish(data, tmp, pages.labels,
                       bleed=Grid(issue.trim).bleed_mm * MM if press else None)


@contextmanager
def _document_id(value: uuid.UUID) -> Iterator[None]:
    """WeasyPrint 70 stamps a PDF/X's XMP with a random DocumentID (uuid4), from which the
    file's /ID is hashed too; the issue's own identifier keeps the same sources, same bytes."""
    from weasyprint.pdf import metadata

    random_id = metadata.uuid4
    metadata.uuid4 = lambda: value
    try:
        yield
    finally:
        metadata.uuid4 = random_id


def _check_subsetting() -> None:
    from weasyprint.text.ffi import harfbuzz_subset

    if harfbuzz_subset is None:
        logger.warning("libharfbuzz-subset0 is not installed: WeasyPrint subsets the CJK fonts "
                       "with fontTools instead, which makes a build take minutes, not seconds")


def drop_rules_at_column_tops(document) -> None:
    """A brief that opens a column needs no rule, nor the space around it, to part it from the
    one before: WeasyPrint keeps both at a column break, and the rule would stand under the
    running head. Remove them and move the column's content up by what they took."""

    def visit(box) -> None:
        for child in getattr(box, "children", ()):
            if not getattr(child, "is_column", False):
                visit(child)
                continue
            flow = [c for c in child.children if c.is_in_normal_flow()]
            if not flow or not flow[0].border_top_width:
                continue
            first = flow[0]
            lift = first.margin_top + first.border_top_width + first.padding_top
            first.margin_top = first.border_top_width = first.padding_top = 0
            for moved in [*first.children, *flow[1:]]:
                moved.translate(dy=-lift)

    for page in document.pages:
        visit(page._page_box)


def text_boxes(document, issue: Issue) -> Iterator[tuple[int, Article | None, object]]:
    """Every laid-out run of text as (page index, the item it belongs to or None, TextBox)."""
    from weasyprint.formatting_structure.boxes import TextBox

    items = {a.anchor: a for a in issue.articles}

    def visit(box, item: Article | None):
        element = getattr(box, "element", None)
        if element is not None and element.get("data-item") in items:
            item = items[element.get("data-item")]
        if isinstance(box, TextBox):
            yield box, item
        for child in getattr(box, "children", ()):
            yield from visit(child, item)

    for index, page in enumerate(document.pages):
        for box, item in visit(page._page_box, None):
            yield index, item, box


TextRuns = list[tuple[int, "Article | None", object]]


def check_glyphs(runs: TextRuns, issue: Issue) -> None:
    """Stop on any character that the fonts of its role cannot set (typesetting rule 8)."""
    files = fonts.family_files(fonts.load_roles(issue.root))
    for _, item, box in runs:
        lost = fonts.missing(box.text, tuple(box.style["font_family"]), files)
        if lost:
            _glyph_error(lost[0], item.path if item else issue.root / "issue.yaml")


def warn_lone_boxes(runs: TextRuns) -> None:
    """A 微书摘 box fills space at the end of an article's columns; one that found no room
    there sits on a page of its own, which the editor should fix by moving it."""
    on_page: dict[int, set[Article]] = {}
    for index, item, _ in runs:
        if item is not None:
            on_page.setdefault(index, set()).add(item)
    for index, items in sorted(on_page.items()):
        if all(item.kind == Kind.box for item in items):
            for item in sorted(items, key=lambda a: a.order):
                logger.warning("%s: this box has a page to itself (PDF page %d): move it after "
                               "an article that ends with room to spare", item.path, index + 1)


def _glyph_error(char: str, source: Path) -> None:
    name = f"U+{ord(char):04X}"
    text = source.read_text(encoding="utf-8")
    line = text[: text.index(char)].count("\n") + 1 if char in text else None
    raise BuildError(f"no font of this text's role has a glyph for ‘{char}’ ({name}); "
                     "replace the character or name a font that has it in fonts/fonts.yaml",
                     source, line)
