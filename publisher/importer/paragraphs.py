"""Stage 2: tokens → paragraphs, headings, title blocks, end notes and boxes, by the measure
of the printed lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from publisher.importer.lines import PERMIT, TextLine, Token


def width(text: str) -> int:
    """Printed width in half-ems: Han characters and full-width punctuation count two."""
    return sum(1 if ord(c) < 0x2000 else 2 for c in text)


# How far short of the local measure a line falls, in half-ems (`width`), tells its role.
# A full line may fall one character short (line breaking pushed a mark or a character on).
FULL_LINE_SLACK = 2
# A line shorter than this ends its paragraph even without a full stop.
SHORT_LINE_GAP = 5
# A paragraph's first line is indented two characters.
INDENT = 4
# A heading's line this much short stands alone: headings are set larger and wrap early.
HEADING_ALONE_GAP = 7
HEADING_MAX_LINES = 3
TITLE_MAX_CHARS = 40
TITLE_MAX_LINES = 5
# A byline part or end-note part longer than this is a position or an organisation, not a name.
NAME_MAX_CHARS = 4


TERMINAL = tuple("。！？：；…”’")
KICKER_END = re.compile(r"(强调|指出|表示|时说)$")
NO_TITLE = "no title found: check whether it has one"
TITLE_BREAKERS = set("，。；：！？")
NUMERAL = "[一二三四五六七八九十]+"
HEADING_START = re.compile(rf"^({NUMERAL}、|[（(]{NUMERAL}[）)]|\d{{1,2}}\.)")


def title_like(text: str) -> bool:
    """A line that can be part of a title: short, without sentence punctuation."""
    return (len(text) <= TITLE_MAX_CHARS and not TITLE_BREAKERS & set(text)
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
    lines: list[TextLine]
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
    line: TextLine


@dataclass
class EndNoteUnit:
    kind: str
    text: str
    line: TextLine


@dataclass
class Box:
    paras: list[Para]
    attribution: str | None
    line: TextLine


@dataclass
class Permit:
    permit: str
    caption: str
    line: TextLine


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
    if len(parts) == 2 and len(parts[0]) > NAME_MAX_CHARS:
        return [{"name": parts[1], "position": parts[0]}], review
    if len(parts) == 1 and len(parts[0]) > NAME_MAX_CHARS and parts[0].endswith(ORGANISATION_END):
        return [{"organisation": parts[0]}], review
    if len(parts) > 2 and len(parts[0]) > NAME_MAX_CHARS:
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
        while j >= 0 and j not in taken and len(titles) < TITLE_MAX_LINES:
            prev = tokens[j]
            if prev.kind == "dash" and subtitle is None and not titles:
                subtitle = prev.group[0].strip()
            elif prev.kind == "text" and (title_like(prev.text) or prev.line.vertical) \
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
                and len(tokens[end].text) <= NAME_MAX_CHARS:
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

    Line breaking leaves a full line up to a character short, and a paragraph's first line is
    indented two characters, so only a larger gap, or a smaller one after a full stop, ends a
    paragraph. A kicker (…时强调) or a headline wider than the column stands alone.
    """
    if first and title_like(text.replace("！", "")) and (wide or KICKER_END.search(text)):
        return True
    gap = measure - width(text) - (INDENT if first else 0)
    return gap > SHORT_LINE_GAP or (gap > FULL_LINE_SLACK and text.endswith(TERMINAL))


def _indent_follows(tokens: list[Token], i: int, measure: dict[int, int]) -> bool:
    """A full line ending a sentence, then an indented line and a full one, or a short line
    without punctuation (a headline): the full line was the last of its paragraph."""
    if not tokens[i].text.endswith(("。", "！", "？", "”")) \
            or measure[i] - width(tokens[i].text) > FULL_LINE_SLACK or i + 1 not in measure:
        return False
    gap = measure[i + 1] - width(tokens[i + 1].text)
    if gap > FULL_LINE_SLACK and title_like(tokens[i + 1].text):
        return True
    return (FULL_LINE_SLACK < gap <= INDENT + FULL_LINE_SLACK and i + 2 in measure
            and measure[i + 2] - width(tokens[i + 2].text) <= FULL_LINE_SLACK)


def _heading_lines(tokens: list[Token], i: int, measure: dict[int, int]) -> int:
    """How many lines a heading starting at token i takes (0: not a heading on its own).

    Headings are set larger and not indented, so they wrap early: the heading runs up to its
    first short line, at most three lines, with no full stop on the way.
    """
    if not HEADING_START.match(tokens[i].text) or "。" in tokens[i].text:
        return 0
    if measure[i] - width(tokens[i].text) > HEADING_ALONE_GAP:
        return 1
    for n in range(1, HEADING_MAX_LINES):
        if i + n >= len(tokens) or tokens[i + n].kind != "text" \
                or HEADING_START.match(tokens[i + n].text):
            return n
        text = tokens[i + n].text
        gap = measure[i + n] - width(text)
        if gap > SHORT_LINE_GAP:   # a short line: the heading's tail, unless it is a sentence
            return n + 1 if "。" not in text and not text.endswith(TERMINAL) else n
        if gap > FULL_LINE_SLACK:   # an indented line: the body's first
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
            para.lines.append(TextLine(token.line.no, token.text, token.line.page_start))
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
            para.lines.append(TextLine(token.line.no, token.text, token.line.page_start))
        i += 1
    close(force=True)
    return units, dropped
