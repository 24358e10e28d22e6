"""Orchestration: load → render → write. Nothing is written when loading fails, and a build
of several outputs replaces them all or none."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path

from publisher.context import resolve
from publisher.output import atomic_output, output_stem
from publisher.source.load import load_issue

logger = logging.getLogger(__name__)


def build(
    root: Path,
    out_dir: Path | None = None,
    *,
    pdf: bool = True,
    epub: bool = True,
    press: bool = False,
    embed_fonts: bool = False,
    strict: bool = False,
) -> list[Path]:
    """Build the requested outputs of the issue at `root`; return the files written."""
    issue = load_issue(root)
    context = resolve(issue)
    out_dir = out_dir or Path("build") / root.resolve().name
    stem = output_stem(issue)
    writers = []
    # Where the printed pages begin, from the PDF's layout, for the EPUB's page list; a press
    # PDF pads its pages differently, so the EPUB lays out its own then.
    page_map = None
    if pdf:
        from publisher.pdf import write_pdf

        def write_print(path: Path) -> None:
            nonlocal page_map
            page_map = write_pdf(context, path, press=press, strict=strict)

        target = out_dir / (f"{stem}-press.pdf" if press else f"{stem}.pdf")
        writers.append((target, write_print))
    if epub:
        from publisher.epub import write_epub

        target = out_dir / f"{stem}.epub"
        writers.append((target, lambda path: write_epub(
            context, path, embed_fonts=embed_fonts,
            page_map=None if press else page_map)))
    # Each output is made beside its target and renamed only once every one has succeeded,
    # so a PDF and an EPUB on disk always come from the same sources.
    with ExitStack() as staged:
        for target, write in writers:
            write(staged.enter_context(atomic_output(target)))
    for target, _ in writers:
        logger.info("wrote %s", target)
    return [target for target, _ in writers]
