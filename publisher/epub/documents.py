"""The spine's content documents: which items share one (`chapters`), and each rendered from
the templates in `layouts/epub/`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import jinja2

from publisher import templates
from publisher.context import BuildContext
from publisher.epub.nav import issue_outline, item_links, shown_title
from publisher.source.markup import to_html
from publisher.source.model import Article, Column, Issue, Kind

COVER = "images/cover.png"


@dataclass(frozen=True)
class Chapter:
    """One content document: an item, a run of briefs of one column, or an item with the boxes
    (微书摘) that follow it."""

    column: Column
    items: tuple[Article, ...]
    opens_column: bool

    @property
    def uid(self) -> str:
        return f"doc-{self.items[0].order:03d}"

    @property
    def file_name(self) -> str:
        return f"{self.items[0].order:03d}-{self.items[0].slug}.xhtml"

    def href(self, item: Article) -> str:
        return self.file_name if item is self.items[0] else f"{self.file_name}#{item.anchor}"


@dataclass(frozen=True)
class Document:
    """A rendered XHTML document of the spine."""

    uid: str
    file_name: str
    title: str
    xhtml: bytes


def chapters(issue: Issue) -> list[Chapter]:
    """Content documents in issue order: consecutive briefs of a column share one, and a box
    (微书摘) joins the item it follows in its column, as it fills that item's page in print."""
    out: list[Chapter] = []
    for column, items in issue.by_column():
        for index, item in enumerate(items):
            last = out[-1] if index else None
            if last and (item.kind == Kind.box or
                         item.kind == last.items[-1].kind == Kind.brief):
                out[-1] = Chapter(column, (*last.items, item), last.opens_column)
            else:
                out.append(Chapter(column, (item,), opens_column=index == 0))
    return out


def render_documents(context: BuildContext, env: jinja2.Environment,
                     chapter_list: list[Chapter], images: dict[Path, str],
                     stylesheets: list[str]) -> list[Document]:
    """Cover, contents and one document per chapter, in reading order."""
    issue = context.issue
    common = {"issue": issue, "lang": issue.language, "stylesheets": stylesheets}
    links = item_links(issue, chapter_list)
    documents = [
        Document("cover", "cover.xhtml", "封面", templates.render(
            env, "epub/cover.xhtml.j2", title="封面", cover=COVER, **common).encode()),
        Document("contents", "contents.xhtml", "目录", templates.render(
            env, "epub/contents.xhtml.j2", title="目录", outline=issue_outline(issue),
            links=links, **common).encode()),
    ]
    for chapter in chapter_list:
        items = [{"item": item, "label": links[item.order][1],
                  "title": shown_title(item, issue),
                  "body": to_html(item.body, _image_resolver(issue, item, images),
                                  lambda order: links[order][0])}
                 for item in chapter.items]
        briefs = sum(item.kind == Kind.brief for item in chapter.items) > 1
        title = chapter.column.name if briefs else items[0]["label"]
        documents.append(Document(chapter.uid, chapter.file_name, title, templates.render(
            env, "epub/chapter.xhtml.j2", title=title, chapter=chapter, items=items,
            **common).encode()))
    return documents


def _image_resolver(issue: Issue, item: Article, images: dict[Path, str]):
    """Map an article's image path to a stable name inside the EPUB, remembering the file."""

    def resolve(src: str) -> str:
        source = (item.path.parent / src).resolve()
        suffix = source.suffix.lower()  # one of source.load.IMAGE_TYPES: the loader checked it
        relative = source.relative_to(issue.root.resolve()).as_posix()
        name = f"images/{hashlib.sha1(relative.encode()).hexdigest()[:12]}{suffix}"
        images.setdefault(source, name)
        return name

    return resolve
