"""Stage 1: the extracted text as lines (hard wraps, doubled title characters, vertical titles
joined) and tokens (running heads, folios, bylines, notes recognised)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from publisher.cjk import is_han
from publisher.errors import ImportTextError, unprintable
from publisher.source.model import END_NOTE_KINDS


@dataclass(frozen=True)
class TextLine:
    """One non-blank line of the text; `page_start` when the extractor began a page with it."""

    no: int
    text: str
    page_start: bool
    vertical: bool = False


# pdftotext's form feed before each page, a tab and a Windows line's CR are the text's layout,
# not characters of its sources.
LAYOUT_CONTROLS = str.maketrans("\f\t\r", "   ")

# pdftotext begins a page's first line with a space; a full-width space (　　) is a paragraph's
# indent, as Chinese text is typed, and a line of that is no page of its own.
PAGE_START_SPACES = (" ", "\t")


def read_text_lines(path: Path, encoding: str = "utf-8") -> list[TextLine]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportTextError(f"cannot read the text: {exc.strerror}", path) from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        other = "save the text as UTF-8, or give --encoding gb18030 for a text saved in GBK" \
            if encoding == "utf-8" else "give the encoding it was saved in"
        raise ImportTextError(f"not {encoding.upper()}: byte 0x{raw[exc.start]:02x} cannot "
                              f"be read; {other}", path, line) from None
    # Only \n ends a line, as editors count them; pdftotext's form feed before a page is no indent.
    raw_lines = text.removeprefix("\ufeff").split("\n")
    for no, raw_line in enumerate(raw_lines, start=1):
        # Named here, at the text's line: the sources it would reach are never written.
        if found := unprintable(raw_line.translate(LAYOUT_CONTROLS)):
            raise ImportTextError(found[1], path, no, raw_line.index(found[0]) + 1)
    lines = [TextLine(no, raw_line.strip(), raw_line.lstrip("\f")[:1] in PAGE_START_SPACES)
             for no, raw_line in enumerate(raw_lines, start=1) if raw_line.strip()]
    if not lines:
        raise ImportTextError("the text is empty", path, 1)
    return _join_vertical(lines)


# A title set vertically comes out one character a line; shorter runs are body text.
VERTICAL_MIN_CHARS = 3
# Longer lines are body text, never a doubled title or byline.
DOUBLED_MAX_CHARS = 120


def _join_vertical(lines: list[TextLine]) -> list[TextLine]:
    """A title set vertically comes out one character a line: three or more such lines join."""
    out: list[TextLine] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and len(lines[j].text) == 1 and is_han(lines[j].text):
            j += 1
        if j - i >= VERTICAL_MIN_CHARS:
            run = lines[i:j]
            out.append(TextLine(run[0].no, "".join(x.text for x in run), run[0].page_start, True))
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


def undouble(text: str) -> str | None:
    """`践行践行““三严三三严三实实””` → `践行“三严三实”`; None unless every run is printed twice.

    Bold titles and bylines were extracted with each run of characters twice (AABB or ABAB).
    A line is undoubled only when it splits wholly into such pairs (spaces pass through), so a
    genuine repeat inside body text (红红脸) is never touched.
    """
    n = len(text)
    if n < 2 or n > DOUBLED_MAX_CHARS or not any(is_han(c) for c in text):
        return None
    # best[i]: fewest pieces covering text[i:], each a doubled run or a single space.
    best: list[tuple[int, str] | None] = [None] * (n + 1)
    best[n] = (0, "")
    for i in range(n - 1, -1, -1):
        options = []
        if text[i] == " " and best[i + 1]:
            options.append((best[i + 1][0] + 1, " " + best[i + 1][1]))
        for k in range(1, (n - i) // 2 + 1):
            if text[i:i + k] == text[i + k:i + 2 * k] and best[i + 2 * k]:
                options.append((best[i + 2 * k][0] + 1, text[i:i + k] + best[i + 2 * k][1]))
        best[i] = min(options, key=lambda o: o[0]) if options else None
    if not best[0] or not best[0][1].strip():
        return None
    return best[0][1]


HEAD = re.compile(r"^【([^【】]{2,12})】$")
FOLIO = re.compile(r"^(\d{4})\s*[·.]\s*(\d{1,2})$|^\d{1,3}$")
# The run of non-spaces around 出管字 (宁新出管字【2015】第0219号). It is tried only where a run
# starts: from every character of a long line without spaces, `\S*` backtracked over the rest
# of the line, in time quadratic in its length.
PERMIT = re.compile(r"(?<!\S)\S*出管字\S*")
EDITOR_NOTE = re.compile(r"^【编者按】\s*")
BYLINE = re.compile(r"^(●●?)\s*(.*)$")
DATELINE = re.compile(r"^[（(](\d{4}年\d{1,2}月\d{1,2}日)[）)]$")
DASH = re.compile(r"^——\s*(.+)$")
_NOTE_KINDS = "|".join(sorted(END_NOTE_KINDS, key=len, reverse=True))
END_NOTE = re.compile(rf"^[（(]({_NOTE_KINDS})[：:]?\s*(.+?)[）)]$")
EXCERPT_LABEL = re.compile(r"^微\s*书\s*摘$")


@dataclass
class Token:
    """A classified line: `text`, `head`, `folio`, `permit`, `byline`, `dateline`, `dash`,
    `end_note`, `label` (微书摘) or `editor_note` (the first line of a 【编者按】 paragraph)."""

    kind: str
    line: TextLine
    text: str
    group: tuple[str, ...] = ()


def tokenize(lines: list[TextLine]) -> list[Token]:
    tokens = []
    for line in lines:
        text = line.text
        marker = BYLINE.match(text)
        if marker:
            rest = undouble(marker[2])
            name = (rest or marker[2]).strip()
            tokens.append(Token("byline", line, f"{marker[1]} {name}", (marker[1], name)))
            continue
        text = undouble(text) or text
        for kind, pattern in (("head", HEAD), ("folio", FOLIO), ("dateline", DATELINE),
                              ("dash", DASH), ("end_note", END_NOTE), ("label", EXCERPT_LABEL)):
            match = pattern.match(text)
            if match and not (kind == "head" and match[1] == "编者按"):
                tokens.append(Token(kind, line, text, match.groups()))
                break
        else:
            if EDITOR_NOTE.match(text):
                tokens.append(Token("editor_note", line, EDITOR_NOTE.sub("", text)))
            elif PERMIT.search(text):
                tokens.append(Token("permit", line, text))
            else:
                tokens.append(Token("text", line, text))
    return tokens
