"""Stage 3: paragraphs and title blocks → items (articles, briefs, editorials, speeches), each
with its column, front matter and Markdown body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from publisher.importer.lines import Token, read_text_lines, tokenize
from publisher.importer.paragraphs import (
    HEADING_START,
    KICKER_END,
    NAME_MAX_CHARS,
    NO_TITLE,
    NUMERAL,
    Box,
    EndNoteUnit,
    Head,
    Para,
    Permit,
    TitleBlock,
    Unit,
    assemble,
    clean_spaces,
    clean_title,
    merge_padded_names,
    title_like,
    width,
)
from publisher.source.model import Kind

# A brief opens with a headline of one to three lines, each wrapping to at most two.
HEADLINE_MAX_LINES = 3
HEADLINE_LINE_WRAPS = 2
# A one-line paragraph narrower than this (half-ems) in an article is a 一、 heading.
HEADING_MAX_WIDTH = 40
# Paragraphs whose measure is under three quarters of the one before are set on a narrower
# page (a sidebar): judged on paragraphs of at least three lines.
NARROW_MEASURE = 0.75
MEASURE_MIN_LINES = 3


@dataclass
class Item:
    """One item of the issue as the importer understood it."""

    kind: Kind
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
    if len(before.lines) < MEASURE_MIN_LINES or len(after.lines) < MEASURE_MIN_LINES:
        return False
    a = max(width(x.text) for x in before.lines)
    b = max(width(x.text) for x in after.lines)
    return min(a, b) < NARROW_MEASURE * max(a, b)


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


def analyse(path: Path, encoding: str = "utf-8") -> Analysis:
    lines = read_text_lines(path, encoding)
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
            if item.kind == Kind.editor_note:
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
    notes = [i for i in items if i.kind == Kind.editor_note]
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
        item = Item(Kind.box, column, first, body=body)
        if not box.attribution:
            item.review.append("微书摘 without an attribution line")
        return [_note_column(item, inferred)]
    if len(seg) == 1 and isinstance(seg[0], Para) and seg[0].editor_note:
        return [_note_column(Item(Kind.editor_note, column, first, body=[escape(seg[0].text)]),
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
        item = Item(Kind.article, column, first)
        _apply_block(item, blocks[0])
        for extra in blocks[1:]:
            item.review.append(f"another title block at line {extra.first} "
                               f"({' '.join(extra.title)}) was left out: check")
        if not blocks[0].in_place or seg[0] is not blocks[0]:
            item.review.append(f"title block found at line {blocks[0].first}, away from the "
                               "start of its text; check where the text starts")
        if any("评论员" in b.get("name", "") for b in item.byline):
            item.kind = Kind.editorial
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
        names = len(parts) > 1 and all(len(p) <= NAME_MAX_CHARS for p in parts)
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
    while k + n < len(paras) and len(paras[k + n].lines) <= HEADLINE_LINE_WRAPS \
            and title_like(paras[k + n].text.replace("！", "")):
        n += 1
    if n and n <= HEADLINE_MAX_LINES and k + n < len(paras) and not title_like(paras[k + n].text):
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
        ended = prev is None or prev.complete or title_like(prev.text) \
            or HEADING_START.match(prev.text)
        run = _headline_run(paras, k) if ended else 0
        if run:
            heads = [clean_title(line.text) for p in paras[k:k + run] for line in p.lines]
            cur = Item(Kind.brief, column, para.first, title=heads)
            if len(heads) > 1 and KICKER_END.search(heads[0]):
                cur.kicker, cur.title = heads[0], heads[1:]
            items.append(cur)
            prev = paras[k + run - 1]
            k += run
            continue
        if cur is None or (para.page_start and prev is not None and prev.complete
                           and cur.kind == Kind.brief):
            cur = Item(Kind.article, column, para.first, review=[NO_TITLE])
            items.append(cur)
        cur.body.append(render_para(para, in_article=cur.kind != Kind.brief))
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
    cover = Item(Kind.back_cover, "封底", before[-1].first_line,
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
    if in_article and len(para.lines) == 1 and title_like(text) and width(text) < HEADING_MAX_WIDTH:
        return "## " + escape(text)
    return escape(text)
