"""The EPUBs the tests read, each built once per session, and a reader for them."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from lxml import etree

from tests.conftest import ROOTS, SAMPLE

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
SPACE = re.compile(r"\s+")


class Book:
    """An EPUB opened for inspection: its package, spine documents and navigation."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = zipfile.ZipFile(path)
        container = self.xml("META-INF/container.xml")
        self.opf_path = container.find(".//{*}rootfile").get("full-path")
        self.base = PurePosixPath(self.opf_path).parent
        self.opf = self.xml(self.opf_path)
        self.manifest = {item.get("id"): item for item in self.opf.iterfind(".//opf:item", NS)}

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.zip.read(name))

    def name(self, href: str) -> str:
        return str(self.base / href)

    def item(self, prop: str) -> etree._Element:
        (item,) = [i for i in self.manifest.values() if prop in (i.get("properties") or "").split()]
        return item

    def meta(self, prop: str) -> list[str]:
        return [m.text for m in self.opf.iterfind(f".//opf:meta[@property='{prop}']", NS)]

    def dc(self, name: str) -> list[str]:
        return [e.text for e in self.opf.iterfind(f".//dc:{name}", NS)]

    def spine(self) -> list[str]:
        return [self.manifest[ref.get("idref")].get("href")
                for ref in self.opf.iterfind(".//opf:itemref", NS)]

    def body_text(self) -> str:
        """The text a reader shows, spine order, whitespace removed."""
        parts = []
        for href in self.spine():
            body = self.xml(self.name(href)).find("x:body", NS)
            parts.append("".join(body.itertext()))
        return SPACE.sub("", "".join(parts))


def build_epub(out: Path, root: Path = SAMPLE, **options) -> Path:
    from publisher.build import build

    (path,) = build(root, out, pdf=False, epub=True, **options)
    return path


@pytest.fixture(scope="session")
def fonts_epub(tmp_path_factory) -> Path:
    return build_epub(tmp_path_factory.mktemp("epub-fonts"), embed_fonts=True)


@pytest.fixture(scope="session")
def elements_epub(tmp_path_factory) -> Path:
    return build_epub(tmp_path_factory.mktemp("epub-elements"), ROOTS / "epub-elements")


@pytest.fixture(scope="session")
def book(sample_epub) -> Book:
    return Book(sample_epub)
