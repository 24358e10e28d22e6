"""Navigation: each item's label, the outline column → item → speech, and ebooklib's toc."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ebooklib import epub

from publisher.source.markup import EXCERPT_LABEL, plain_paragraphs
from publisher.source.model import Article, Column, Issue, Kind

if TYPE_CHECKING:
    from publisher.epub.documents import Chapter

SENTENCE_END = re.compile(r"[。！？](?![”’」』）])|[。！？][”’」』）]+")


# Title lines are set on one line with a space between phrases, but a line ending in one of
# these continues into the next (…建设的 / 新举措及启示).
JOINING = frozenset("的之与和及暨、")


def shown_title(item: Article, issue: Issue) -> tuple[str, ...]:
    """The title lines the item shows: its own, or the back cover's feature title."""
    if not item.title and item.kind == Kind.back_cover and issue.back_cover:
        return (issue.back_cover,)
    return item.title


def nav_label(item: Article, issue: Issue) -> str:
    """The item's title on one line (its `toc_title`, else its lines joined); an untitled item
    gets its column name (微书摘 for a box) and its first sentence, whole."""
    if item.toc_title:
        return item.toc_title
    title = shown_title(item, issue)
    if title:
        return "".join(line if not later or line[-1] in JOINING else line + " "
                       for line, later in zip(title, (*title[1:], ""), strict=True)).strip()
    paragraph = "".join(plain_paragraphs(item.body)[:1]).strip()
    end = SENTENCE_END.search(paragraph)
    prefix = EXCERPT_LABEL if item.kind == Kind.box else issue.column(item.column).name
    return f"{prefix}：{paragraph[:end.end()] if end else paragraph}"


def word_broken_texts(issue: Issue) -> set[str]:
    """The texts the EPUB breaks between words: title lines and contents entries."""
    return {text for item in issue.articles
            for text in (*shown_title(item, issue), nav_label(item, issue))}


def item_links(issue: Issue, chapter_list: list[Chapter]) -> dict[int, tuple[str, str]]:
    """Each item's (href, navigation label), by order number."""
    return {item.order: (chapter.href(item), nav_label(item, issue))
            for chapter in chapter_list for item in chapter.items}


Outline = list[tuple[Column, list[tuple[Article, list[Article]]]]]


def issue_outline(issue: Issue) -> Outline:
    """Columns → items → speeches: each speech of a series goes under the editor_note item that
    opens it. The 目录 page and the navigation documents both follow it."""
    outline: Outline = []
    for column, items in issue.by_column():
        entries: list[tuple[Article, list[Article]]] = []
        series: dict[str, list[Article]] = {}
        for item in items:
            if item.series and item.kind != Kind.editor_note and item.series in series:
                series[item.series].append(item)
                continue
            entries.append((item, []))
            if item.kind == Kind.editor_note and item.series:
                series[item.series] = entries[-1][1]
        outline.append((column, entries))
    return outline


def toc_entries(issue: Issue, chapter_list: list[Chapter]) -> list:
    """ebooklib's toc from the outline: a Section per column (linking its first item)."""
    links = item_links(issue, chapter_list)

    def link(item: Article) -> epub.Link:
        return epub.Link(*links[item.order], uid=f"nav-{item.order:03d}")

    def section(item: Article, speeches: list[Article]) -> tuple[epub.Section, list[epub.Link]]:
        href, label = links[item.order]
        return epub.Section(label, href), [link(s) for s in speeches]

    return [(epub.Section(column.name, links[entries[0][0].order][0]),
             [section(item, speeches) if speeches else link(item) for item, speeches in entries])
            for column, entries in issue_outline(issue)]
