"""Legacy text → issue folder (`publisher import-text`).

Text extracted from a printed PDF carries running heads and folios, hard-wrapped lines, doubled
title characters, and title blocks found away from their text. The importer works in stages on
plain records — lines → tokens → paragraphs and title blocks → items — and writes nothing until
the whole text is analysed and the result validates. Where it has to guess, it says so in the
item's `review:` field and in the summary, so an editor knows where to look.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .cjk import is_han
from .errors import IssueErrors, PublisherError
from .load import ARTICLES, MANIFEST, load_issue
from .model import END_NOTE_KINDS


class ImportTextError(PublisherError):
    """The legacy text cannot be read, or the importer would overwrite a file."""


# ---------------------------------------------------------------- lines and tokens

@dataclass(frozen=True)
class Line:
    """One non-blank line of the text; `page_start` when the extractor began a page with it."""

    no: int
    text: str
    page_start: bool
    vertical: bool = False


def read_lines(path: Path) -> list[Line]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportTextError(f"cannot read the text: {exc.strerror}", path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ImportTextError(f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be read; "
                           "save the text as UTF-8", path, line) from None
    lines = [Line(no, raw_line.strip(), raw_line[:1].isspace())
             for no, raw_line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1)
             if raw_line.strip()]
    if not lines:
        raise ImportTextError("the text is empty", path, 1)
    return _join_vertical(lines)


def _join_vertical(lines: list[Line]) -> list[Line]:
    """A title set vertically comes out one character a line: three or more such lines join."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and len(lines[j].text) == 1 and is_han(lines[j].text):
            j += 1
        if j - i >= 3:
            run = lines[i:j]
            out.append(Line(run[0].no, "".join(x.text for x in run), run[0].page_start, True))
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
    if n < 2 or n > 120 or not any(is_han(c) for c in text):
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
PERMIT = re.compile(r"\S*出管字\S*")
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
    line: Line
    text: str
    group: tuple[str, ...] = ()


def tokenize(lines: list[Line]) -> list[Token]:
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


# ---------------------------------------------------------------- paragraphs and title blocks

def width(text: str) -> int:
    """Printed width in half-ems: Han characters and full-width punctuation count two."""
    return sum(1 if ord(c) < 0x2000 else 2 for c in text)


TERMINAL = tuple("。！？：；…”’")
KICKER_END = re.compile(r"(强调|指出|表示|时说)$")
NO_TITLE = "no title found: check whether it has one"
TITLE_BREAKERS = set("，。；：！？")
NUMERAL = "[一二三四五六七八九十]+"
HEADING_START = re.compile(rf"^({NUMERAL}、|[（(]{NUMERAL}[）)]|\d{{1,2}}\.)")


def _title_like(text: str) -> bool:
    """A line that can be part of a title: short, without sentence punctuation."""
    return (len(text) <= 40 and not TITLE_BREAKERS & set(text)
            and not HEADING_START.match(text))


@dataclass
class TitleBlock:
    """Title lines, subtitle, byline and dateline found together in the text."""

    first: int                      # line number of its first line
    title: list[str]
    subtitle: str | None
    byline: list[dict]
    dateline: str | None
    series_heading: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    in_place: bool = True


@dataclass
class Para:
    lines: list[Line]
    editor_note: bool = False
    after_page_head: bool = False   # a running head opened the page this paragraph starts

    @property
    def first(self) -> int:
        return self.lines[0].no

    @property
    def text(self) -> str:
        out = ""
        for line in self.lines:
            if out and out[-1].isascii() and out[-1].isalpha() and line.text[0].isascii() \
                    and line.text[0].isalpha():
                out += " "
            out += line.text
        return clean_spaces(out)

    @property
    def page_start(self) -> bool:
        return self.lines[0].page_start or self.after_page_head

    @property
    def complete(self) -> bool:
        return self.text.endswith(TERMINAL)


@dataclass
class Head:
    column: str
    line: Line


@dataclass
class EndNoteUnit:
    kind: str
    text: str
    line: Line


@dataclass
class Box:
    paras: list[Para]
    attribution: str | None
    line: Line


@dataclass
class Permit:
    permit: str
    caption: str
    line: Line


def clean_spaces(text: str) -> str:
    """Drop the extractor's spaces; keep one only between two Latin letters or digits."""
    text = re.sub(r"\s+", " ", text.strip())
    return re.sub(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])", "", text)


def clean_title(text: str) -> str:
    """Keep a space that separates two phrases (规范发展提质量 抓实管理夯基础, “联”而有力
    “合”而有为); drop one that leaves a single character alone (运行 暨“三建四关心”)."""
    text = re.sub(r"\s+", " ", text.strip())

    def keep(match: re.Match) -> str:
        left = re.search(r"[\u3400-\u9fff]*$", text[:match.start()])[0]
        right = re.match(r"[\u3400-\u9fff]*", text[match.end():])[0]
        return "" if len(left) == 1 or len(right) == 1 else " "

    return re.sub(" ", keep, text)


def merge_padded_names(text: str) -> list[str]:
    """`王 军 杨少春` → [王军, 杨少春]: print pads two-character names with a space."""
    names: list[str] = []
    pending = ""
    for part in text.split():
        if len(part) == 1 and not pending:
            pending = part
        elif pending and len(part) == 1:
            names.append(pending + part)
            pending = ""
        else:
            if pending:
                names.append(pending)
                pending = ""
            names.append(part)
    if pending:
        names.append(pending)
    return names


ORGANISATION_END = ("部", "组", "处", "室", "委", "局", "办", "会", "院", "校", "所", "站", "社")


def parse_byline(marker: str, text: str) -> tuple[list[dict], list[str]]:
    """`●● 组织` → organisation; `● 职务 名 字` → position and name; `● 甲 乙` → names."""
    review: list[str] = []
    if marker == "●●":
        return [{"organisation": clean_spaces(text)}], review
    parts = merge_padded_names(text)
    if not parts:
        return [], ["byline has no name (only ● was found)"]
    if len(parts) == 2 and len(parts[0]) > 4:
        return [{"name": parts[1], "position": parts[0]}], review
    if len(parts) == 1 and len(parts[0]) > 4 and parts[0].endswith(ORGANISATION_END):
        return [{"organisation": parts[0]}], review
    if len(parts) > 2 and len(parts[0]) > 4:
        review.append(f"byline `{text}`: position and names guessed")
        return [{"name": parts[-1], "position": "".join(parts[:-1])}], review
    return [{"name": p} for p in parts], review


def find_title_blocks(tokens: list[Token]) -> dict[int, tuple[int, TitleBlock]]:
    """Title blocks anchored on bylines: {index of first token: (index after last, block)}."""
    blocks: dict[int, tuple[int, TitleBlock]] = {}
    taken: set[int] = set()
    for b, token in enumerate(tokens):
        if token.kind != "byline":
            continue
        start, subtitle, titles = b, None, []
        j = b - 1
        while j >= 0 and j not in taken and len(titles) < 5:
            prev = tokens[j]
            if prev.kind == "dash" and subtitle is None and not titles:
                subtitle = prev.group[0].strip()
            elif prev.kind == "text" and (_title_like(prev.text) or prev.line.vertical) \
                    and not (titles and titles[0].line.vertical):
                titles.insert(0, prev)
            elif prev.kind in ("head", "folio") and not titles:
                pass
            else:
                break
            start = j
            j -= 1
        while start < b and tokens[start].kind in ("head", "folio"):
            start += 1
        marker, name = token.group
        byline, review = parse_byline(marker, name)
        end = b + 1
        dateline = None
        if not name and end < len(tokens) and tokens[end].kind == "text" \
                and len(tokens[end].text) <= 4:
            byline = [{"name": tokens[end].text}]
            review = ["byline: only ● and the first character(s) of the name were found"]
            end += 1
        while end < len(tokens) and tokens[end].kind in ("dateline", "head", "folio"):
            if tokens[end].kind == "dateline":
                dateline = tokens[end].group[0]
            end += 1
        lines = [clean_title(t.text) for t in titles]
        block = TitleBlock(tokens[start].line.no, lines, subtitle, byline, dateline,
                           review=review)
        series_end = next((i for i, x in enumerate(lines) if x.endswith("摘编")), None)
        if series_end is not None and series_end < len(lines) - 1:
            block.series_heading = lines[:series_end + 1]
            block.title = lines[series_end + 1:]
        if any(t.line.vertical for t in titles):
            block.review.append("title was printed vertically: check its wording")
        if not block.title:
            block.review.append("no title found above the byline")
        blocks[start] = (end, block)
        taken.update(range(start, end))
    return blocks


Unit = Para | TitleBlock | Head | EndNoteUnit | Box | Permit


def _ends_paragraph(text: str, measure: int, first: bool, wide: bool) -> bool:
    """Whether a line ends its paragraph, judged by how much shorter than the measure it is.

    Line-breaking rules leave a full line up to two characters short, and a paragraph's first
    line is indented two characters, so only a larger gap, or a smaller one after a full stop,
    ends a paragraph. A kicker (…时强调) or a headline wider than the column stands alone.
    """
    if first and _title_like(text.replace("！", "")) and (wide or KICKER_END.search(text)):
        return True
    gap = measure - width(text) - (4 if first else 0)
    return gap > 5 or (gap > 2 and text.endswith(TERMINAL))


def _indent_follows(tokens: list[Token], i: int, measure: dict[int, int]) -> bool:
    """A full line ending a sentence, then an indented line and a full one, or a short line
    without punctuation (a headline): the full line was the last of its paragraph."""
    if not tokens[i].text.endswith(("。", "！", "？", "”")) \
            or measure[i] - width(tokens[i].text) > 2 or i + 1 not in measure:
        return False
    gap = measure[i + 1] - width(tokens[i + 1].text)
    if gap >= 3 and _title_like(tokens[i + 1].text):
        return True
    return 3 <= gap <= 6 and i + 2 in measure and measure[i + 2] - width(tokens[i + 2].text) <= 2


def _heading_lines(tokens: list[Token], i: int, measure: dict[int, int]) -> int:
    """How many lines a heading starting at token i takes (0: not a heading on its own).

    Headings are set larger and not indented, so they wrap early: the heading runs up to its
    first short line, at most three lines, with no full stop on the way.
    """
    if not HEADING_START.match(tokens[i].text) or "。" in tokens[i].text:
        return 0
    if measure[i] - width(tokens[i].text) > 7:
        return 1
    for n in (1, 2):
        if i + n >= len(tokens) or tokens[i + n].kind != "text" \
                or HEADING_START.match(tokens[i + n].text):
            return n
        text = tokens[i + n].text
        gap = measure[i + n] - width(text)
        if gap > 5:   # a short line: the heading's tail, unless it is a sentence
            return n + 1 if "。" not in text and not text.endswith(TERMINAL) else n
        if gap > 2:   # an indented line: the body's first
            return n
        if "。" in text:   # a full line finishing the sentence: a run-in heading
            return 0
    return 1


def assemble(tokens: list[Token]) -> tuple[list[Unit], list[int]]:
    """Rejoin wrapped lines into paragraphs, stepping over furniture and displaced title blocks.

    A paragraph ends at a line clearly shorter than its neighbours (the local measure), so the
    narrow, column and full-width settings of one issue all work. Returns the units and the
    numbers of the lines dropped as page furniture (running heads, folios, a repeated title
    block).
    """
    blocks = find_title_blocks(tokens)
    in_blocks = {j for start, (end, _) in blocks.items() for j in range(start, end)}
    text_idx = [i for i, t in enumerate(tokens)
                if t.kind in ("text", "editor_note") and i not in in_blocks]
    widths = [width(tokens[i].text) for i in text_idx]
    page = [0] * len(tokens)
    for j in range(1, len(tokens)):
        page[j] = page[j - 1] + tokens[j].line.page_start
    measure: dict[int, int] = {}
    for k, i in enumerate(text_idx):
        near = range(max(0, k - 8), min(len(text_idx), k + 9))
        window = sorted(widths[n] for n in near if page[text_idx[n]] == page[i])
        if len(window) < 5:
            window = sorted(widths[n] for n in near)
        measure[i] = window[(len(window) * 3) // 4]
    units: list[Unit] = []
    dropped: list[int] = []
    seen_titles: list[list[str]] = []
    para: Para | None = None
    page_head = False
    heading_lines = 0

    def close(force: bool = False) -> None:
        nonlocal para
        if para and (force or para.complete):
            units.append(para)
            para = None

    i = 0
    while i < len(tokens):
        token = tokens[i]
        if i in blocks:
            end, block = blocks[i]
            if block.title and block.title in seen_titles:
                dropped.extend(t.line.no for t in tokens[i:end])
            else:
                seen_titles.append(block.title)
                close()
                last = next((u for u in reversed(units) if isinstance(u, Para)), None)
                block.in_place = para is None and (last is None or last.complete)
                units.append(block)
            i = end
            continue
        kind = token.kind
        if kind == "text" or kind == "editor_note":
            wide = width(token.text) > measure.get(i, 0) + 2
            if kind == "editor_note" or (para and para.complete and (
                    HEADING_START.match(token.text) or wide)):
                close(force=True)
            if para is None:
                para = Para([], editor_note=kind == "editor_note", after_page_head=page_head)
            para.lines.append(Line(token.line.no, token.text, token.line.page_start))
            page_head = False
            first = len(para.lines) == 1
            if first:
                heading_lines = _heading_lines(tokens, i, measure)
            if heading_lines:
                if len(para.lines) == heading_lines:
                    close(force=True)
            elif _ends_paragraph(token.text, measure[i], first, wide) \
                    or _indent_follows(tokens, i, measure):
                close(force=True)
        elif kind == "head":
            close()
            units.append(Head(token.group[0], token.line))
            page_head = token.line.page_start or page_head
        elif kind == "folio":
            dropped.append(token.line.no)
        elif kind == "end_note":
            close(force=True)
            units.append(EndNoteUnit(token.group[0], token.group[1], token.line))
        elif kind == "label":
            close(force=True)
            box_paras: list[Para] = []
            attribution = None
            j = i + 1
            while j < len(tokens) and tokens[j].kind in ("text", "dash"):
                if tokens[j].kind == "dash":
                    attribution = tokens[j].text
                    j += 1
                    break
                if box_paras and not box_paras[-1].complete:
                    box_paras[-1].lines.append(tokens[j].line)
                else:
                    box_paras.append(Para([tokens[j].line]))
                j += 1
            units.append(Box(box_paras, attribution, token.line))
            i = j
            continue
        elif kind == "permit":
            close()
            permit = PERMIT.search(token.text)[0]
            units.append(Permit(permit, clean_title(token.text.replace(permit, "")), token.line))
        else:  # a dash or dateline outside a title block: plain text
            if para is None:
                para = Para([], after_page_head=page_head)
            para.lines.append(Line(token.line.no, token.text, token.line.page_start))
        i += 1
    close(force=True)
    return units, dropped


# ---------------------------------------------------------------- items

@dataclass
class Item:
    """One item of the issue as the importer understood it."""

    kind: str
    column: str | None
    first_line: int
    title: list[str] = field(default_factory=list)
    subtitle: str | None = None
    kicker: str | None = None
    byline: list[dict] = field(default_factory=list)
    dateline: str | None = None
    end_note: dict | None = None
    series: str | None = None
    body: list[str] = field(default_factory=list)   # Markdown paragraphs
    review: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    items: list[Item]
    columns: list[str]
    label: str | None
    permit: str | None
    back_cover: str | None
    dropped: list[int]
    chars_in: int


def _columns_of_pages(tokens: list[Token]) -> dict[int, tuple[str | None, bool]]:
    """Column of each text line, by page: (column, inferred). A page takes the running head
    printed on it (opening or closing); a page without one is given its neighbour's."""
    pages: list[list[int]] = [[]]
    heads: list[str | None] = [None]
    for token in tokens:
        if token.line.page_start and pages[-1]:
            pages.append([])
            heads.append(None)
        pages[-1].append(token.line.no)
        if token.kind == "head" and heads[-1] is None:
            heads[-1] = token.group[0]
    out: dict[int, tuple[str | None, bool]] = {}
    last = None
    for numbers, head in zip(pages, heads, strict=True):
        column, inferred = (head, False) if head else (last, True)
        last = column or last
        for no in numbers:
            out[no] = (column, inferred)
    return out


def _unit_line(unit: Unit) -> int:
    if isinstance(unit, Para):
        return unit.first
    if isinstance(unit, TitleBlock):
        return unit.first
    return unit.line.no


def segment(units: list[Unit]) -> list[list[Unit]]:
    """Cut the stream where an item surely ends: after an end note, around a 微书摘 box or a
    【编者按】, before a title block in its place, and at a page whose running head names
    another column."""
    segments: list[list[Unit]] = [[]]
    column = None
    for unit in units:
        cur = segments[-1]
        last_para = next((u for u in reversed(cur) if isinstance(u, Para)), None)
        complete = last_para is None or last_para.complete
        if isinstance(unit, Head):
            if unit.line.page_start and unit.column != column and complete and cur:
                segments.append([])
            column = unit.column
            continue
        if isinstance(unit, (Box,)) or (isinstance(unit, Para) and unit.editor_note):
            segments.extend([[unit], []])
        elif isinstance(unit, TitleBlock) and unit.in_place and cur and \
                any(isinstance(u, Para) for u in cur):
            segments.append([unit])
        elif isinstance(unit, Para) and unit.page_start and cur and complete and last_para \
                and _measure_changed(last_para, unit):
            segments.append([unit])
        else:
            cur.append(unit)
            if isinstance(unit, EndNoteUnit):
                segments.append([])
    return [s for s in segments if s]


def _measure_changed(before: Para, after: Para) -> bool:
    """A new page set to another measure (narrow sidebar pages) starts another item."""
    if len(before.lines) < 3 or len(after.lines) < 3:
        return False
    a = max(width(x.text) for x in before.lines)
    b = max(width(x.text) for x in after.lines)
    return min(a, b) < 0.75 * max(a, b)


def _soft_starts(segment_units: list[Unit]) -> list[int]:
    """Indexes of paragraphs that open a page after a finished paragraph: where an item may
    start when its title block was found further on."""
    out = []
    prev: Para | None = None
    for k, unit in enumerate(segment_units):
        if isinstance(unit, Para):
            if unit.page_start and (prev is None or prev.complete):
                out.append(k)
            prev = unit
    return out


def split_displaced(seg: list[Unit]) -> list[list[Unit]]:
    """A title block found after text of its item belongs at the last page start before it."""
    parts = [seg]
    done = 0   # blocks of the last part already placed
    while True:
        cur = parts[-1]
        blocks = [k for k, u in enumerate(cur) if isinstance(u, TitleBlock)]
        later = [k for k in blocks[done:] if any(isinstance(u, Para) for u in cur[:k])]
        if not later:
            return parts
        k = later[0]
        starts = [s for s in _soft_starts(cur) if 0 < s < k
                  and not any(isinstance(u, TitleBlock) for u in cur[s:k])]
        if starts:
            cut = starts[-1]
        elif blocks[0] < k:
            cut = k   # two title blocks and no page start between: cut at the second
            cur[k].review.append("two title blocks in one stretch of text: where this item "
                                 "starts is a guess")
        else:
            done = blocks.index(k) + 1
            continue
        parts[-1:] = [cur[:cut], cur[cut:]]
        done = 0


def analyse(path: Path) -> Analysis:
    lines = read_lines(path)
    tokens = tokenize(lines)
    units, dropped = assemble(tokens)
    page_columns = _columns_of_pages(tokens)
    columns = list(dict.fromkeys(t.group[0] for t in tokens if t.kind == "head"))
    label = next((f"{t.group[0]}·{int(t.group[1])}" for t in tokens
                  if t.kind == "folio" and t.group[0]), None)
    permit_unit = next((u for u in units if isinstance(u, Permit)), None)
    segments = [part for seg in segment(units) for part in split_displaced(seg)]
    items: list[Item] = []
    series_count = 0
    open_series: tuple[str, str] | None = None   # (series id, column)
    for seg in segments:
        for item in _items_of(seg, page_columns, items):
            if item.kind == "editor_note":
                series_count += 1
                item.series = f"series-{series_count}"
                open_series = (item.series, item.column)
            elif open_series and item.byline and item.column == open_series[1]:
                item.series = open_series[0]
            elif item.column != (open_series or ("", ""))[1]:
                open_series = None
            items.append(item)
    _attach_series_headings(items, segments)
    furniture = sorted(set(dropped) | {t.line.no for t in tokens if t.kind in ("head", "folio")})
    return Analysis(items, columns, label, permit_unit.permit if permit_unit else None,
                    permit_unit.caption if permit_unit else None, furniture,
                    sum(1 for line in lines for c in line.text if not c.isspace()))


def _attach_series_headings(items: list[Item], segments: list[list[Unit]]) -> None:
    blocks = [u for seg in segments for u in seg if isinstance(u, TitleBlock)]
    headings = [b for b in blocks if b.series_heading]
    notes = [i for i in items if i.kind == "editor_note"]
    for note, block in zip(notes, headings, strict=False):
        note.title = block.series_heading
    for note in notes[len(headings):]:
        note.review.append("no series heading (…摘编) found for this 编者按")


def _column(units: list[Unit], page_columns) -> tuple[str | None, bool]:
    found = [page_columns.get(_unit_line(u), (None, True)) for u in units]
    for column, inferred in found:
        if column and not inferred:
            return column, False
    return next(((c, True) for c, _ in found if c), (None, True))


def _items_of(seg: list[Unit], page_columns, done: list[Item]) -> list[Item]:
    column, inferred = _column(seg, page_columns)
    first = _unit_line(seg[0])
    if len(seg) == 1 and isinstance(seg[0], Box):
        box = seg[0]
        body = ["::: excerpt"] + [escape(p.text) for p in box.paras]
        if box.attribution:
            body.append(escape(clean_spaces(box.attribution)))
        body.append(":::")
        item = Item("box", column, first, body=body)
        if not box.attribution:
            item.review.append("微书摘 without an attribution line")
        return [_note_column(item, inferred)]
    if len(seg) == 1 and isinstance(seg[0], Para) and seg[0].editor_note:
        return [_note_column(Item("editor_note", column, first, body=[escape(seg[0].text)]),
                             inferred)]
    blocks = [u for u in seg if isinstance(u, TitleBlock)]
    paras = [u for u in seg if isinstance(u, Para)]
    notes = [u for u in seg if isinstance(u, EndNoteUnit)]
    if blocks and not paras and done and not done[-1].title:
        # A title found right after the end note of an untitled item is that item's.
        prev = done[-1]
        prev.review = [r for r in prev.review if r != NO_TITLE]
        _apply_block(prev, blocks[0])
        prev.review.append("title block found after the end note; moved to the top")
        return []
    if blocks:
        item = Item("article", column, first)
        _apply_block(item, blocks[0])
        for extra in blocks[1:]:
            item.review.append(f"another title block at line {extra.first} "
                               f"({' '.join(extra.title)}) was left out: check")
        if not blocks[0].in_place or seg[0] is not blocks[0]:
            item.review.append(f"title block found at line {blocks[0].first}, away from the "
                               "start of its text; check where the text starts")
        if any("评论员" in b.get("name", "") for b in item.byline):
            item.kind = "editorial"
        item.body = [render_para(p, in_article=True) for p in paras]
        _end_notes(item, notes)
        return [_note_column(item, inferred)]
    return [_note_column(i, inferred) for i in _briefs(seg, column)]


def _apply_block(item: Item, block: TitleBlock) -> None:
    item.title = block.title
    item.subtitle = block.subtitle
    item.byline = block.byline
    item.dateline = block.dateline
    item.review.extend(block.review)


def _end_notes(item: Item, notes: list[EndNoteUnit]) -> None:
    """The stretch's end note; a list of names keeps its spaces but loses the padding (王 军)."""
    if notes:
        note = notes[-1]
        parts = note.text.split()
        names = len(parts) > 1 and all(len(p) <= 4 for p in parts)
        text = " ".join(merge_padded_names(note.text)) if names else clean_spaces(note.text)
        item.end_note = {"kind": note.kind, "text": text}


def _note_column(item: Item, inferred: bool) -> Item:
    if item.column is None:
        item.review.append("no running head anywhere near: column unknown, set `column`")
    elif inferred:
        item.review.append(f"no running head on its pages: column `{item.column}` "
                           "inferred from a neighbouring page")
    return item


def _headline_run(paras: list[Para], k: int) -> int:
    """How many title-like one-line paragraphs start at k and are followed by text (0: none)."""
    n = 0
    while k + n < len(paras) and len(paras[k + n].lines) <= 2 \
            and _title_like(paras[k + n].text.replace("！", "")):
        n += 1
    if n and n <= 3 and k + n < len(paras) and not _title_like(paras[k + n].text):
        return n
    return 0


def _briefs(seg: list[Unit], column: str | None) -> list[Item]:
    """A stretch without bylines: news briefs, each opening with a headline of 1–3 lines, or
    an untitled item; on the page with the publication permit, the back cover."""
    paras = [u for u in seg if isinstance(u, Para)]
    notes = [u for u in seg if isinstance(u, EndNoteUnit)]
    permit = next((u for u in seg if isinstance(u, Permit)), None)
    items: list[Item] = []
    cur: Item | None = None
    k = 0
    prev: Para | None = None
    while k < len(paras):
        para = paras[k]
        ended = prev is None or prev.complete or _title_like(prev.text) \
            or HEADING_START.match(prev.text)
        run = _headline_run(paras, k) if ended else 0
        if run:
            heads = [clean_title(line.text) for p in paras[k:k + run] for line in p.lines]
            cur = Item("brief", column, para.first, title=heads)
            if len(heads) > 1 and KICKER_END.search(heads[0]):
                cur.kicker, cur.title = heads[0], heads[1:]
            items.append(cur)
            prev = paras[k + run - 1]
            k += run
            continue
        if cur is None or (para.page_start and prev is not None and prev.complete
                           and cur.kind == "brief"):
            cur = Item("article", column, para.first, review=[NO_TITLE])
            items.append(cur)
        cur.body.append(render_para(para, in_article=cur.kind != "brief"))
        prev = para
        k += 1
    if permit is not None:
        _make_back_cover(items, permit)
    if items:
        _end_notes(items[-1], notes)
    return items


def _make_back_cover(items: list[Item], permit: Permit) -> None:
    """The items from the last headline before the permit line on form the back cover."""
    before = [i for i in items if i.first_line < permit.line.no and i.title]
    if not before:
        return
    start = items.index(before[-1])
    cover = Item("back_cover", "封底", before[-1].first_line,
                 title=[permit.caption] if permit.caption else [])
    for item in items[start:]:
        if item.title:
            cover.body.append("## " + escape("".join(item.title)))
        cover.body.extend(item.body)
    cover.review.append("back cover: photos and their captions are not in the text; add them")
    items[start:] = [cover]


MD_START = re.compile(r"^(\d+)([.)])(?=\s|$)|^([-+*>#])")


def _escape_inline(text: str) -> str:
    return re.sub(r"([\\*_`\[\]])", r"\\\1", text)


def escape(text: str) -> str:
    """Plain text safe as a Markdown paragraph: no emphasis, links or list markers by accident."""
    return MD_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}",
                        _escape_inline(text))


HEADING_1 = re.compile(rf"^({NUMERAL}、)\s*(.*)$")
HEADING_2 = re.compile(rf"^([（(]{NUMERAL}[）)])\s*(.*)$")
HEADING_3 = re.compile(r"^(\d{1,2})\.\s*(.*)$")


def render_para(para: Para, in_article: bool) -> str:
    """One paragraph as Markdown: 一、 heading, （一） heading or run-in, 1. point, or text."""
    text = para.text
    for pattern, level in ((HEADING_1, "##"), (HEADING_2, "###"), (HEADING_3, "point")):
        match = pattern.match(text)
        if not match:
            continue
        mark = f"{match[1]}. " if level == "point" else match[1]
        rest = match[2]
        stop = re.search(r"[。！？]", rest)
        if stop is None or stop.end() == len(rest):
            head = mark + _escape_inline(rest.rstrip("。"))
            return f"**{head}**" if level == "point" else f"{level} {head}"
        # Run-in: the heading up to its first full stop, kept inside, is the bold lead.
        return f"**{mark}{_escape_inline(rest[:stop.end()])}**{_escape_inline(rest[stop.end():])}"
    if in_article and len(para.lines) == 1 and _title_like(text) and width(text) < 40:
        return "## " + escape(text)
    return escape(text)


# ---------------------------------------------------------------- writing

@dataclass
class Report:
    """What `import-text` prints."""

    out: Path
    by_kind: Counter
    chars_in: int
    chars_out: int
    furniture: int
    flagged: list[tuple[str, list[str]]]
    notes: list[str]

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.by_kind.items()))
        out = [f"{self.out}: {sum(self.by_kind.values())} items ({kinds})",
               f"characters in: {self.chars_in}, characters out: {self.chars_out}",
               f"page furniture removed: {self.furniture} lines (running heads, folios, "
               "repeated title blocks)",
               f"items flagged for review: {len(self.flagged)}"]
        for name, reasons in self.flagged:
            out.extend(f"  {name}: {r}" for r in reasons)
        out.extend(self.notes)
        return out


KIND_SLUG = {"article": "article", "brief": "brief", "editorial": "editorial",
             "editor_note": "editor-note", "box": "box", "back_cover": "back-cover"}


def front_matter(item: Item) -> dict:
    data: dict = {"kind": item.kind, "column": item.column}
    if item.kicker:
        data["kicker"] = item.kicker
    if item.title:
        data["title"] = item.title[0] if len(item.title) == 1 else list(item.title)
    if item.subtitle:
        data["subtitle"] = item.subtitle
    if item.byline:
        names_only = all(set(b) == {"name"} for b in item.byline)
        data["byline"] = ([b["name"] for b in item.byline] if names_only else item.byline)
        if names_only and len(item.byline) == 1:
            data["byline"] = item.byline[0]["name"]
    if item.dateline:
        data["dateline"] = item.dateline
    if item.end_note:
        data["end_note"] = item.end_note
    if item.series:
        data["series"] = item.series
    if item.review:
        data["review"] = list(dict.fromkeys(item.review))
    return data


def render_item(item: Item) -> str:
    meta = yaml.safe_dump(front_matter(item), allow_unicode=True, sort_keys=False,
                          width=10_000)
    body = "\n\n".join(item.body).replace("::: excerpt\n\n", "::: excerpt\n") \
        .replace("\n\n:::", "\n:::")
    return f"---\n{meta}---\n\n{body}\n"


def _column_ids(names: list[str]) -> list[dict]:
    return [{"id": "back-cover" if name == "封底" else f"column-{k:02d}", "name": name}
            for k, name in enumerate(names, start=1)]


def render_manifest(analysis: Analysis, magazine: str | None, label: str) -> str:
    year, month = (int(x) for x in label.split("·"))
    names = list(analysis.columns)
    if any(i.column == "封底" for i in analysis.items) and "封底" not in names:
        names.append("封底")
    data = {"magazine": magazine or "刊名待定", "label": label, "year": year, "month": month,
            "language": "zh-CN"}
    if analysis.permit:
        data["permit"] = analysis.permit
    if analysis.back_cover:
        data["back_cover"] = analysis.back_cover
    data["columns"] = _column_ids(names)
    head = "# Written by `publisher import-text`; the masthead is not in the text.\n" \
        if not magazine else ""
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def plan(analysis: Analysis) -> list[tuple[str, Item]]:
    digits = max(2, len(str(10 * len(analysis.items))))
    return [(f"{10 * n:0{digits}d}-{KIND_SLUG[item.kind]}.md", item)
            for n, item in enumerate(analysis.items, start=1)]


def import_text(text_file: Path, out: Path, *, force: bool = False,
                magazine: str | None = None, label: str | None = None) -> Report:
    """Analyse `text_file` and write an issue folder at `out`; return the summary."""
    if out.exists() and not out.is_dir():
        raise ImportTextError("is a file, not an issue folder: give a folder to -o", out)
    if label is not None:
        _check_label(label, None)  # a mistyped --label stops before the text is read
    analysis = analyse(text_file)
    if label is None:
        if not analysis.label:
            raise ImportTextError("no issue label like 2015·10 found in the text: give --label",
                                  text_file)
        label = _check_label(analysis.label, text_file)
    files = plan(analysis)
    targets = [out / MANIFEST] + [out / ARTICLES / name for name, _ in files]
    if not force:
        existing = [p for p in targets if p.exists()]
        existing += sorted((out / ARTICLES).glob("*.md")) if (out / ARTICLES).is_dir() else []
        if existing:
            raise ImportTextError("exists already; use --force to overwrite", existing[0])
    for item in analysis.items:
        if item.column is None:
            item.column = analysis.columns[0] if analysis.columns else "封底"
    contents = {MANIFEST: render_manifest(analysis, magazine, label)}
    contents.update({f"{ARTICLES}/{name}": render_item(item) for name, item in files})
    removed = _write_checked(out, contents)
    chars_out = sum(1 for item in analysis.items
                    for c in _item_text(item) if not c.isspace())
    flagged = [(name, list(dict.fromkeys(item.review))) for name, item in files if item.review]
    notes = [f"removed {p}: not part of this import" for p in removed]
    if not magazine:
        notes.append("issue.yaml: the masthead is not in the text; set `magazine`")
    return Report(out, Counter(i.kind for i in analysis.items), analysis.chars_in, chars_out,
                  len(analysis.dropped), flagged, notes)


def _check_label(label: str, source: Path | None) -> str:
    """`label` if it is a year·month the loader accepts, else an error naming `source`."""
    match = re.fullmatch(r"(\d{4})·(\d{1,2})", label)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ImportTextError(f"issue label `{label}` is not a year·month such as 2015·10",
                              source)
    return label


def _item_text(item: Item) -> str:
    parts = [*item.title, item.subtitle or "", item.kicker or "", item.dateline or ""]
    parts += [v for b in item.byline for v in b.values()]
    if item.end_note:
        parts.append(item.end_note["text"])
    parts += [re.sub(r"^(#+ |::: ?\w*)|\*\*|\\", "", p) for p in item.body]
    return "".join(parts)


def _write_checked(out: Path, contents: dict[str, str]) -> list[Path]:
    """Write into a temporary folder beside `out`, check it loads, then move the files in.

    Article files of an earlier import that this one does not write are removed (only `--force`
    gets this far with any), since their order numbers would clash; they are returned.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder of the path should be
        raise ImportTextError(f"cannot make the folder: {exc.strerror}", out.parent) from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.import-", dir=out.parent))
    try:
        (tmp / ARTICLES).mkdir()
        for name, text in contents.items():
            (tmp / name).write_text(text, encoding="utf-8")
        try:
            load_issue(tmp)
        except IssueErrors as exc:   # the importer's own fault: report it, write nothing
            raise ImportTextError("the imported sources do not validate (a bug in the importer):\n"
                               + str(exc), out) from None
        (out / ARTICLES).mkdir(parents=True, exist_ok=True)
        stale = sorted(set((out / ARTICLES).glob("*.md"))
                       - {out / name for name in contents})
        for name in contents:
            os.replace(tmp / name, out / name)
        for path in stale:
            path.unlink()
        return stale
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
