"""The spine's content documents: which items share one (`chapters`), and each rendered from
the templates in `layouts/epub/`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from lxml import etree

from publisher import templates
from publisher.context import BuildContext
from publisher.epub.body import PageBreak, body_xhtml, marker_html, with_word_breaks
from publisher.epub.nav import issue_outline, item_links, shown_title
from publisher.epub.references import parsed
from publisher.errors import BuildError
from publisher.pdf.page_map import PageStart
from publisher.source.markup import WEB_SCHEMES_SHOWN, to_html
from publisher.source.model import Article, Column, Issue, Kind

COVER = "images/cover.png"
# Marker ids of the pages that carry no number; the numbered ones are page-1, page-2…
COVER_PAGE_IDS = {"封面": "page-cover", "封二": "page-cover-2", "封三": "page-cover-3",
                  "封底": "page-cover-4"}


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
    root: etree._Element  # xhtml `parsed`, for the checks
    pages: tuple[PageBreak, ...] = ()  # the printed pages that begin in it


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
                     stylesheets: list[str], starts: list[PageStart]) -> list[Document]:
    """Cover, contents and one document per chapter, in reading order, with a marker where
    each printed page of `starts` begins."""
    issue = context.issue
    common = {"issue": issue, "lang": issue.language, "stylesheets": stylesheets}
    links = item_links(issue, chapter_list)
    breaks = [(start, page_break(start)) for start in starts]
    front = [(start.entry, page) for start, page in breaks if start.item is None]
    front_pages = [page for _, page in front]
    documents = [
        _document("cover", "cover.xhtml", "封面", front_pages[:1], env, "epub/cover.xhtml.j2",
                  breaks=front_pages[:1], cover=COVER, **common),
        # A page of the 目录 that begins at an entry is marked there, the others at the top.
        _document("contents", "contents.xhtml", "目录", front_pages[1:], env,
                  "epub/contents.xhtml.j2", breaks=[page for entry, page in front[1:] if not entry],
                  entry_breaks=[(entry, page) for entry, page in front[1:] if entry],
                  outline=issue_outline(issue), links=links, words=with_word_breaks, **common),
    ]
    for chapter in chapter_list:
        items = []
        for item in chapter.items:
            mine = [(start, page) for start, page in breaks if start.item == item.order]
            body = to_html(item.body, _image_resolver(issue, item, images),
                           lambda order: links[order][0])
            items.append({
                "item": item, "label": links[item.order][1],
                "title": [with_word_breaks(line) for line in shown_title(item, issue)],
                "column": issue.column(item.column).name,
                "opening": [page for start, page in mine if start.block is None],
                "body": body_xhtml(body, [(s.block, s.offset, page) for s, page in mine
                                          if s.block is not None], f"{item.anchor}-excerpt"),
            })
        briefs = sum(item.kind == Kind.brief for item in chapter.items) > 1
        title = chapter.column.name if briefs else items[0]["label"]
        orders = {item.order for item in chapter.items}
        pages = [page for start, page in breaks if start.item in orders]
        documents.append(_document(chapter.uid, chapter.file_name, title, pages, env,
                                   "epub/chapter.xhtml.j2", chapter=chapter, items=items,
                                   **common))
    return documents


def page_break(start: PageStart) -> PageBreak:
    """The marker of a printed page, its id from its folio."""
    return PageBreak(start.folio, COVER_PAGE_IDS.get(start.folio, f"page-{start.folio}"))


def _document(uid: str, file_name: str, title: str, pages: list[PageBreak],
              env: jinja2.Environment, template: str, **values) -> Document:
    xhtml = templates.render(env, template, title=title, marker=marker_html, **values).encode()
    try:
        root = parsed(xhtml)
    except etree.XMLSyntaxError as exc:
        where = _made_at(env, xhtml, exc.lineno)
        if where is None:  # the project's own templates: a bug of the tool's
            raise
        # lxml's message ends with the place in the document, which no one can open.
        problem = re.sub(r", line \d+, column \d+$", "", exc.msg)
        raise BuildError(f"layout template: the XHTML it makes is not well-formed ({problem}): "
                         "close every element, and write & as &amp;", *where) from None
    _require_markers(env, root, pages, file_name, template)
    return Document(uid, file_name, title, xhtml, root, tuple(pages))


def _made_at(env: jinja2.Environment, xhtml: bytes,
             line: int | None) -> tuple[Path, int | None] | None:
    """The issue's own template (and line) that wrote the document's `line`, as far as its text
    tells, else its first own EPUB template; None if it has none."""
    own = templates.own_folders(env.loader.searchpath)
    lines = xhtml.decode().split("\n")
    written = lines[line - 1].strip() if line and line <= len(lines) else ""
    found = templates.written_at(own, written) if written else (None, None)
    if found[0] is not None:
        return found
    files = sorted(path for folder in own for path in (folder / "epub").glob("*.j2"))
    return (files[0], None) if files else None


def _require_markers(env: jinja2.Environment, root, pages: list[PageBreak],
                     file_name: str, template: str) -> None:
    """Each printed page's marker once in its document: the page list points at it. An issue's
    own template written for another version of the tool may print one twice, or not at all;
    the first template that prints markers, the issue's own before the project's, is named,
    or the issue's own `template` of the document, which printed none."""
    from collections import Counter

    ids = Counter(root.xpath("//@id"))
    for page in pages:
        if ids[page.id] != 1:
            where = templates.written_at(env.loader.searchpath, "marker(page)")
            document_template = Path(env.get_template(template).filename)
            if not ids[page.id] and any(document_template.is_relative_to(folder) for folder
                                        in templates.own_folders(env.loader.searchpath)):
                where = (document_template, None)
            raise BuildError(f"layout template: {file_name} holds the marker of printed page "
                             f"{page.folio} {ids[page.id]} time(s), not once: print each "
                             "`marker(page)` the templates are given once", *where)


def refuse_outside(env: jinja2.Environment, reference: str | None) -> None:
    """Stop the build where a layout made the book refer outside itself (`references`)."""
    if reference is not None:
        written = reference.removesuffix(">").removesuffix("?")  # `<set`, `<?xml-stylesheet`
        raise BuildError(f"layout template: `{reference}`: an EPUB refers only to its own files, "
                         f"and links only to the web ({WEB_SCHEMES_SHOWN})",
                         *templates.written_at(env.loader.searchpath, written))


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
