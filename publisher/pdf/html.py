"""Issue → the print HTML that WeasyPrint lays out: per-item fragments (a pure, cached function
of one Article) from the Jinja2 layouts, grouped into full-width and two-column blocks."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from publisher import cjk, fonts, templates
from publisher.context import BuildContext
from publisher.epub.nav import nav_label
from publisher.keywords import word_boundaries
from publisher.output import build_time
from publisher.pdf.barcode import periodical_barcode
from publisher.pdf.grid import Grid
from publisher.pdf.pages import output_intent
from publisher.source.markup import to_html
from publisher.source.model import Article, Kind, Publication, Span

STYLESHEETS = ("print.css", "cjk.css")
# Items that open a new page; briefs, boxes and the speeches of a series run on.
PAGE_OPENERS = {Kind.article, Kind.editorial, Kind.editor_note, Kind.back_cover}


SPANNING_PICTURE = re.compile(r'(<figure class="span".*?</figure>\n?)', re.S)


@dataclass(frozen=True)
class ItemHTML:
    """One item's HTML: `head` spans the page (title block, 编者按), each of `parts` runs in
    columns unless marked wide (a full-width item, a picture set across both columns);
    `opens_page` starts it on a new page."""

    article: Article
    label: str | None  # as the 目录, the bookmarks and the EPUB's navigation name it
    head: Markup
    parts: tuple[tuple[Markup, bool], ...]
    opens_page: bool


@lru_cache(maxsize=4)
def _environment(folders: tuple[Path, ...]):
    env = templates.environment(folders)
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


def item_html(article: Article, folders: tuple[Path, ...], label: str | None = None) -> ItemHTML:
    """The HTML of one item; a pure function of the Article, the layout folders and its label
    (no bookmark without one), and of where its pictures are: its path may be relative to a
    current folder that changed since."""
    return _item_html(article, folders, label, article.path.parent.resolve())


@lru_cache(maxsize=1024)
def _item_html(article: Article, folders: tuple[Path, ...], label: str | None,
               pictures: Path) -> ItemHTML:
    env = _environment(folders)
    body = article.body
    if article.kind == Kind.box and "::: excerpt" not in body:
        body = f"::: excerpt\n{body}\n:::\n"
    fragment = Markup(to_html(body, lambda src: (pictures / src).resolve().as_uri()))
    context = {"article": article, "kind": article.kind.value, "label": label}
    head = Markup(templates.render(env, "partials/head.html.j2", **context, body=fragment))
    wide = article.span == Span.full_width
    # A picture set across both columns closes the columns above it and reopens them below.
    pieces = ([fragment] if article.kind in (Kind.brief, Kind.box)
              else SPANNING_PICTURE.split(fragment))
    parts = []
    for index, piece in enumerate(pieces):
        spanning = index % 2 == 1
        flow = templates.render(env, "partials/flow.html.j2", **context, body=Markup(piece),
                                ends=index == len(pieces) - 1)
        parts.append((Markup(flow), wide or spanning))
    return ItemHTML(
        article=article, label=label, head=head, parts=tuple(parts),
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
        opens_page = item.opens_page
        if item.head.strip():
            out.append(Block(False, (item.head,), opens_page))
            opens_page = False
        for flow, wide in item.parts:
            if not flow.strip():
                continue
            if not (wide or opens_page) and out and out[-1].columns:
                out[-1] = Block(True, (*out[-1].items, flow), out[-1].opens_page)
            else:
                out.append(Block(not wide, (flow,), opens_page))
            opens_page = False
    return out


def issue_barcode(issue):
    """A periodical sold at retail carries its 期刊条码: the ISSN's, with the month's issue."""
    imprint = issue.imprint
    if issue.publication == Publication.periodical and imprint.retail and imprint.issn:
        return periodical_barcode(imprint.issn, issue.month)
    return None


@dataclass(frozen=True)
class Part:
    """A section of the issue, laid out on its own (publisher/pdf/sections.py): the `front` pages
    (cover, 封二, 目录), a `body` stretch of one column from an item that opens a page to the
    next, the `blank` page or the `back` pages (封三, 封底)."""

    kind: str
    run: dict | None = None  # a body section's column, its blocks and whether it goes on one

    @property
    def name(self) -> str:
        """What progress and errors call it: its kind, or its first item's anchor."""
        if self.run is None:
            return self.kind
        first = self.run["blocks"][0].items[0]
        match = re.search(r'data-item="([^"]+)"', first)
        return match[1] if match else self.run["column"].id


@lru_cache(maxsize=2)  # as `_runs`: each found once a build, not once a section (0.3 ms each)
def stylesheet_uris(context: BuildContext) -> tuple[str, ...]:
    """The layouts' stylesheets for the print HTML, where the issue's layout folders find them."""
    return tuple(templates.stylesheet(context.layout_folders, name).as_uri()
                 for name in STYLESHEETS)


@lru_cache(maxsize=2)  # a build asks once per section; a context is one build's
def _runs(context: BuildContext) -> tuple[dict, ...]:
    issue = context.issue
    runs = []
    for column, articles in issue.by_column():
        items = [item_html(a, context.layout_folders, nav_label(a, issue)) for a in articles]
        runs.append({"column": column, "items": items, "blocks": blocks(items),
                     "back_cover": all(a.kind == Kind.back_cover for a in articles)})
    return tuple(runs)


def parts(context: BuildContext) -> list[Part]:
    """The issue's sections in print order: a new one at every block that opens a page."""
    body = []
    for run in _runs(context):
        if run["back_cover"]:
            continue
        stretches: list[list[Block]] = []
        for index, block in enumerate(run["blocks"]):
            if index == 0 or block.opens_page:
                stretches.append([])
            stretches[-1].append(block)
        body += [Part("body", {"column": run["column"], "blocks": stretch, "continued": index > 0})
                 for index, stretch in enumerate(stretches)]
    return [Part("front"), *body, Part("blank"), Part("back")]


def issue_html(context: BuildContext, *, press: bool = False,
               picture_scales: dict[str, float] | None = None, part: Part | None = None,
               toc_folios: dict[str, str] | None = None) -> str:
    """The whole issue, or one `part` of it, as one HTML document for WeasyPrint;
    `picture_scales` sets the pictures of some items (by anchor) smaller than their editor gave;
    `toc_folios` (item anchor → folio) names the items the 目录 links to, which a part laid out
    apart from them holds as targets; the sections leave its folios blank, for the furniture
    prints them (`toc_numbers`).

    Only the whole issue carries the keywords: no part's HTML may change when another item
    does, so a PDF composed from parts gets them when it is composed (`sections.compose`).
    Every part carries the date, which a press PDF's metadata would otherwise take from the
    clock."""
    issue = context.issue
    env = _environment(context.layout_folders)
    when = build_time(issue).isoformat().replace("+00:00", "Z")
    return templates.render(
        env, "magazine.html.j2",
        issue=issue, runs=_runs(context), part=part, toc_folios=toc_folios,
        barcode=issue_barcode(issue),
        keywords=context.keywords if part is None else (),
        created=when,
        page_css=Markup(Grid(issue.trim, press).css() + fonts.font_css(context.roles)
                        + "".join(f'[data-item="{anchor}"] {{ --picture-scale: {scale:.4f}; }}\n'
                                  for anchor, scale in sorted((picture_scales or {}).items()))),
        press_profile=output_intent(issue).profile.as_uri() if press else None,
        stylesheets=stylesheet_uris(context),
    )
