"""Issue → EPUB 3 for phones, with ebooklib.

One XHTML document per item (a run of briefs shares one; a box joins its article), from the
templates in `layouts/epub/`; navigation nested column → item (→ speech of a series), landmarks
and an NCX; accessibility metadata; a cover drawn from the issue; optionally the glyphs each font
role uses, subset and embedded. The same sources give the same bytes: ids, file names, zip dates
and `dcterms:modified` all derive from the issue.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
from ebooklib import epub
from lxml import etree

from .cjk import LINE_END_PROHIBITED, LINE_START_PROHIBITED
from .fonts import load_roles, role_face
from .keywords import issue_keywords
from .layouts import environment, search_path
from .layouts import render as render_layout
from .load import IMAGE_TYPES
from .markup import EXCERPT_LABEL, plain_paragraphs, render
from .model import Article, Column, Issue, Kind
from .output import atomic_output, build_time

logger = logging.getLogger(__name__)

LABEL_CHARS = 14  # first words of an untitled item, for its navigation label
# Title lines are set on one line with a space between phrases, but a line ending in one of
# these continues into the next (…建设的 / 新举措及启示).
JOINING = frozenset("的之与和及暨、")
STYLESHEET = "css/epub.css"
FONT_STYLESHEET = "css/fonts.css"
COVER = "images/cover.png"
# One face per role keeps the book small; the stylesheet sets 黑 bold and 宋, 楷 regular.
EMBED_WEIGHTS = {"serif": 400, "sans": 700, "kai": 400}
APPLE_OPTIONS = "META-INF/com.apple.ibooks.display-options.xml"
APPLE_OPTIONS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<display_options>
  <platform name="*">
    <option name="specified-fonts">true</option>
  </platform>
</display_options>
"""
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
XHTML_NS = "http://www.w3.org/1999/xhtml"


@dataclass(frozen=True)
class Page:
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


class _Document(epub.EpubHtml):
    """A content document written exactly as the template rendered it.

    ebooklib's EpubHtml re-parses the body with an HTML parser and rebuilds <head>, which loses
    the attributes of <body>; our templates already give finished XHTML.
    """

    def get_content(self, default=None) -> bytes:
        return self.content


class _Writer(epub.EpubWriter):
    """ebooklib's writer; the NCX states its language and the depth of its navMap (ebooklib
    writes neither)."""

    def _get_ncx(self) -> bytes:
        ncx = etree.fromstring(super()._get_ncx())
        ns = {"n": ncx.nsmap[None]}
        depth = max(sum(1 for _ in p.iterancestors(f"{{{ns['n']}}}navPoint")) + 1
                    for p in ncx.iterfind(".//n:navPoint", ns))
        ncx.find(".//n:meta[@name='dtb:depth']", ns).set("content", str(depth))
        ncx.set("{http://www.w3.org/XML/1998/namespace}lang", self.book.language)
        return etree.tostring(ncx, pretty_print=True, encoding="utf-8", xml_declaration=True)


def write_epub(issue: Issue, path: Path, *, embed_fonts: bool = False) -> None:
    """Write the EPUB 3 of `issue` to `path` (atomically); same issue, same bytes."""
    env = environment(search_path(issue.root))
    page_list = pages(issue)
    images: dict[Path, str] = {}
    stylesheets = [FONT_STYLESHEET, STYLESHEET] if embed_fonts else [STYLESHEET]
    css = render_layout(env, "epub/epub.css.j2", fonts=_families(issue)).encode()
    documents = _documents(issue, env, page_list, images, stylesheets)

    book = epub.EpubBook()
    _metadata(book, issue)
    book.add_item(epub.EpubItem(uid="css-epub", file_name=STYLESHEET, media_type="text/css",
                                content=css))
    if embed_fonts:
        font_css, fonts = _embedded_fonts(issue, documents, css.decode())
        book.add_item(epub.EpubItem(uid="css-fonts", file_name=FONT_STYLESHEET,
                                    media_type="text/css", content=font_css.encode()))
        for name, media_type, data in fonts:
            book.add_item(epub.EpubItem(uid=_uid("font", name), file_name=name,
                                        media_type=media_type, content=data))
        book.add_item(epub.EpubItem(file_name=APPLE_OPTIONS, content=APPLE_OPTIONS_XML.encode(),
                                    manifest=False))
    book.set_cover(COVER, _cover_png(issue), create_page=False)
    for source, name in images.items():
        book.add_item(epub.EpubImage(uid=_uid("img", name), file_name=name,
                                     media_type=IMAGE_TYPES[source.suffix.lower()],
                                     content=source.read_bytes()))
    spine = []
    for document in documents:
        item = _Document(uid=document.uid, file_name=document.file_name, title=document.title,
                         lang=issue.language)
        item.content = document.xhtml
        book.add_item(item)
        spine.append(item)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav(title="目录"))
    book.toc = _toc(issue, page_list)
    book.spine = spine
    book.guide = [
        {"type": "cover", "title": "封面", "href": documents[0].file_name},
        {"type": "toc", "title": "目录", "href": documents[1].file_name},
        {"type": "text", "title": "正文", "href": documents[2].file_name},
    ]
    moment = build_time(issue)
    with atomic_output(path) as tmp:
        writer = _Writer(str(tmp), book, {"mtime": moment, "epub3_pages": False,
                                          "landmark_title": "导览"})
        writer.process()
        writer.write()
        _normalise_zip(tmp, max(ZIP_EPOCH, moment.timetuple()[:6]))


def pages(issue: Issue) -> list[Page]:
    """Content documents in issue order: consecutive briefs of a column share one, and a box
    (微书摘) joins the item it follows in its column, as it fills that item's page in print."""
    out: list[Page] = []
    for column, items in issue.by_column():
        for index, item in enumerate(items):
            last = out[-1] if index else None
            if last and (item.kind == Kind.box or
                         item.kind == last.items[-1].kind == Kind.brief):
                out[-1] = Page(column, (*last.items, item), last.opens_column)
            else:
                out.append(Page(column, (item,), opens_column=index == 0))
    return out


def shown_title(item: Article, issue: Issue) -> tuple[str, ...]:
    """The title lines the item shows: its own, or the back cover's feature title."""
    if not item.title and item.kind == Kind.back_cover and issue.back_cover:
        return (issue.back_cover,)
    return item.title


def nav_label(item: Article, issue: Issue) -> str:
    """The item's title on one line; an untitled item gets its column name (微书摘 for a box)
    and its first words."""
    title = shown_title(item, issue)
    if title:
        return "".join(line if not later or line[-1] in JOINING else line + " "
                       for line, later in zip(title, (*title[1:], ""), strict=True)).strip()
    words = "".join(plain_paragraphs(item.body)[:1]).strip()
    more = "…" if len(words) > LABEL_CHARS else ""
    prefix = EXCERPT_LABEL if item.kind == Kind.box else issue.column(item.column).name
    return f"{prefix}：{words[:LABEL_CHARS]}{more}"


def _links(issue: Issue, page_list: list[Page]) -> dict[int, tuple[str, str]]:
    """Each item's (href, navigation label), by order number."""
    return {item.order: (page.href(item), nav_label(item, issue))
            for page in page_list for item in page.items}


def _families(issue: Issue) -> dict[str, str]:
    """Each role's families from fonts.yaml as a quoted CSS list, for the stylesheet."""
    return {name: role.css_families for name, role in load_roles(issue.root).items()}


def _documents(issue: Issue, env: jinja2.Environment, page_list: list[Page],
               images: dict[Path, str], stylesheets: list[str]) -> list[Document]:
    """Cover, contents and one document per page, in reading order."""
    common = {"issue": issue, "lang": issue.language, "stylesheets": stylesheets}
    links = _links(issue, page_list)
    documents = [
        Document("cover", "cover.xhtml", "封面", render_layout(
            env, "epub/cover.xhtml.j2", title="封面", cover=COVER, **common).encode()),
        Document("contents", "contents.xhtml", "目录", render_layout(
            env, "epub/contents.xhtml.j2", title="目录", outline=_outline(issue), links=links,
            **common).encode()),
    ]
    for page in page_list:
        items = [{"item": item, "label": links[item.order][1],
                  "title": shown_title(item, issue),
                  "body": render(item.body, _image_resolver(issue, item, images))}
                 for item in page.items]
        briefs = sum(item.kind == Kind.brief for item in page.items) > 1
        title = page.column.name if briefs else items[0]["label"]
        documents.append(Document(page.uid, page.file_name, title, render_layout(
            env, "epub/page.xhtml.j2", title=title, page=page, items=items, **common).encode()))
    return documents


def _image_resolver(issue: Issue, item: Article, images: dict[Path, str]):
    """Map an article's image path to a stable name inside the EPUB, remembering the file."""

    def resolve(src: str) -> str:
        source = (item.path.parent / src).resolve()
        suffix = source.suffix.lower()  # one of load.IMAGE_TYPES: the loader checked it
        relative = source.relative_to(issue.root.resolve()).as_posix()
        name = f"images/{hashlib.sha1(relative.encode()).hexdigest()[:12]}{suffix}"
        images.setdefault(source, name)
        return name

    return resolve


Outline = list[tuple[Column, list[tuple[Article, list[Article]]]]]


def _outline(issue: Issue) -> Outline:
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


def _toc(issue: Issue, page_list: list[Page]) -> list:
    """ebooklib's toc from the outline: a Section per column (linking its first item)."""
    links = _links(issue, page_list)

    def link(item: Article) -> epub.Link:
        return epub.Link(*links[item.order], uid=f"nav-{item.order:03d}")

    def section(item: Article, speeches: list[Article]) -> tuple[epub.Section, list[epub.Link]]:
        href, label = links[item.order]
        return epub.Section(label, href), [link(s) for s in speeches]

    return [(epub.Section(column.name, links[entries[0][0].order][0]),
             [section(item, speeches) if speeches else link(item) for item, speeches in entries])
            for column, entries in _outline(issue)]


def _metadata(book: epub.EpubBook, issue: Issue) -> None:
    book.set_identifier(f"urn:uuid:{issue.uuid}")
    book.set_title(f"{issue.magazine} {issue.label}")
    book.set_language(issue.language)
    book.add_author(issue.magazine)
    book.add_metadata("DC", "date", f"{issue.year:04d}-{issue.month:02d}")
    for word in issue_keywords(issue):
        book.add_metadata("DC", "subject", word)
    # Readers such as Apple Books shelve the issues of a magazine together, in this order.
    book.add_metadata(None, "meta", issue.magazine,
                      {"property": "belongs-to-collection", "id": "magazine"})
    book.add_metadata(None, "meta", "series",
                      {"refines": "#magazine", "property": "collection-type"})
    book.add_metadata(None, "meta", str(issue.number or issue.year * 100 + issue.month),
                      {"refines": "#magazine", "property": "group-position"})
    meta = [
        ("rendition:layout", "reflowable"),
        ("schema:accessMode", "textual"),
        ("schema:accessMode", "visual"),  # the cover, at least
        ("schema:accessModeSufficient", "textual"),
        ("schema:accessibilityFeature", "structuralNavigation"),
        ("schema:accessibilityFeature", "tableOfContents"),
        ("schema:accessibilityFeature", "readingOrder"),
        ("schema:accessibilityFeature", "alternativeText"),
        ("schema:accessibilityFeature", "displayTransformability"),
        ("schema:accessibilityHazard", "none"),
        ("schema:accessibilitySummary",
         "可重排的文字版期刊：正文为真实文本，可调字号、可朗读；目录按栏目分层导航，"
         "阅读顺序与印刷版一致；封面与图片均有文字说明。"),
    ]
    for prop, value in meta:
        book.add_metadata(None, "meta", value, {"property": prop})


def _cover_png(issue: Issue) -> bytes:
    """Draw the cover: masthead, issue label and cover lines, at the trim's proportions."""
    from PIL import Image, ImageDraw, ImageFont

    width = 1200
    height = round(width * issue.trim.height / issue.trim.width)
    red, paper, ink = (178, 24, 30), (250, 246, 238), (40, 30, 28)
    image = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(image)
    margin = 90

    def font(role: str, weight: int, size: int) -> ImageFont.FreeTypeFont:
        file, index = _face(issue, role, weight)
        return ImageFont.truetype(str(file), size, index=index)

    band = round(height * 0.30)
    draw.rectangle((0, 0, width, band), fill=red)
    masthead = issue.magazine
    size = min(300, (width - 2 * margin) // max(len(masthead), 1))
    mast = font("serif", 700, size)
    box = draw.textbbox((0, 0), masthead, font=mast)
    draw.text(((width - (box[2] - box[0])) / 2 - box[0], (band - (box[3] - box[1])) / 2 - box[1]
               - 20), masthead, font=mast, fill=paper)
    small = font("sans", 700, 44)
    draw.text((width - margin, band - 40), issue.label, font=small, fill=paper, anchor="rs")

    # Cover lines fill the space above the big label; the type shrinks if there are many, and
    # lines that still do not fit are left to the cover page's alt text.
    room = height - margin - 260 - (band + 110)
    for size in range(58, 29, -4):
        lines_font, leading = font("sans", 700, size), round(size * 1.2)
        blocks = [_wrap(line, lines_font, width - 2 * margin - 40) for line in issue.cover_lines]
        if sum(len(b) * leading + size for b in blocks) <= room:
            break
    while sum(len(b) * leading + size for b in blocks) > room:
        blocks.pop()
    if len(blocks) < len(issue.cover_lines):
        logger.warning("only %d of %d cover lines fit the EPUB cover image",
                       len(blocks), len(issue.cover_lines))
    y = band + 110
    for block in blocks:
        draw.rectangle((margin, y + size // 10, margin + 12, y + len(block) * leading - size // 5),
                       fill=red)
        for part in block:
            draw.text((margin + 40, y), part, font=lines_font, fill=ink)
            y += leading
        y += size
    label = font("serif", 700, 180)
    draw.text((width - margin, height - margin), issue.label, font=label, fill=red, anchor="rs")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _wrap(text: str, font, width: int) -> list[str]:
    """Break a cover line between characters so that each part fits `width` pixels, keeping
    closing marks off a line's start and opening marks off its end (typesetting rule 1)."""
    parts = [""]
    for ch in text:
        if (parts[-1] and font.getlength(parts[-1] + ch) > width
                and ch not in LINE_START_PROHIBITED):
            carried = ""
            while parts[-1] and parts[-1][-1] in LINE_END_PROHIBITED:
                carried = parts[-1][-1] + carried
                parts[-1] = parts[-1][:-1]
            parts.append(carried)
        parts[-1] += ch
    return parts


def _face(issue: Issue, role: str, weight: int) -> tuple[Path, int]:
    """The font file and face index (in a collection) of a role at a weight."""
    path, _, index = str(role_face(load_roles(issue.root)[role], weight)).partition("#")
    return Path(path), int(index or 0)


def _role_text(documents: list[Document], css: str, families: dict[str, str]) -> dict[str, str]:
    """The characters each font role shows, found by applying the stylesheet's font-family rules.

    A rule belongs to the role whose first family its font-family list starts with; an element
    takes the role of its most specific matching rule, else its parent's (CSS inheritance).
    """
    import cssselect2
    import tinycss2

    firsts = {stack.split(",")[0].strip(): role for role, stack in families.items()}
    matcher = cssselect2.Matcher()
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            continue
        for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True,
                                                    skip_whitespace=True):
            if decl.type == "declaration" and decl.lower_name == "font-family":
                first = tinycss2.serialize(decl.value).split(",")[0].strip()
                if first in firsts:
                    for selector in cssselect2.compile_selector_list(rule.prelude):
                        matcher.add_selector(selector, firsts[first])
    used: dict[str, set[str]] = {role: {" "} for role in families}

    def visit(element: cssselect2.ElementWrapper, inherited: str | None) -> None:
        matches = [m for m in matcher.match(element) if m[2] is None]
        role = max(matches, key=lambda m: (m[0], m[1]))[3] if matches else inherited
        node = element.etree_element
        if role:
            used[role].update(node.text or "")
            for child in node:
                used[role].update(child.tail or "")
        for child in element.iter_children():
            visit(child, role)

    for document in documents:
        root = etree.fromstring(document.xhtml)
        body = root.find(f"{{{XHTML_NS}}}body")
        wrapper = cssselect2.ElementWrapper.from_xml_root(root)
        visit(next(w for w in wrapper.iter_children() if w.etree_element is body), None)
    return {role: "".join(sorted(chars)) for role, chars in used.items()}


def _embedded_fonts(issue: Issue, documents: list[Document],
                    css: str) -> tuple[str, list[tuple[str, str, bytes]]]:
    """Subset each role's face to the characters it shows; return @font-face CSS and the files."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools.subset").setLevel(logging.WARNING)  # not per-table chatter
    families = _families(issue)
    rules: list[str] = []
    files: list[tuple[str, str, bytes]] = []
    for role, text in _role_text(documents, css, families).items():
        weight = EMBED_WEIGHTS[role]
        path, index = _face(issue, role, weight)
        with TTFont(str(path), fontNumber=index, recalcTimestamp=False) as font:
            cmap = font.getBestCmap()
            lacking = "".join(ch for ch in text if ord(ch) not in cmap and not ch.isspace())
            if lacking:
                logger.warning("font for role %s (%s) lacks %s; readers will substitute",
                               role, path.name, lacking)
            options = subset.Options()
            options.flavor = "woff"
            options.hinting = False
            subsetter = subset.Subsetter(options)
            subsetter.populate(text=text)
            subsetter.subset(font)
            out = io.BytesIO()
            font.flavor = "woff"
            font.save(out)
        name = f"fonts/{role}.woff"
        family = families[role].split(",")[0].strip()
        rules.append(f"@font-face {{ font-family: {family}; font-weight: {weight}; "
                     f'font-style: normal; src: url("../{name}") format("woff"); }}')
        files.append((name, "font/woff", out.getvalue()))
    return "\n".join(rules) + "\n", files


def _uid(prefix: str, name: str) -> str:
    """A manifest id from a file name: letters, digits and dashes only."""
    stem = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in Path(name).stem)
    return f"{prefix}-{stem}"


def _normalise_zip(path: Path, date_time: tuple[int, ...]) -> None:
    """Rewrite the zip with fixed dates and permissions, the mimetype first and stored."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    entries.sort(key=lambda entry: entry[0] != "mimetype")  # stable: others keep their order
    with zipfile.ZipFile(path, "w") as target:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
                target.writestr(info, data)
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, data, compresslevel=9)
