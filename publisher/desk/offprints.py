"""`publisher offprints`: 单篇抽印, one PDF per item that has pages of its own, cut from the
issue PDF: its pages with their printed folios, its bookmarks, its own title, author and
keywords."""

from __future__ import annotations

import logging
from pathlib import Path

from publisher.desk.layout import LaidOutIssue
from publisher.desk.stats import UNSIGNED, authors
from publisher.epub.nav import nav_label
from publisher.keywords import article_keywords
from publisher.output import atomic_output
from publisher.source.markup import ARTICLE_NAME
from publisher.source.model import Article, Issue, Kind

logger = logging.getLogger(__name__)

# Items with pages of their own: articles (speeches are articles of a series) and editorials;
# briefs, boxes, 编者按 and the back cover share their pages.
OFFPRINT_KINDS = (Kind.article, Kind.editorial)


def offprint_items(issue: Issue) -> list[Article]:
    return [a for a in issue.articles if a.kind in OFFPRINT_KINDS]


def offprints(issue: Issue, laid_out: LaidOutIssue, out_dir: Path) -> list[Path]:
    from pypdf import PdfReader

    reader = PdfReader(laid_out.pdf)
    outline = _flatten(reader, reader.outline)
    written = []
    for article in offprint_items(issue):
        target = out_dir / "offprints" / f"{article.path.stem}.pdf"
        first, last = laid_out.pages_of(article.anchor)
        _write(reader, article, issue, laid_out, outline, first - 1, last - 1, target)
        written.append(target)
    for stale in sorted((out_dir / "offprints").glob("*.pdf")):
        # An offprint of an item that is no longer in the issue (or no longer one of them).
        if stale not in written and ARTICLE_NAME.match(stale.with_suffix(".md").name):
            stale.unlink()
            logger.info("removed %s: its item is no longer an article of the issue", stale)
    return written


def _flatten(reader, outline, depth: int = 0) -> list[tuple[int, object, int]]:
    """The issue's bookmarks in order: (depth, entry, 0-based page)."""
    out = []
    for entry in outline:
        if isinstance(entry, list):
            out += _flatten(reader, entry, depth + 1)
        else:
            out.append((depth, entry, reader.get_destination_page_number(entry)))
    return out


def _own_bookmarks(reader, outline, laid_out: LaidOutIssue, article: Article, issue: Issue):
    """The item's bookmark, the deepest at its anchor (a column's may stand there too), and
    those under it, as (depth below it, title, 0-based page, top); or one at the anchor."""
    anchor = laid_out.anchors[article.anchor]
    height = float(reader.pages[anchor.page - 1].mediabox.height)
    at_anchor = [i for i, (_, entry, page) in enumerate(outline)
                 if page + 1 == anchor.page and abs(height - float(entry.top or 0) - anchor.y) < 1]
    if not at_anchor:
        return [(0, nav_label(article, issue), anchor.page - 1, height - anchor.y)]
    start = at_anchor[-1]
    depth = outline[start][0]
    mine = []
    for level, entry, page in outline[start:]:
        if mine and level <= depth:
            break
        mine.append((level - depth, entry.title, page, entry.top))
    return mine


def _write(reader, article: Article, issue: Issue, laid_out: LaidOutIssue, outline,
           first: int, last: int, target: Path) -> None:
    from pypdf import PdfWriter
    from pypdf.generic import Fit

    writer = PdfWriter()
    for index in range(first, last + 1):
        writer.add_page(reader.pages[index])
    for offset, label in enumerate(laid_out.labels[first:last + 1]):
        if label.isdigit():
            writer.set_page_label(offset, offset, style="/D", start=int(label))
        else:
            writer.set_page_label(offset, offset, prefix=label)
    parents: list = []
    for level, text, page, top in _own_bookmarks(reader, outline, laid_out, article, issue):
        if not first <= page <= last:
            continue
        parent = parents[level - 1] if 0 < level <= len(parents) else None
        item = writer.add_outline_item(title=text, page_number=page - first, parent=parent,
                                       fit=Fit.xyz(top=top))
        parents[level:] = [item]
    writer.add_metadata({
        "/Title": nav_label(article, issue),
        # an unsigned item has no author: the fee sheet's （未署名） is no name
        "/Author": "、".join(name for name in authors(article) if name != UNSIGNED),
        "/Keywords": ", ".join(article_keywords(article)),
        "/Subject": f"{issue.magazine} {issue.label}",
        "/Producer": reader.metadata.get("/Producer", "") if reader.metadata else "",
    })
    with atomic_output(target) as tmp:
        writer.write(tmp)
