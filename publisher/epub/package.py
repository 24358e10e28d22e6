"""The package around the documents: metadata, ebooklib's writer with its two private hooks
(version-guarded), and the zip rewritten with fixed dates."""

from __future__ import annotations

import zipfile
from pathlib import Path

import ebooklib
from ebooklib import epub
from lxml import etree

from publisher.errors import BuildError
from publisher.source.model import Issue

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
# The ebooklib whose private `EpubWriter._get_ncx` and `EpubHtml.get_content` are overridden.
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
    """ebooklib's writer; the NCX states its language and the depth of its navMap (ebooklib
    writes neither)."""

    def __init__(self, *args, **kwargs):
        require_pinned_ebooklib()
        super().__init__(*args, **kwargs)

    def _get_ncx(self) -> bytes:
        ncx = etree.fromstring(super()._get_ncx())
        ns = {"n": ncx.nsmap[None]}
        depth = max(sum(1 for _ in p.iterancestors(f"{{{ns['n']}}}navPoint")) + 1
                    for p in ncx.iterfind(".//n:navPoint", ns))
        ncx.find(".//n:meta[@name='dtb:depth']", ns).set("content", str(depth))
        ncx.set("{http://www.w3.org/XML/1998/namespace}lang", self.book.language)
        return etree.tostring(ncx, pretty_print=True, encoding="utf-8", xml_declaration=True)


def metadata(book: epub.EpubBook, issue: Issue, keywords: tuple[str, ...]) -> None:
    book.set_identifier(f"urn:uuid:{issue.uuid}")
    book.set_title(f"{issue.magazine} {issue.label}")
    book.set_language(issue.language)
    book.add_author(issue.magazine)
    book.add_metadata("DC", "date", f"{issue.year:04d}-{issue.month:02d}")
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
