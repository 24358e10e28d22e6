"""Orchestration: load → render → write. Nothing is written when loading fails, and a build
of several outputs replaces them all or none.

Each output is kept in the build cache (publisher/cache.py) under a digest of everything it is
made from, so a build with nothing changed copies it (and repeats its warnings) without loading
the issue at all."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from publisher import cache
from publisher.errors import PublisherError
from publisher.output import atomic_output

logger = logging.getLogger(__name__)
OUTPUT_SUFFIXES = {".pdf", ".epub"}  # what a build writes, and never reads


@dataclass(frozen=True)
class Output:
    """One requested output: its kind and options, which key its cache entry."""

    kind: str  # "pdf" or "epub"
    press: bool = False
    embed_fonts: bool = False
    strict: bool = False

    def file_name(self, stem: str) -> str:
        return f"{stem}-press.pdf" if self.press else f"{stem}.{self.kind}"


def build(
    root: Path,
    out_dir: Path | None = None,
    *,
    pdf: bool = True,
    epub: bool = True,
    press: bool = False,
    embed_fonts: bool = False,
    strict: bool = False,
    each_when_made: bool = False,
) -> list[Path]:
    """Build the requested outputs of the issue at `root`; return the files written. They are
    put in place together, once all are made, unless `each_when_made` (`watch`: the PDF as soon
    as it is made, before the EPUB)."""
    out_dir = output_folder(root, out_dir)
    outputs = [o for o, wanted in ((Output("pdf", press=press, strict=strict), pdf),
                                   (Output("epub", embed_fonts=embed_fonts), epub)) if wanted]
    sources = inputs_digest(root, out_dir)
    keys = {o: sources and cache.key(sources, o.kind, str(o.press), str(o.embed_fonts),
                                      str(o.strict))
            for o in outputs}
    stored = {o: _stored(keys[o]) for o in outputs}
    texts = None  # the texts' entry, where this build asks jieba about them
    entries: list[tuple[str, bytes]] = []  # the outputs made, by cache entry
    shared = _Shared()
    if all(stored.values()):
        stem = stored[outputs[0]][0]["stem"]
        writers = [(o, _from_cache(stored[o])) for o in outputs]
    else:
        from publisher import words

        texts = _texts_key(root)
        if texts is None or cache.get("texts-seen", texts) is None:
            words.start()
        if pdf and not stored[outputs[0]]:
            _start_workers_early(root, out_dir, press=press)
        from publisher.context import resolve
        from publisher.output import output_stem
        from publisher.source.load import load_issue

        issue = load_issue(root)
        context = resolve(issue)
        _ask_jieba_first(context, pdf=pdf, epub=epub)
        stem = output_stem(issue)
        writers = [(o, _from_cache(stored[o]) if stored[o] else
                    _remembered(_writer(o, context, shared), keys[o], stem, entries))
                   for o in outputs]
    targets = [out_dir / o.file_name(stem) for o, _ in writers]
    # Each output is made beside its target and renamed only once every one has succeeded,
    # so a PDF and an EPUB on disk always come from the same sources.
    with ExitStack() as staged:
        if each_when_made:
            for target, (_, write) in zip(targets, writers, strict=True):
                with atomic_output(target) as made:
                    write(made)
        else:
            paths = [staged.enter_context(atomic_output(target)) for target in targets]
            if len(outputs) == 2 and not (press or embed_fonts or any(stored.values())):
                # The EPUB needs of the print PDF only where its pages begin: it is made while
                # a worker of the PDF's lays out the furniture, which waits for every section,
                # and this process would only wait with it. Not with its fonts
                # embedded: fontTools' subsetting would add its memory to the workers'.
                shared.alongside = lambda: writers[1][1](paths[1])
                writers[0][1](paths[0])
            else:
                for path, (_, write) in zip(paths, writers, strict=True):
                    write(path)
    # Kept only if no source changed while they were made (an edit saved during the build):
    # they hold what was read, which the digest taken before would misname.
    if entries and inputs_digest(root, out_dir) == sources:
        for key, entry in entries:
            cache.put("outputs", key, entry)
    for target in targets:
        logger.info("wrote %s", target)
    if texts is not None:
        cache.put("texts-seen", texts, b"")
    return targets


def _start_workers_early(root: Path, out_dir: Path, *, press: bool) -> None:
    """Where no section can come from the cache (it is empty, or the layouts, fonts or pictures
    changed), start the workers' server first: its import of WeasyPrint (a second or more) then
    overlaps this process's imports, its reading of the issue and jieba's work, which the
    workers wait for. After an edit to a text, the one section it changes is laid out in this
    process (`publisher.pdf.sections.run`), and nothing is started early."""
    from publisher import processes

    if processes.workers() > 1 and not sections_cached(root, out_dir, press=press):
        processes.start_layout_server()


def output_folder(root: Path, out_dir: Path | None) -> Path:
    """Where a build of `root` writes: `out_dir`, else build/<issue folder name>."""
    return out_dir or Path("build") / root.resolve().name


def sections_cached(root: Path, out_dir: Path, *, press: bool) -> bool:
    """Whether a build lays out only the sections whose text changed: the cache holds the
    sections as laid out with the issue's layouts, fonts and pictures as they are, or the
    sources are too broken to say (the build stops, saying why, before any layout)."""
    digest = inputs_digest(root, out_dir, texts=False)
    return digest is None or cache.get("layouts-seen", layouts_seen_key(digest, press)) is not None


def _texts_key(root: Path) -> str | None:
    """The cache entry that says a build has asked jieba all it asks of these texts (issue.yaml
    and the articles' Markdown): a build of texts seen before, after a change to the layouts
    alone, starts no jieba process early. None when they cannot be read: the build reports
    why."""
    try:
        return cache.key(*(part for path in _text_files(root.resolve())
                           for part in (str(path), path.read_bytes())))
    except OSError:
        return None


def layouts_seen_key(layouts_digest: str, press: bool) -> str:
    """The cache entry that says sections were laid out with the layouts, fonts and pictures
    of `layouts_digest` (`inputs_digest` without texts; `publisher.pdf.sections.lay_out_issue`
    writes it)."""
    return cache.key(layouts_digest, str(press))


def _ask_jieba_first(context, *, pdf: bool, epub: bool) -> None:
    """All that jieba has to say of the issue, asked for before the sections are laid out: first
    the word boundaries of the headlines the sections' HTML cuts, which this process waits for;
    then those of the EPUB's navigation and the keywords, which only composing and the EPUB
    need: jieba's process finds them while a first worker lays out (`publisher.pdf.sections`),
    and this process goes on meanwhile."""
    from publisher.epub.nav import word_broken_texts
    from publisher.keywords import ask_for_boundaries, ask_for_keywords, forget_questions
    from publisher.pdf.html import headline_lines

    forget_questions()
    for article in context.issue.articles if pdf else ():
        headline_lines(article.title)  # whichever titles the layouts cut
    for text in sorted(word_broken_texts(context.issue)) if epub else ():
        ask_for_boundaries(text)
    for article in context.issue.articles:
        ask_for_keywords(article)


@dataclass
class _Shared:
    """What one build's outputs hand each other: where the print PDF's pages begin, for the
    EPUB's page list, and what is done as soon as that is known (`alongside`)."""

    page_map: list | None = None
    alongside: Callable[[], None] | None = None

    def pages_known(self, page_map: list) -> None:
        self.page_map = page_map
        alongside, self.alongside = self.alongside, None
        if alongside is not None:
            alongside()


def _writer(output: Output, context, shared: _Shared) -> Callable[[Path], None]:
    """The writer of `output`. The EPUB takes where the printed pages begin from a PDF built in
    the same call (not a press one, which pads its pages differently), else lays out its own:
    the same bytes either way, so a PDF from the cache costs the EPUB only time."""
    if output.kind == "pdf":
        from publisher.pdf import write_pdf

        return lambda path: write_pdf(context, path, press=output.press, strict=output.strict,
                                      meanwhile=None if output.press else shared.pages_known)
    from publisher.epub import write_epub

    return lambda path: write_epub(context, path, embed_fonts=output.embed_fonts,
                                   page_map=shared.page_map)


def _stored(key: str | None) -> tuple[dict, bytes] | None:
    """A cached output: (what it was: stem and warnings, its bytes)."""
    data = cache.get("outputs", key) if key else None
    if data is None:
        return None
    head, _, body = data.partition(b"\n")
    try:
        meta = json.loads(head)
    except ValueError:
        return None
    if not isinstance(meta, dict) or not {"stem", "warnings"} <= meta.keys():
        return None
    return meta, body


def _from_cache(stored: tuple[dict, bytes]) -> Callable[[Path], None]:
    meta, body = stored

    def write(path: Path) -> None:
        for name, level, message in meta["warnings"]:
            logging.getLogger(name).log(level, "%s", message)
        path.write_bytes(body)

    return write


def _remembered(write: Callable[[Path], None], key: str | None, stem: str,
                entries: list[tuple[str, bytes]]) -> Callable[[Path], None]:
    """`write`, then add what it wrote and the warnings it gave to `entries`, under `key`."""

    def remember(path: Path) -> None:
        with collected_warnings(apart=True) as given:
            write(path)
        if key:
            meta = {"stem": stem, "warnings": given}
            entries.append((key, json.dumps(meta, ensure_ascii=False).encode() + b"\n"
                            + path.read_bytes()))

    return remember


class _Collector(logging.Handler):
    def __init__(self, given: list[tuple[str, int, str]]):
        super().__init__(logging.WARNING)
        self.given = given
        self.paused = 0

    def emit(self, record: logging.LogRecord) -> None:
        if not self.paused:
            self.given.append((record.name, record.levelno, record.getMessage()))


# The collectors open, the innermost last.
_collectors: list[_Collector] = []


@contextmanager
def collected_warnings(*, apart: bool = False):
    """Collect the warnings logged inside the block, to repeat them when the output (or the
    section) is reused: those of a section laid out here are its build's too, but those of an
    output made `apart` (the EPUB, made while the PDF is) are its alone."""
    given: list[tuple[str, int, str]] = []
    outside = list(_collectors) if apart else []
    handler = _Collector(given)
    for collector in outside:
        collector.paused += 1
    _collectors.append(handler)
    logging.getLogger().addHandler(handler)
    try:
        yield given
    finally:
        logging.getLogger().removeHandler(handler)
        _collectors.remove(handler)
        for collector in outside:
            collector.paused -= 1


def inputs_digest(root: Path, out_dir: Path, *, texts: bool = True) -> str | None:
    """A digest of everything a build of `root` reads: the issue folder (but its hidden files
    and the build's outputs; `cache.folder_entries` says what stands for a link or a large
    file), the layout folders, fonts.yaml and the font files it names or fontconfig
    finds (by path, size and time: they are large), the press profile and SOURCE_DATE_EPOCH.
    Without `texts`, not issue.yaml, the articles' Markdown or SOURCE_DATE_EPOCH: what a section
    of the print layout reads besides its HTML, which holds them. None when the sources are too
    broken to say: the build will report why."""
    from publisher import fonts
    from publisher.output import GHOSTSCRIPT_CMYK

    root, out_dir = root.resolve(), out_dir.resolve()
    text_files = set(_text_files(root))
    try:
        roles = fonts.load_roles(root)
        font_files = {str(file).partition("#")[0]
                      for files in fonts.family_files(roles).values() for file in files}
        parts = [str(root), os.environ.get("SOURCE_DATE_EPOCH", "") if texts else ""]
        for folder, relative, content in source_entries(root, lambda path: an_output(
                path, root, out_dir) or (not texts and path in text_files)):
            parts += [str(folder / relative), content]
        for path in sorted({*font_files, str(GHOSTSCRIPT_CMYK)}):
            parts += [path, _stat(Path(path))]
    except (PublisherError, OSError):
        return None
    return cache.key(*parts)


def source_entries(root: Path, left_out: Callable[[Path], bool],
                   ) -> Iterator[tuple[Path, Path, bytes]]:
    """(folder, path in it, what stands for its contents: `cache.folder_entries`) of each file
    in the folders a build of the issue at `root` (resolved) reads: the issue's, its layout
    folders and the project's fonts folder, but what `left_out` says. An issue's folder that
    links out of it stands as its link: the loader refuses it, and nothing in it is read."""
    from publisher import templates

    for folder in [root, *templates.search_path(root), templates.shipped("fonts")]:
        if folder.is_relative_to(root) and not folder.resolve().is_relative_to(root):
            yield folder, Path(), f"link to {os.readlink(folder)}".encode()
            continue
        folder = folder.resolve()
        for relative, content in cache.folder_entries(folder, left_out):
            yield folder, relative, content


def an_output(path: Path, root: Path, out_dir: Path) -> bool:
    """Whether `path` (resolved, as are the folders) is the build's, not a source: in the output
    folder, or, where that folder holds the issue (`-o` the issue itself), a PDF or EPUB."""
    return path.is_relative_to(out_dir) and (not root.is_relative_to(out_dir)
                                             or path.suffix in OUTPUT_SUFFIXES)


def texts_digest(issue) -> str:
    """A digest of the issue's articles' Markdown, by file name and content, wherever the folder
    is: a PDF records it (`pages.finish`), so that the desk's commands refuse a PDF of other
    articles (issue.yaml's fees or imprint may change under a PDF that stays right). Only the
    files the loader took as articles: an editor's lock file or a folder named .md is none."""
    return cache.key(*(part for path in sorted(article.path for article in issue.articles)
                       for part in (path.name, path.read_bytes())))


def _text_files(root: Path) -> list[Path]:
    """The issue's texts: issue.yaml and the articles' Markdown."""
    return [root / "issue.yaml", *sorted((root / "articles").glob("*.md"))]


def _stat(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    return f"{stat.st_size} {stat.st_mtime_ns}"
