"""Checks on the laid-out text: every character has a glyph in its role's fonts (rule 8), and
no 微书摘 box stands alone on a page."""

from __future__ import annotations

import logging
from pathlib import Path

from publisher import fonts
from publisher.context import BuildContext
from publisher.errors import BuildError
from publisher.source.model import Article, Kind

logger = logging.getLogger(__name__)

TextRuns = list[tuple[int, "Article | None", object]]


def check_glyphs(runs: TextRuns, context: BuildContext) -> None:
    """Stop on any character that the fonts of its role cannot set (typesetting rule 8)."""
    files = fonts.family_files(context.roles)
    # Each character is looked up once a font family list: a section's runs repeat most.
    covered: dict[tuple[str, ...], set[str]] = {}
    for _, item, box in runs:
        families = tuple(box.style["font_family"])
        known = covered.setdefault(families, set())
        new = set(box.text) - known
        if not new:
            continue
        lost = fonts.missing("".join(ch for ch in box.text if ch in new), families, files)
        if lost:
            _glyph_error(lost[0], item.path if item else context.issue.root / "issue.yaml")
        known |= new

def warn_lone_boxes(runs: TextRuns) -> None:
    """A 微书摘 box fills space at the end of an article's columns; one that found no room
    there sits on a page of its own, which the editor should fix by moving it."""
    on_page: dict[int, set[Article]] = {}
    for index, item, _ in runs:
        if item is not None:
            on_page.setdefault(index, set()).add(item)
    for index, items in sorted(on_page.items()):
        if all(item.kind == Kind.box for item in items):
            for item in sorted(items, key=lambda a: a.order):
                logger.warning("%s: this box has a page to itself (PDF page %d): move it after "
                               "an article that ends with room to spare", item.path, index + 1)


def _glyph_error(char: str, source: Path) -> None:
    name = f"U+{ord(char):04X}"
    text = source.read_text(encoding="utf-8")
    line = text[: text.index(char)].count("\n") + 1 if char in text else None
    raise BuildError(f"no font of this text's role has a glyph for ‘{char}’ ({name}); "
                     "replace the character or name a font that has it in fonts/fonts.yaml",
                     source, line)
