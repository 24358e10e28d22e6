"""Orchestration: load → render → write. Nothing is written when loading fails."""

from __future__ import annotations

import logging
from pathlib import Path

from .load import load_issue
from .output import output_stem

logger = logging.getLogger(__name__)


def build(
    root: Path,
    out_dir: Path | None = None,
    *,
    pdf: bool = True,
    epub: bool = True,
    press: bool = False,
    embed_fonts: bool = False,
) -> list[Path]:
    """Build the requested outputs of the issue at `root`; return the files written."""
    issue = load_issue(root)
    out_dir = out_dir or Path("build") / root.resolve().name
    stem = output_stem(issue)
    written: list[Path] = []
    if pdf:
        from .pdf import write_pdf

        target = out_dir / (f"{stem}-press.pdf" if press else f"{stem}.pdf")
        write_pdf(issue, target, press=press)
        written.append(target)
    if epub:
        from .epub import write_epub

        target = out_dir / f"{stem}.epub"
        write_epub(issue, target, embed_fonts=embed_fonts)
        written.append(target)
    for path in written:
        logger.info("wrote %s", path)
    return written
