"""After layout, what an editor or a printer would catch by eye, reported as
`path: p. N: message`: a page holding only an item's last lines, a title shrunk below the house
minimum, columns that end unevenly, a hole in a column, a page left half empty while its item
goes on overleaf, a box with unequal space around it, an item missing from the 目录, and a
picture too coarse to print."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from publisher.pdf.grid import MM, Grid
from publisher.pdf.laid_out import TextRuns
from publisher.source.model import Article, ImprintPlace, Issue, Kind

logger = logging.getLogger(__name__)

TAIL_LINES = 5  # a page with an item's end no deeper than this (lines), and nothing else
TITLE_MIN_PT = 15.0  # 小三: a title shrunk to fit its longest line may go no smaller
UNEVEN_LINES = 2  # columns side by side may end this many lines apart, no more
ON_GRID = 0.01  # lines: float sums put a column's foot this near a line of the grid
EMPTY_LINES = 6  # lines left empty at a page's foot while its item goes on overleaf
OPEN_LINES = 4  # lines of space between two lines of a column (a brief's rule takes one)
UNEVEN_SPACE_LINES = 0.5  # difference between the space above and below a box
TITLE_CLASSES = {"title", "series-title"}
# Pixels per inch a printed picture needs (300 is the rule, 250 what a printer still takes).
PRINT_PPI = 250


PICTURE_SHRINK = 0.85  # each try sets an item's pictures this much smaller
PICTURE_MIN_SCALE = 0.6  # and no smaller than this share of the width the editor gave


@dataclass(frozen=True)
class LayoutProblem:
    item: Article
    page: str
    message: str
    tail: bool = False  # the item's last lines alone on a page

    def __str__(self) -> str:
        return f"{self.item.path}: p. {self.page}: {self.message}"


def report(problems: list[LayoutProblem]) -> None:
    for problem in problems:
        logger.warning("%s", problem)


def shrink_pictures(problems: list[LayoutProblem],
                    scales: dict[str, float]) -> dict[str, float] | None:
    """Smaller pictures for each item whose last lines stand alone on a page, rather than the
    spill; None when no picture can shrink further."""
    smaller = dict(scales)
    for problem in problems:
        item = problem.item
        scale = scales.get(item.anchor, 1.0) * PICTURE_SHRINK
        if problem.tail and _has_pictures(item) and scale >= PICTURE_MIN_SCALE:
            smaller[item.anchor] = scale
            logger.info("%s: pictures set at %d%% of their width so that the item's last "
                        "lines do not stand alone on a page", item.path, round(scale * 100))
    return smaller if smaller != scales else None


def layout_problems(document, runs: TextRuns, issue: Issue,
                    names: list[str], *, toc: bool = True) -> list[LayoutProblem]:
    """Every layout problem of the laid-out `document`; `names` are the printed page names
    (folios) of its pages. `toc` looks for items missing from the 目录: only a document that
    holds both has an answer (a section of the issue does not: `missing_from_toc`)."""
    from publisher.pdf.weasyprint import geometry

    line = Grid(issue.trim).line_pt
    items = {a.anchor: a for a in issue.articles}
    ancestry = geometry.Ancestry(document)
    classes = {id(box): ancestry.classes(box) for _, _, box in runs}
    body = [(index, item, box) for index, item, box in runs
            if item is not None and names[index].isdigit() and "toc-entry" not in classes[id(box)]]
    on_page: dict[int, set[Article]] = {}
    for index, item, _ in body:
        on_page.setdefault(index, set()).add(item)
    pictures = list(geometry.pictures(document, ancestry))
    problems = [
        *_tails(body, on_page, {(p.page, p.item) for p in pictures}, names),
        *_coarse_pictures(pictures, items, names),
        *_small_titles(body, classes, names),
        *_uneven_columns(geometry.column_sets(document, ancestry), items, names, line),
        *_holes(geometry.column_gaps(document, ancestry), items, names, line),
        *_empty_feet(geometry.page_fill(document), geometry.forced_breaks(document), on_page,
                     names, line),
        *_uneven_space(geometry.boxed_spacing(document, ancestry), items, names, line),
    ]
    if toc:
        first_page: dict[Article, int] = {}
        for index, item, _ in body:
            first_page.setdefault(item, index)
        problems += missing_from_toc(_listed(runs, classes), issue,
                                     lambda item: names[first_page[item]]
                                     if item in first_page else "?")
    return problems


def _tails(body: TextRuns, on_page: dict[int, set[Article]], pictures: set[tuple[int, str]],
           names: list[str]) -> Iterator[LayoutProblem]:
    for index, here in sorted(on_page.items()):
        (item, *others) = here
        if others or item not in on_page.get(index - 1, ()) or (index, item.anchor) in pictures:
            continue
        rows = {round(box.position_y) for i, a, box in body if i == index and a == item}
        if len(rows) <= TAIL_LINES:
            smaller = ", or make a picture smaller" if _has_pictures(item) else ""
            yield LayoutProblem(item, names[index],
                                f"the last lines of this item stand alone on this page, "
                                f"{len(rows)} line(s) deep: cut them{smaller}, so that they fit "
                                f"on p. {names[index - 1]}", tail=True)


def _has_pictures(item: Article) -> bool:
    return "![" in item.body


def _coarse_pictures(pictures: list, items: dict[str, Article],
                     names: list[str]) -> Iterator[LayoutProblem]:
    from urllib.parse import unquote, urlsplit

    for picture in pictures:
        if picture.ppi is None or picture.ppi >= PRINT_PPI or picture.item not in items:
            continue
        item = items[picture.item]
        name = unquote(urlsplit(picture.src).path).rpartition("/")[2]
        yield LayoutProblem(item, names[picture.page],
                            f"picture `{name}` prints at {picture.ppi:.0f} pixels per inch, "
                            f"fewer than the {PRINT_PPI} print needs: use a larger picture, or "
                            "set it smaller")


def _small_titles(body: TextRuns, classes: dict[int, set[str]],
                  names: list[str]) -> Iterator[LayoutProblem]:
    seen: set[Article] = set()
    for index, item, box in body:
        title = classes[id(box)] & TITLE_CLASSES
        size = box.style["font_size"] * 0.75
        if title and item not in seen and size < TITLE_MIN_PT:
            seen.add(item)
            yield LayoutProblem(item, names[index],
                                f"the title is set at {size:.1f} pt to keep its longest line "
                                f"whole, below the house minimum of {TITLE_MIN_PT:g} pt: write "
                                "`title:` as a list of shorter lines")


def _uneven_columns(sets, items, names, line: float) -> Iterator[LayoutProblem]:
    for columns in sets:
        item = items.get(columns.item)
        if item is None or not names[columns.page].isdigit() or len(columns.bottoms) < 2:
            continue
        apart = max(columns.bottoms) - min(columns.bottoms)
        if apart > (UNEVEN_LINES + ON_GRID) * line:
            short = "right" if columns.bottoms[0] > columns.bottoms[-1] else "left"
            yield LayoutProblem(item, names[columns.page],
                                f"the {short} column ends {apart / line:.0f} lines short of the "
                                "other: something that cannot be split (a picture, a box, a "
                                "heading kept with its text) left the gap; shorten, shrink or "
                                "move it")


def _holes(gaps, items, names, line: float) -> Iterator[LayoutProblem]:
    for gap in gaps:
        item = items.get(gap.item)
        if item is not None and names[gap.page].isdigit() and gap.height > OPEN_LINES * line:
            yield LayoutProblem(item, names[gap.page],
                                f"{gap.height / line:.0f} lines of space stand above this item in "
                                "its column: what comes after it (a heading kept with its text, "
                                "a brief's head, a box) did not fit at the column's foot, and "
                                "nothing else in the column could share the lines it left; cut "
                                "or add a line or two nearby")


def _empty_feet(fills, forced: set[int], on_page, names, line: float) -> Iterator[LayoutProblem]:
    for fill in fills:
        here, overleaf = on_page.get(fill.page, set()), on_page.get(fill.page + 1, set())
        empty = fill.block_bottom - fill.content_bottom
        if not names[fill.page].isdigit() or empty <= EMPTY_LINES * line:
            continue
        if going_on := here & overleaf:
            yield LayoutProblem(min(going_on, key=lambda a: a.order), names[fill.page],
                                f"{empty / MM:.0f} mm at the foot of the page stay empty while "
                                "this item goes on overleaf: what follows (a picture, a box) "
                                "did not fit; make it smaller")
        # An item begins overleaf without a forced break (it opens no page, nor its column's
        # run) only where its title block and first lines, kept together, did not fit here.
        elif fill.page + 1 not in forced and (pushed := overleaf - here):
            yield LayoutProblem(min(pushed, key=lambda a: a.order), names[fill.page],
                                f"{empty / MM:.0f} mm at the foot of the page stay empty: what "
                                "begins this item (its title with its first lines, a box) did "
                                "not fit there and begins overleaf; cut lines on this page so "
                                "that it fits, or add enough to fill it")


def _uneven_space(spacings, items, names, line: float) -> Iterator[LayoutProblem]:
    for spacing in spacings:
        item = items.get(spacing.item)
        if item is not None and abs(spacing.above - spacing.below) > UNEVEN_SPACE_LINES * line:
            yield LayoutProblem(item, names[spacing.page],
                                f"this box has {spacing.above / MM:.1f} mm above it and "
                                f"{spacing.below / MM:.1f} mm below: the space around a box "
                                "should be the same (print.css, aside.excerpt's margins)")


def _listed(runs: TextRuns, classes: dict[int, set[str]]) -> set[Article]:
    return {item for _, item, box in runs if item is not None and "toc-entry" in classes[id(box)]}


def toc_listed(document, runs: TextRuns) -> set[Article]:
    """The items that the 目录 of the laid-out `document` lists."""
    from publisher.pdf.weasyprint import geometry

    ancestry = geometry.Ancestry(document)
    return _listed(runs, {id(box): ancestry.classes(box) for _, _, box in runs})


def missing_from_toc(listed: set[Article], issue: Issue,
                     page: Callable[[Article], str]) -> list[LayoutProblem]:
    """Each item but a 微书摘 box that the 目录 does not list, on the `page` where it begins."""
    return [LayoutProblem(item, page(item), "this item is not in the 目录")
            for item in issue.articles if item.kind != Kind.box and item not in listed]


def require_back_cover_fits(document, issue: Issue) -> None:
    """Stop a build whose 封底 runs on past its page: the issue would end on a page with neither
    the 封底's marks nor its place (the last, a left page)."""
    from publisher.errors import BuildError
    from publisher.pdf.weasyprint import geometry

    if len(geometry.pages_holding(document, lambda element: element.get("id") == "back-cover")) < 2:
        return
    feature = next((a for a in issue.articles if a.kind == Kind.back_cover), None)
    where = (feature.path, feature.body_line) if feature else (issue.root / "issue.yaml", None)
    raise BuildError("the 封底 (back cover) does not fit on its page and runs onto another, so the "
                     "issue would not end on it: shorten its text or make its pictures smaller",
                     *where)


def require_imprint_fits(document, issue: Issue) -> None:
    """Stop a build whose 版权页 runs on past its place: onto a page of its own, which would move
    every later page, or off a cover, which has no next page."""
    from publisher.errors import BuildError, read_utf8
    from publisher.pdf.weasyprint import geometry

    imprint = geometry.pages_holding(document, lambda element: element.get("id") == "imprint")
    if issue.imprint is None or not imprint:
        return
    under_toc = issue.imprint.place == ImprintPlace.toc
    room = geometry.pages_holding(document, lambda element: "toc-entry" in (
        element.get("class") or "").split()) if under_toc else imprint[:1]
    if set(imprint) <= set(room):
        return
    manifest = issue.root / "issue.yaml"
    line = next((number for number, text in enumerate(read_utf8(manifest).split("\n"), 1)
                 if text.startswith("imprint:")), None)
    problem = ("does not fit under the 目录 and runs onto a page of its own, moving every later "
               "page: put it on 封二 or 封三 (inside-front-cover, inside-back-cover), or shorten "
               "the 目录" if under_toc else "does not fit on its page: shorten its rows, or put "
               "it under the 目录 (toc)")
    raise BuildError(f"`imprint.place: {issue.imprint.place.value}`: the 版权页 {problem}",
                     manifest, line)
