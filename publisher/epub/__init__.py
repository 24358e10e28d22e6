"""Issue → EPUB 3 for phones, with ebooklib.

One XHTML document per item (a run of briefs shares one; a box joins its article), from the
templates in `layouts/epub/`; navigation nested column → item (→ speech of a series), landmarks
and an NCX; accessibility metadata; a cover drawn from the issue; optionally the glyphs each font
role uses, subset and embedded. The same sources give the same bytes: ids, file names, zip dates
and `dcterms:modified` all derive from the issue.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from ebooklib import epub

from publisher import templates
from publisher.context import BuildContext
from publisher.epub.cover import cover_png
from publisher.epub.documents import (
    COVER,
    chapters,
    page_break,
    refuse_outside,
    render_documents,
)
from publisher.epub.fonts import embedded_fonts
from publisher.epub.nav import toc_entries
from publisher.epub.package import ZIP_EPOCH, ContentDocument, Writer, metadata, normalise_zip
from publisher.epub.references import (
    doctype_reference,
    document_reference,
    stylesheet_reference,
)
from publisher.output import atomic_output, build_time
from publisher.pdf.page_map import PageStart
from publisher.source.load import IMAGE_TYPES

logger = logging.getLogger(__name__)

STYLESHEET = "css/epub.css"
FONT_STYLESHEET = "css/fonts.css"
APPLE_OPTIONS = "META-INF/com.apple.ibooks.display-options.xml"
APPLE_OPTIONS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<display_options>
  <platform name="*">
    <option name="specified-fonts">true</option>
  </platform>
</display_options>
"""


def write_epub(context: BuildContext, path: Path, *, embed_fonts: bool = False,
               page_map: list[PageStart] | None = None) -> None:
    """Write the EPUB 3 of the issue to `path` (atomically); same issue, same bytes.

    `page_map` says where each printed page begins (from a PDF build of the same sources);
    without it, the issue is laid out for print here to find out.
    """
    issue = context.issue
    if page_map is None:
        page_map = laid_out_page_map(context)
    env = templates.environment(context.layout_folders)
    chapter_list = chapters(issue)
    images: dict[Path, str] = {}
    stylesheets = [FONT_STYLESHEET, STYLESHEET] if embed_fonts else [STYLESHEET]
    families = {name: role.css_families for name, role in context.roles.items()}
    css = templates.render(env, "epub/epub.css.j2", fonts=families).encode()
    documents = render_documents(context, env, chapter_list, images, stylesheets, page_map)
    marked = {page.id: document.file_name for document in documents for page in document.pages}
    pages = [(page.folio, f"{marked[page.id]}#{page.id}") for page in map(page_break, page_map)]

    book = epub.EpubBook()
    metadata(book, issue, context.keywords, paged=bool(pages))
    book.add_item(epub.EpubItem(uid="css-epub", file_name=STYLESHEET, media_type="text/css",
                                content=css))
    if embed_fonts:
        font_css, fonts = embedded_fonts(context.roles, documents, css.decode())
        book.add_item(epub.EpubItem(uid="css-fonts", file_name=FONT_STYLESHEET,
                                    media_type="text/css", content=font_css.encode()))
        for name, media_type, data in fonts:
            book.add_item(epub.EpubItem(uid=_uid("font", name), file_name=name,
                                        media_type=media_type, content=data))
        book.add_item(epub.EpubItem(file_name=APPLE_OPTIONS, content=APPLE_OPTIONS_XML.encode(),
                                    manifest=False))
    book.set_cover(COVER, cover_png(issue, context.roles), create_page=False)
    for source, name in images.items():
        book.add_item(epub.EpubImage(uid=_uid("img", name), file_name=name,
                                     media_type=IMAGE_TYPES[source.suffix.lower()],
                                     content=source.read_bytes()))
    spine = []
    for document in documents:
        item = ContentDocument(uid=document.uid, file_name=document.file_name,
                               title=document.title, lang=issue.language)
        item.content = document.xhtml
        book.add_item(item)
        spine.append(item)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav(title="目录"))
    book.toc = toc_entries(issue, chapter_list)
    book.spine = spine
    book.guide = [
        {"type": "cover", "title": "封面", "href": documents[0].file_name},
        {"type": "toc", "title": "目录", "href": documents[1].file_name},
        {"type": "text", "title": "正文", "href": documents[2].file_name},
    ]
    # What the layouts refer to, once the book holds every file it will carry.
    carried = {item.file_name for item in book.get_items() if item.manifest}
    refuse_outside(env, stylesheet_reference(css.decode(), STYLESHEET, carried))
    for document in documents:
        refuse_outside(env, doctype_reference(document.xhtml, document.file_name, carried)
                       or document_reference(document.root, document.file_name, carried))
    moment = build_time(issue)
    with atomic_output(path) as tmp:
        writer = Writer(str(tmp), book, {"mtime": moment, "epub3_pages": False,
                                         "landmark_title": "导览"}, pages=pages)
        writer.process()
        writer.write()
        normalise_zip(tmp, max(ZIP_EPOCH, moment.timetuple()[:6]))


def laid_out_page_map(context: BuildContext) -> list[PageStart]:
    """Where each printed page begins, from the print layout's sections (from the build cache
    when a PDF of the same sources was built, else laid out and kept there): the page list then
    never disagrees with the print edition. Nothing is composed, nor said of the layout."""
    from publisher.pdf import sections

    # The print layout's warnings are about a PDF this build does not write: not said here.
    print_logger = logging.getLogger("publisher.pdf")
    level = print_logger.level
    print_logger.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory(prefix="publisher-layout-") as folder:
            return sections.page_starts(sections.lay_out_issue(context, press=False,
                                                               out_dir=Path(folder)))
    finally:
        print_logger.setLevel(level)


def _uid(prefix: str, name: str) -> str:
    """A manifest id from a file name: letters, digits and dashes only."""
    stem = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in Path(name).stem)
    return f"{prefix}-{stem}"
