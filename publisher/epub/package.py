"""The package around the documents: metadata, ebooklib's writer with its private hooks
(version-guarded), and the zip rewritten with fixed dates."""

from __future__ import annotations

import zipfile
from pathlib import Path

import ebooklib
from ebooklib import epub
from lxml import etree

from publisher.epub.references import parsed
from publisher.errors import BuildError
from publisher.source.model import Issue

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
# The ebooklib whose private `EpubWriter._get_ncx`, `_get_nav`, `_write_opf_file` and
# `EpubHtml.get_content` are overridden.
PINNED_EBOOKLIB = (0, 20)


def require_pinned_ebooklib() -> None:
    """Refuse an ebooklib whose private hooks may differ from those overridden here."""
    if tuple(ebooklib.VERSION[:2]) != PINNED_EBOOKLIB:
        found = ".".join(map(str, ebooklib.VERSION))
        raise BuildError(f"the EPUB writer overrides private code of ebooklib 0.20, but {found} is "
                         "installed: install ebooklib==0.20")


class ContentDocument(epub.EpubHtml):
    """A content document written exactly as the template rendered it.

    ebooklib's EpubHtml re-parses the body with an HTML parser and rebuilds <head>, which loses
    the attributes of <body>; our templates already give finished XHTML.
    """

    def get_content(self, default=None) -> bytes:
        return self.content


class Writer(epub.EpubWriter):
    """ebooklib's writer, with what it does not write: the package's language, the printed
    pages (`pages`: folio and href, in print order) as the nav's page-list and the NCX's
    pageList, and the NCX's language, depth of its navMap and play order."""

    def __init__(self, *args, pages: list[tuple[str, str]], **kwargs):
        require_pinned_ebooklib()
        super().__init__(*args, **kwargs)
        self.pages = pages

    def _write_opf_file(self, root) -> None:
        root.set(XML_LANG, self.book.language)
        super()._write_opf_file(root)

    def _get_nav(self, item) -> bytes:
        nav = etree.fromstring(super()._get_nav(item))
        body = nav.find(f"{{{XHTML_NS}}}body")
        toc = body.find(f"{{{XHTML_NS}}}nav")
        toc.set("role", "doc-toc")
        if self.pages:
            pages = etree.SubElement(body, f"{{{XHTML_NS}}}nav", {
                f"{{{EPUB_NS}}}type": "page-list", "role": "doc-pagelist", "hidden": "hidden",
                "aria-labelledby": "page-list-title"})
            etree.SubElement(pages, f"{{{XHTML_NS}}}h2", id="page-list-title").text = "页码"
            entries = etree.SubElement(pages, f"{{{XHTML_NS}}}ol")
            for folio, href in self.pages:
                li = etree.SubElement(entries, f"{{{XHTML_NS}}}li")
                etree.SubElement(li, f"{{{XHTML_NS}}}a", href=href).text = folio
        return etree.tostring(nav, pretty_print=True, encoding="utf-8", xml_declaration=True)

    def _get_ncx(self) -> bytes:
        ncx = etree.fromstring(super()._get_ncx())
        ns = {"n": ncx.nsmap[None]}
        depth = max(sum(1 for _ in p.iterancestors(f"{{{ns['n']}}}navPoint")) + 1
                    for p in ncx.iterfind(".//n:navPoint", ns))
        ncx.find(".//n:meta[@name='dtb:depth']", ns).set("content", str(depth))
        ncx.set(XML_LANG, self.book.language)
        if self.pages:
            numbers = [int(folio) for folio, _ in self.pages if folio.isdigit()]
            ncx.find(".//n:meta[@name='dtb:totalPageCount']", ns).set(
                "content", str(len(self.pages)))
            ncx.find(".//n:meta[@name='dtb:maxPageNumber']", ns).set(
                "content", str(max(numbers, default=0)))
            page_list = etree.SubElement(ncx, f"{{{ns['n']}}}pageList")
            _ncx_label(page_list, ns["n"], "页码")
            for number, (folio, href) in enumerate(self.pages, 1):
                numbered = {"type": "normal", "value": folio} if folio.isdigit() else {
                    "type": "special"}
                target = etree.SubElement(page_list, f"{{{ns['n']}}}pageTarget",
                                          {"id": f"page-target-{number}", **numbered})
                _ncx_label(target, ns["n"], folio)
                etree.SubElement(target, f"{{{ns['n']}}}content", src=href)
        _set_play_order(ncx, ns["n"], self._reading_order())
        return etree.tostring(ncx, pretty_print=True, encoding="utf-8", xml_declaration=True)

    def _reading_order(self) -> dict[str, tuple[int, int]]:
        """Where each spine document, and each element with an id in it, comes in reading
        order, by the href that points there."""
        order = {}
        for number, item in enumerate(self.book.spine):
            order[item.file_name] = (number, -1)
            for place, element in enumerate(parsed(item.content).xpath("//*[@id]")):
                order[f"{item.file_name}#{element.get('id')}"] = (number, place)
        return order


def _set_play_order(ncx, ns: str, reading_order: dict[str, tuple[int, int]]) -> None:
    """The NCX requires a playOrder on each navPoint and pageTarget (Z39.86-2005), which
    readers that go by the NCX follow: its target's rank in reading order, the same for all
    that point to one place (a column and its first item)."""
    points = list(ncx.iter(f"{{{ns}}}navPoint", f"{{{ns}}}pageTarget"))
    targets = {point.find(f"{{{ns}}}content").get("src") for point in points}
    rank = {src: n for n, src in enumerate(sorted(targets, key=reading_order.__getitem__), 1)}
    for point in points:
        point.set("playOrder", str(rank[point.find(f"{{{ns}}}content").get("src")]))


def _ncx_label(parent, ns: str, text: str) -> None:
    label = etree.SubElement(parent, f"{{{ns}}}navLabel")
    etree.SubElement(label, f"{{{ns}}}text").text = text


def publisher_name(issue: Issue) -> str | None:
    """Who publishes the issue: its 出版单位; an internal publication has none, and its 编印单位
    answers for it."""
    return issue.imprint.publisher or issue.imprint.compiler


def metadata(book: epub.EpubBook, issue: Issue, keywords: tuple[str, ...], *,
             paged: bool) -> None:
    """The package's metadata; `paged` when the book marks the printed pages."""
    book.set_identifier(f"urn:uuid:{issue.uuid}")
    book.title = f"{issue.magazine} {issue.label}"
    book.add_metadata("DC", "title", book.title, {"id": "title"})
    # A shelf sorted by title puts 2016·10 before 2016·2: it sorts by year and month instead.
    book.add_metadata(None, "meta", f"{issue.magazine} {issue.year:04d}-{issue.month:02d}",
                      {"refines": "#title", "property": "file-as"})
    book.set_language(issue.language)
    book.add_author(issue.magazine)
    book.add_metadata("DC", "date", f"{issue.year:04d}-{issue.month:02d}")
    for name, value in (("publisher", publisher_name(issue)), ("rights", issue.rights),
                        ("description", issue.description)):
        if value:
            book.add_metadata("DC", name, value)
    # The print edition: the source of the page breaks, by its numbers where it has them.
    print_edition = [f"urn:issn:{issue.imprint.issn}"] if issue.imprint.issn else []
    print_edition += [issue.imprint.cn] if issue.imprint.cn else []
    print_edition = print_edition or [f"《{issue.magazine}》{issue.label} 印刷版"]
    for source in print_edition:
        book.add_metadata("DC", "source", source)
    for word in keywords:
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
    if paged:
        meta += [("schema:accessibilityFeature", "pageNavigation"),
                 ("schema:accessibilityFeature", "printPageNumbers"),
                 ("pageBreakSource", print_edition[0])]
    for prop, value in meta:
        book.add_metadata(None, "meta", value, {"property": prop})


def normalise_zip(path: Path, date_time: tuple[int, ...]) -> None:
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
