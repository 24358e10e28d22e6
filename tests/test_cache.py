"""The build cache: the same bytes cold and cached, no loading when nothing changed, damaged
entries rebuilt, two builds at once, keywords and font coverage paid for once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from publisher import cache
from publisher.build import build
from publisher.errors import MAX_PICTURE_BYTES
from tests.conftest import ROOTS, SAMPLE


def _cached_build(tmp_path: Path, **options) -> Path:
    """Build the sample again in another process, which finds the session's cache warm."""
    flags = [f"--{name}" for name, on in options.items() if on]
    subprocess.run([sys.executable, "-m", "publisher.cli", "-q", "build", str(SAMPLE), "-o",
                    str(tmp_path), *flags], check=True)
    return tmp_path


@pytest.mark.parametrize("fixture, options, name", [
    ("sample_pdf", {"pdf": True}, "2015-10.pdf"),
    ("sample_press_pdf", {"pdf": True, "press": True}, "2015-10-press.pdf"),
    ("sample_epub", {"epub": True}, "2015-10.epub"),
])
def test_a_build_from_the_cache_gives_the_same_bytes_as_a_cold_one(fixture, options, name,
                                                                    request, tmp_path):
    cold = Path(request.getfixturevalue(fixture))
    assert (_cached_build(tmp_path, **options) / name).read_bytes() == cold.read_bytes()


def test_nothing_changed_imports_no_layout_engine(sample_pdf, tmp_path):
    """A build that copies its output from the cache imports neither WeasyPrint, pypdf,
    pydantic nor jieba, each a tenth of a second or more."""
    code = ("import sys; from publisher.cli import main; "
            "main(['-q', 'build', sys.argv[1], '--pdf', '-o', sys.argv[2]]); "
            "print(sorted({'weasyprint', 'pypdf', 'pydantic', 'jieba'} & sys.modules.keys()))")
    done = subprocess.run([sys.executable, "-c", code, str(SAMPLE), str(tmp_path)],
                          check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "[]"
    assert (tmp_path / "2015-10.pdf").read_bytes() == Path(sample_pdf).read_bytes()


def _entries(kind: str) -> list[Path]:
    return sorted(p for p in (cache.folder() / cache.fingerprint() / kind).rglob("*")
                  if p.is_file())


def test_nothing_changed_copies_the_outputs_and_repeats_the_warnings(tmp_path, monkeypatch,
                                                                    caplog):
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "pdf-covers", issue)
    first = build(issue, tmp_path / "first", press=True, epub=False)
    warned = [m for m in caplog.messages if "blank page" in m]
    assert warned  # pdf-covers in press needs two pages added

    import publisher.source.load

    def no_loading(root):
        raise AssertionError("a build with nothing changed loaded the issue")

    monkeypatch.setattr(publisher.source.load, "load_issue", no_loading)
    caplog.clear()
    again = build(issue, tmp_path / "again", press=True, epub=False)
    assert again[0].read_bytes() == first[0].read_bytes()
    assert [m for m in caplog.messages if "blank page" in m] == warned

    # A changed source is built again, not copied.
    article = next((issue / "articles").glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8") + "\n新加的一句。\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="loaded the issue"):
        build(issue, tmp_path / "changed", press=True, epub=False)


def test_a_damaged_entry_is_rebuilt_not_trusted(tmp_path):
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "epub-elements", issue)
    before = set(_entries("outputs"))
    (first,) = build(issue, tmp_path / "first", pdf=False)
    (entry,) = set(_entries("outputs")) - before
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit in the middle of the EPUB
    entry.write_bytes(bytes(data))

    (again,) = build(issue, tmp_path / "again", pdf=False)
    assert again.read_bytes() == first.read_bytes()
    assert cache.get("outputs", entry.name) is not None  # rewritten whole
    entry.write_bytes(entry.read_bytes()[:100])  # cut short, as by a full disk
    assert cache.get("outputs", entry.name) is None
    assert not entry.exists()


def test_two_builds_at_once_both_succeed_with_the_same_bytes(tmp_path):
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    env = {**os.environ, "PUBLISHER_CACHE": str(tmp_path / "cache")}
    builds = [subprocess.Popen([sys.executable, "-m", "publisher.cli", "-q", "build", str(issue),
                                "-o", str(tmp_path / f"out{n}"), "--epub"], env=env,
                               stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    for process in builds:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    first, second = (next((tmp_path / f"out{n}").glob("*.epub")) for n in (1, 2))
    assert first.read_bytes() == second.read_bytes()
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_another_version_of_the_tool_reads_none_of_the_entries(monkeypatch):
    import publisher

    ours = cache.fingerprint()
    cache.fingerprint.cache_clear()
    monkeypatch.setattr(publisher, "__version__", publisher.__version__ + ".post1")
    try:
        assert cache.fingerprint() != ours
    finally:
        cache.fingerprint.cache_clear()


def test_keywords_are_computed_once_per_text(sample_issue, monkeypatch):
    from publisher import keywords

    article = next(a for a in sample_issue.articles if a.keywords is None and a.body)
    found = keywords.article_keywords(article)
    assert found

    def no_jieba(*_):
        raise AssertionError("jieba was asked again for the same text")

    monkeypatch.setattr(keywords.words, "ask", no_jieba)
    assert keywords.article_keywords(article) == found
    changed = article.model_copy(update={"body": article.body + "\n\n另一段不同的文字。"})
    with pytest.raises(AssertionError, match="asked again"):
        keywords.article_keywords(changed)


def test_font_coverage_is_read_once_per_font_file(monkeypatch):
    from publisher import fonts, harfbuzz

    face = next(file for files in fonts.family_files(fonts.load_roles()).values()
                for file in files)
    read = fonts.coverage(face)
    assert ord("的") in read

    def no_reading(*args, **kwargs):
        raise AssertionError("the font file was read again")

    monkeypatch.setattr(harfbuzz.HarfBuzz, "unicodes", no_reading)
    fonts.coverage.cache_clear()
    assert fonts.coverage(face) == read


def test_a_font_file_harfbuzz_cannot_read_is_an_error_not_an_empty_coverage(tmp_path):
    from publisher import fonts, harfbuzz
    from publisher.errors import BuildError

    not_a_font = tmp_path / "broken.ttf"
    not_a_font.write_bytes(b"\0\1\0\0 not a font")
    for path in (tmp_path / "missing.ttf", not_a_font):
        with pytest.raises(OSError):
            harfbuzz.bound().unicodes(str(path), 0)
    with pytest.raises(BuildError, match="cannot read the font file"):
        fonts.coverage(not_a_font)


def test_font_coverage_is_the_best_cmap_fonttools_reads():
    """HarfBuzz reads the cmap for the glyph check: it must find what fontTools finds, in
    every face the roles use."""
    from fontTools.ttLib import TTFont

    from publisher import fonts, harfbuzz

    faces = {file for files in fonts.family_files(fonts.load_roles()).values()
             for file in files}
    assert len(faces) >= 3
    for face in faces:
        path, _, index = str(face).partition("#")
        with TTFont(path, fontNumber=int(index or 0), lazy=True) as font:
            assert harfbuzz.bound().unicodes(path, int(index or 0)) == set(font.getBestCmap())


def test_a_cover_image_is_encoded_once(sample_issue, monkeypatch):
    from PIL import Image

    from publisher import fonts
    from publisher.epub.cover import cover_png

    roles = fonts.load_roles(sample_issue.root)
    first = cover_png(sample_issue, roles)
    assert first.startswith(b"\x89PNG")

    def no_encoding(*args, **kwargs):
        raise AssertionError("the cover was encoded again")

    monkeypatch.setattr(Image.Image, "save", no_encoding)
    assert cover_png(sample_issue, roles) == first
    with pytest.raises(AssertionError, match="encoded again"):
        cover_png(sample_issue.model_copy(update={"label": "2099·99"}), roles)


def test_a_template_is_compiled_once_per_source(tmp_path, monkeypatch):
    import jinja2

    from publisher import templates

    layouts = tmp_path / "layouts"
    layouts.mkdir()
    page = layouts / "page.html.j2"
    page.write_text("<p>{{ title }}</p>\n", encoding="utf-8")
    assert templates.environment((layouts,)).get_template("page.html.j2").render(
        title="目录") == "<p>目录</p>\n"

    def no_compiling(*args, **kwargs):
        raise AssertionError("the template was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert templates.environment((layouts,)).get_template("page.html.j2").render(
        title="封面") == "<p>封面</p>\n"
    page.write_text("<h1>{{ title }}</h1>\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="compiled again"):
        templates.environment((layouts,)).get_template("page.html.j2")


def test_jiebas_idf_table_is_parsed_once(monkeypatch):
    from publisher import words

    words._idf.cache_clear()
    parsed = words._idf()
    # a common word weighs less than the median, which an unknown word gets
    assert 0 < parsed[0]["的"] < parsed[1]

    def no_parsing(*args, **kwargs):
        raise AssertionError("idf.txt was parsed again")

    monkeypatch.setattr(Path, "read_text", no_parsing)
    words._idf.cache_clear()
    assert words._idf() == parsed


def test_an_issue_built_into_its_own_folder_sees_its_edits(tmp_path):
    """`-o` the issue itself: the digest left out the whole folder as output, and the second
    build copied the first from the cache."""
    root = Path(shutil.copytree(ROOTS / "good-minimal", tmp_path / "issue"))
    (epub,) = build(root, root, pdf=False)
    article = root / "articles" / "10-good.md"
    article.write_text(article.read_text(encoding="utf-8") + "\n改过的一句。\n", encoding="utf-8")
    build(root, root, pdf=False)
    with zipfile.ZipFile(epub) as book:
        assert any("改过的一句" in book.read(name).decode() for name in book.namelist()
                   if name.endswith(".xhtml"))


def test_an_edit_saved_while_a_build_reads_is_not_cached_as_the_sources_before_it(
        tmp_path, monkeypatch):
    """The outputs hold the edit; kept under the digest taken before it, they came back for
    those sources (the edit undone) with the edit in them."""
    from publisher.source import load

    root = Path(shutil.copytree(ROOTS / "good-minimal", tmp_path / "issue"))
    article = root / "articles" / "10-good.md"
    before = article.read_text(encoding="utf-8")
    load_issue = load.load_issue

    def edited_while_loading(path):
        article.write_text(before.replace("正文第一段。", "编辑刚保存的一句。"), encoding="utf-8")
        return load_issue(path)

    monkeypatch.setattr(load, "load_issue", edited_while_loading)
    (epub,) = build(root, tmp_path / "out", pdf=False)
    monkeypatch.setattr(load, "load_issue", load_issue)

    def text() -> str:
        with zipfile.ZipFile(epub) as book:
            return "".join(book.read(name).decode() for name in book.namelist()
                           if name.endswith(".xhtml"))

    assert "编辑刚保存的一句" in text()
    article.write_text(before, encoding="utf-8")
    build(root, tmp_path / "out", pdf=False)
    assert "正文第一段" in text() and "编辑刚保存的一句" not in text()


def test_a_layout_saved_while_a_section_is_laid_out_is_not_cached_as_the_one_before(
        tmp_path, monkeypatch):
    """A section's layout is keyed by the layout files as they were before it was laid out:
    kept, it came back with the edit once the edit was undone."""
    from publisher.pdf import sections

    monkeypatch.setenv("PUBLISHER_WORKERS", "1")  # laid out here, where the patch below is
    root = Path(shutil.copytree(ROOTS / "good-minimal", tmp_path / "issue"))
    stylesheet = root / "layouts" / "cjk.css"
    stylesheet.parent.mkdir()
    before = (Path(sections.__file__).parents[2] / "layouts" / "cjk.css").read_text(
        encoding="utf-8")
    stylesheet.write_text(before, encoding="utf-8")
    laid_out = sections._laid_out

    def edited_while_laid_out(*args, **kwargs):
        stylesheet.write_text(before + "\nbody { color: rgb(200, 0, 0) !important; }\n",
                              encoding="utf-8")
        return laid_out(*args, **kwargs)

    monkeypatch.setattr(sections, "_laid_out", edited_while_laid_out)
    (edited,) = build(root, tmp_path / "edited", pdf=True, epub=False)
    monkeypatch.setattr(sections, "_laid_out", laid_out)
    stylesheet.write_text(before, encoding="utf-8")
    (undone,) = build(root, tmp_path / "undone", pdf=True, epub=False)
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "cold-cache"))
    (cold,) = build(root, tmp_path / "cold", pdf=True, epub=False)
    assert undone.read_bytes() == cold.read_bytes() != edited.read_bytes()


def test_the_digest_reads_no_link_out_pipe_or_huge_file(tmp_path):
    """What the loader refuses is not read before it says so: a link's target outside, a FIFO
    (reading would block) or a file larger than any source (reading would fill the memory)."""
    from publisher.build import inputs_digest
    from publisher.cache import folder_entries

    root, secret = Path(shutil.copytree(ROOTS / "good-minimal", tmp_path / "issue")), \
        tmp_path / "secret.txt"
    secret.write_text("the build machine's secret", encoding="utf-8")
    (root / "notes.txt").symlink_to(secret)
    os.mkfifo(root / "pipe.png")
    with open(root / "huge.bin", "wb") as huge:
        huge.truncate(MAX_PICTURE_BYTES + 1)  # sparse: nothing written
    (root / ".hidden").write_text("an editor's own", encoding="utf-8")
    entries = dict(folder_entries(root))
    huge = os.stat(root / "huge.bin")
    assert entries[Path("huge.bin")] == (
        f"{huge.st_size} bytes, modified {huge.st_mtime_ns}".encode())
    assert entries[Path("notes.txt")] == f"link to {secret}".encode()
    assert Path("pipe.png") not in entries and Path(".hidden") not in entries
    assert inputs_digest(root, tmp_path / "out") is not None  # the FIFO did not block it


@pytest.mark.parametrize("digest", ["build", "catalogue"])
def test_neither_digest_reads_through_a_layouts_folder_linked_out(tmp_path, digest):
    """The catalogue's fingerprint read the files of a `layouts/` linked elsewhere, which the
    build's digest took by its link: one walk serves both now."""
    from publisher.build import inputs_digest
    from publisher.catalog.library import fingerprint

    root = Path(shutil.copytree(ROOTS / "good-minimal", tmp_path / "issue"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "layouts").symlink_to(elsewhere)

    def of_issue():
        return inputs_digest(root, tmp_path / "out") if digest == "build" else fingerprint(root)

    before = of_issue()
    (elsewhere / "print.css").write_text("p { color: red }", encoding="utf-8")
    assert of_issue() == before


def test_a_file_is_hashed_again_only_once_it_changed(tmp_path, monkeypatch):
    """A warm process (`watch`) reads a source again only when the file system says it
    changed: a rewrite of the same size under the old time is seen by its change time; a
    file changed a moment ago is read each time, as its clock may tick too coarsely to tell
    the next change."""
    import hashlib
    import time

    read: list[object] = []
    digest = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda *args: (read.append(1), digest(*args))[1])
    path = tmp_path / "10-a.md"
    path.write_text("正文一。", encoding="utf-8")
    first = cache.file_digest(path)
    assert cache.file_digest(path) == first and len(read) == 2  # just written: read again

    time.sleep(cache._SETTLED_NS / 1e9 + 0.2)
    read.clear()
    assert cache.file_digest(path) == first and cache.file_digest(path) == first
    assert len(read) == 1
    times = path.stat()
    path.write_text("正文二。", encoding="utf-8")  # the same size, its old time set back
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert cache.file_digest(path) != first


def test_a_table_of_recent_things_drops_the_one_kept_longest_ago():
    from publisher import recent

    table: dict = {}
    for key in "abc":
        recent.keep(table, key, key.upper(), 3)
    assert recent.keep(table, "a", "A again", 3) == "A again"  # kept again: the latest now
    recent.keep(table, "d", "D", 3)
    assert list(table.items()) == [("c", "C"), ("a", "A again"), ("d", "D")]
