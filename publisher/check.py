"""`publisher check PDF`: the house style's Chinese typesetting rules, measured on a built PDF.

The PDF is read as a reader sees it. pdfplumber gives every glyph with its position; glyphs on
one baseline form a row, and a row splits into lines at gaps wider than 1.5em where a frame's
line starts or ends. Lines mostly at the body size (the commonest one) are body lines, whatever
the font. Their left edges, and the right edges where lines end that the next line continues,
give the text frames (columns and full-width blocks). A body line is *full* when its paragraph
goes on: the next line, one line lower in the frame, starts at the frame's edge and not at the
2em indent; at a column's foot, the paragraph may go on at the top of the next frame in reading
order if nothing stands between and the font stays the same.

Rules checked (numbered as in the house style; rule 3, the 2em indent, is the layout's):
1. no line starts with a closing mark or ends with an opening one;
2. no `——` or `……` split across lines (an odd run of — or … at a line's start or end);
4. every full body line ends within 0.5pt of its frame's right edge (also reported as a share);
5. adjacent full-width marks take 1.5em (a closing mark then a closing or opening one, or two
   opening ones: `。”`, `》《`, `”（`, `“《`): the second starts ½em after the first, plus the
   line's justification gap;
6. a Han character and a Latin letter or digit stand at least ⅛em apart (the layout sets them ¼em
   apart, and flexes that between ⅛ and ⅓em to fit a line);
7. no paragraph's last line holds fewer than two characters, and no column starts with the last
   line of a paragraph begun in the column before;
8. every font is embedded and no glyph is missing (WeasyPrint draws .notdef for those);
9. every line of body text (body size, body font) sits on the line grid: its baseline a whole
   number of line pitches from the text block's first (within 0.5pt), the grid being the one
   most such lines of the document follow;
10. no full body line is loose: no gap between two Han characters widened by more than 0.1em
   (justification takes a line's slack from punctuation first; counted, not blocking).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from publisher.cjk import (
    CLOSING,
    DOUBLED_MARKS,
    LINE_END_COMPRESSIBLE,
    LINE_END_PROHIBITED,
    LINE_START_PROHIBITED,
    OPENING,
    counts_as_character,
    is_han,
)
from publisher.errors import PublisherError

RULES = {
    1: "line starts or ends with a prohibited mark",
    2: "—— or …… split across lines",
    4: "full line not flush with the column edge",
    5: "adjacent punctuation wider than 1.5em",
    6: "Han and Latin or digits closer than ⅛em",
    7: "one-character last line, or last line alone at a column top",
    8: "missing glyph or font not embedded",
    9: "body line off the line grid",
    10: "loose line: a gap between Han characters widened by more than 0.1em",
}
BLOCKING_RULES = (1, 2, 4, 8, 9)  # a violation of these makes `publisher check` exit 1
FLUSH_TOLERANCE_PT = 0.5
LOOSE_EM = 0.1
LATIN_GAP_EM = 1 / 8 - 0.01  # a hundredth for the PDF's rounding to thousandths
INDENT_EM = 2
# Body lines follow each other 1.67em apart; a wider gap in a frame means other matter between.
RUN_GAP_EM = 2.5


@dataclass(frozen=True, eq=False)
class PrintedLine:
    """One printed line: its glyphs left to right on one baseline of one page."""

    page: int
    y: float  # baseline, points from the top of the page
    chars: tuple[dict, ...]
    body: bool  # mostly at the body size
    trimmed: bool = False  # opens with a mark set half width, its blank half before the edge
    hangs: bool = False  # ends with a mark set half width, its blank half past the edge

    @property
    def x0(self) -> float:
        return self.chars[0]["x0"] + (_half(self.chars[0]) if self.trimmed else 0.0)

    @property
    def x1(self) -> float:
        return self.chars[-1]["x1"] - (_half(self.chars[-1]) if self.hangs else 0.0)

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)


@dataclass(frozen=True)
class Frame:
    """A text frame: a column or a full-width block, by its left and right edges."""

    left: float
    right: float


@dataclass(frozen=True)
class Violation:
    rule: int
    page: int  # the PDF's page, 1-based
    column: str
    text: str
    detail: str = ""
    folio: str = ""  # the page's printed label (4, 封底), where the PDF has page labels

    @property
    def page_name(self) -> str:
        """The page as an editor finds it: its printed label, else its number in the PDF."""
        return self.folio or str(self.page)

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"p. {self.page_name}, {self.column}: rule {self.rule}{detail}: {self.text}"


@dataclass
class CheckReport:
    """Every violation found, and the count of full body lines and of those that are flush."""

    violations: list[Violation] = field(default_factory=list)
    full_lines: int = 0
    flush_lines: int = 0

    def totals(self) -> dict[int, int]:
        counts = Counter(v.rule for v in self.violations)
        return {rule: counts.get(rule, 0) for rule in RULES}

    @property
    def flush_share(self) -> float:
        return self.flush_lines / self.full_lines if self.full_lines else 1.0

    @property
    def passed(self) -> bool:
        totals = self.totals()
        return not any(totals[rule] for rule in BLOCKING_RULES)

    def format(self) -> str:
        out = [str(v) for v in self.violations]
        out += [f"rule {rule}: {count:4d}  {RULES[rule]}" for rule, count in self.totals().items()]
        out.append(f"flush full lines: {self.flush_lines} of {self.full_lines} "
                   f"({self.flush_share:.1%})")
        return "\n".join(out)


def _half(char: dict) -> float:
    return char["size"] / 2


def _at(x: float, edges: list[float]) -> bool:
    return any(abs(x - edge) < 0.5 for edge in edges)


def _trimmed(char: dict, lefts: list[float]) -> bool:
    """Whether `char` opens a line half an em before a left edge: an opening mark trimmed."""
    return (char["text"] in OPENING and not _at(char["x0"], lefts)
            and _at(char["x0"] + _half(char), lefts))


def _hangs(char: dict, rights: list[float]) -> bool:
    """Whether `char` ends a line half an em past a right edge: a mark set half width."""
    return (char["text"] in LINE_END_COMPRESSIBLE and not _at(char["x1"], rights)
            and _at(char["x1"] - _half(char), rights))


def _base_font(name: str) -> str:
    """A font's name without the subset prefix (`ABCDEF+Noto-Serif-CJK-SC`)."""
    return name.split("+", 1)[-1]


def _rows(chars: list[dict], height: float) -> Iterable[tuple[float, list[dict]]]:
    """Glyphs grouped by baseline (within 2pt: a floated label sits 1pt off), top to bottom."""
    def baseline(c):
        return height - c["matrix"][5]

    row: list[dict] = []
    for char in sorted(chars, key=baseline):
        if row and baseline(char) - baseline(row[0]) > 2:
            yield baseline(row[0]), row
            row = []
        row.append(char)
    if row:
        yield baseline(row[0]), row


def _split(row: list[dict], cut) -> Iterable[list[dict]]:
    """A row's glyphs cut into lines before every glyph for which `cut(previous, glyph)`."""
    line: list[dict] = []
    for char in sorted(row, key=lambda c: c["x0"]):
        if line and cut(line[-1], char):
            yield line
            line = []
        line.append(char)
    if line:
        yield line


def _clusters(values: list[float], tolerance: float) -> list[list[float]]:
    groups: list[list[float]] = []
    for value in sorted(values):
        if groups and value - groups[-1][-1] <= tolerance:
            groups[-1].append(value)
        else:
            groups.append([value])
    return groups


def read_printed_lines(pdf_path: Path) -> list[PrintedLine]:
    """Every line of text in the PDF, body lines marked, in page order, top to bottom.

    A row is cut at a gap wider than 1.5em where one piece starts at a left edge (or its indent)
    or the other ends at a right edge, edges being where at least three such pieces of its size
    of type start or end (not counting pieces that open or end with a mark, which may stand half
    an em outside); a line stretched at a wide space thus stays whole.
    """
    import pdfplumber

    with pdfplumber.open(pdf_path) as pdf:
        pages = [
            (number, page.height, [c for c in page.chars if c["upright"] and c["text"].strip()])
            for number, page in enumerate(pdf.pages, 1)
        ]
    sizes = Counter(_size(c) for _, _, chars in pages for c in chars)
    if not sizes:
        return []
    em = sizes.most_common(1)[0][0]

    def is_body(glyphs: list[dict]) -> bool:
        return sum(_size(c) == em for c in glyphs) >= 0.6 * len(glyphs)

    rows = [(number, y, row) for number, height, chars in pages for y, row in _rows(chars, height)]
    pieces = [glyphs for _, _, row in rows for glyphs in _split(row, lambda a, b: _wide(a, b, em))]

    def starts(group: list[list[dict]]) -> list[float]:
        return [g[0] for g in _clusters([p[0]["x0"] for p in group if p[0]["text"] not in OPENING],
                                        0.3) if len(g) >= 3]

    def ends(group: list[list[dict]]) -> list[float]:
        return [g[-1] for g in _clusters([p[-1]["x1"] for p in group
                                          if p[-1]["text"] not in LINE_END_COMPRESSIBLE], 0.3)
                if len(g) >= 3]

    body = [glyphs for glyphs in pieces if is_body(glyphs)]
    lefts = {em: starts(body)}
    lefts[em] += [x + INDENT_EM * em for x in lefts[em]]
    rights = {em: ends(body)}
    # Type of another size has its own edges too (the 目录's columns, set smaller than the
    # body), and the body's (a headline's closing mark hangs past them).
    for size in {_size(c) for glyphs in pieces for c in (glyphs[0], glyphs[-1])} - {em}:
        lefts[size] = lefts[em] + starts([p for p in pieces if _size(p[0]) == size])
        rights[size] = rights[em] + ends([p for p in pieces if _size(p[-1]) == size])

    def left(char: dict) -> bool:
        return _at(char["x0"], lefts[_size(char)]) or _trimmed(char, lefts[_size(char)])

    def right(char: dict) -> bool:
        return _at(char["x1"], rights[_size(char)]) or _hangs(char, rights[_size(char)])

    def cut(a: dict, b: dict) -> bool:
        """Cut at a wide gap that opens a frame's line or closes one, or that parts two kinds of
        type (on the line grid, a paragraph's short last line and a headline centred across the
        gutter share a baseline): not at a wide space."""
        return _wide(a, b, em) and (left(b) or right(a) or _type(a) != _type(b))

    return [PrintedLine(number, round(y, 2), tuple(glyphs), is_body(glyphs),
                        trimmed=_trimmed(glyphs[0], lefts[_size(glyphs[0])]),
                        hangs=_hangs(glyphs[-1], rights[_size(glyphs[-1])]))
            for number, y, row in rows for glyphs in _split(row, cut)]


def _size(char: dict) -> float:
    return round(char["size"], 1)


def _type(char: dict) -> tuple[str, float]:
    return _base_font(char["fontname"]), _size(char)


def _wide(a: dict, b: dict, em: float) -> bool:
    return b["x0"] - a["x1"] > 1.5 * em


def find_frames(lines: list[PrintedLine], em: float) -> dict[PrintedLine, Frame]:
    """The frame of every body line. Left edges are where body lines start (the 2em indent
    aside); right edges are where lines end that the next line, one line lower, continues
    without indent (ragged ends within 4em of a farther edge count as that edge)."""
    body = [line for line in lines if line.body]
    starts = [g for g in _clusters([line.x0 for line in body], 0.3) if len(g) >= 2]
    lefts = [g[0] for g in starts]
    lefts = [x for x in lefts if not any(abs(x - INDENT_EM * em - o) < 0.5 for o in lefts)]
    frames: dict[PrintedLine, Frame] = {}
    for left in lefts:
        members = sorted((line for line in body
                          if min(abs(line.x0 - left), abs(line.x0 - left - INDENT_EM * em)) < 0.5),
                         key=lambda ln: (ln.page, ln.y))
        steps = list(zip(members, members[1:], strict=False))
        pitches = Counter(round(b.y - a.y, 1) for a, b in steps if a.page == b.page)
        if not pitches:
            continue
        pitch = pitches.most_common(1)[0][0]
        continued = [a.x1 for a, b in steps if a.page == b.page
                     and abs(b.y - a.y - pitch) < 0.5 and abs(b.x0 - left) < 0.5]
        rights = [max(g) for g in _clusters(continued, FLUSH_TOLERANCE_PT) if len(g) >= 2]
        merged: list[float] = []
        for right in sorted(rights, reverse=True):
            if not merged or merged[-1] - right > 4 * em:
                merged.append(right)
        merged = sorted(merged) or [max(line.x1 for line in members)]
        above = None
        for line in members:
            right = next((r for r in merged if line.x1 <= r + em), merged[-1])
            if (above is not None and above.page == line.page
                    and abs(line.y - above.y - pitch) < 0.5 and frames[above].right > right):
                right = frames[above].right  # a short last line keeps its paragraph's frame
            frames[line] = Frame(left, right)
            above = line
    return frames


def _wide_test(frames: dict[PrintedLine, Frame]):
    """Whether a frame is full width: half as wide again as the narrowest frame (a column)."""
    narrowest = min(f.right - f.left for f in frames.values())
    return lambda frame: frame.right - frame.left >= 1.5 * narrowest


def _column_names(frames: dict[PrintedLine, Frame]) -> dict[tuple[int, Frame], str]:
    """`column 1`, `column 2` by left edge on each page, or `full width` for wide frames."""
    wide = _wide_test(frames)
    names: dict[tuple[int, Frame], str] = {}
    by_page: dict[int, set[Frame]] = {}
    for line, frame in frames.items():
        by_page.setdefault(line.page, set()).add(frame)
    for page, page_frames in by_page.items():
        columns = sorted({f.left for f in page_frames if not wide(f)})
        for frame in page_frames:
            if wide(frame):
                names[page, frame] = "full width"
            else:
                names[page, frame] = f"column {columns.index(frame.left) + 1}"
    return names


def _reading_order(frames: dict[PrintedLine, Frame], lines: list[PrintedLine],
                   em: float) -> list[list[PrintedLine]]:
    """Body lines per frame and page, frames in reading order: on each page, bands top to
    bottom, and in a band the columns left to right, then full-width frames top to bottom.
    Bands are parted by full-width lines and by lines that cross a gutter between columns (a
    title block); a column's first body line may stand below its neighbour's last (a headline
    above it), so the bands come from the page's layout, not from the body lines' heights. A
    frame is cut where its lines leave a gap of more than a line and a half (matter between)."""
    by_frame: dict[tuple[int, Frame], list[PrintedLine]] = {}
    for line, frame in frames.items():
        by_frame.setdefault((line.page, frame), []).append(line)
    wide = _wide_test(frames)
    gutters: dict[int, list[tuple[float, float]]] = {}
    for page in {page for page, _ in by_frame}:
        columns = sorted((f for p, f in by_frame if p == page and not wide(f)),
                         key=lambda f: f.left)
        gutters[page] = [(a.right, b.left) for a, b in zip(columns, columns[1:], strict=False)
                         if b.left > a.right]
    spans: dict[int, list[float]] = {}
    for line in lines:
        if (line in frames and wide(frames[line])) or any(
                line.x0 < left and line.x1 > right for left, right in gutters.get(line.page, ())):
            spans.setdefault(line.page, []).append(line.y)

    def key(page: int, frame: Frame, run: list[PrintedLine]) -> tuple:
        band = sum(y < run[0].y - 0.5 for y in spans.get(page, ()))
        return page, band, wide(frame), run[0].y if wide(frame) else frame.left, run[0].y

    runs: list[tuple[tuple, list[PrintedLine]]] = []
    for (page, frame), frame_lines in by_frame.items():
        frame_lines.sort(key=lambda ln: ln.y)
        start = 0
        for i in range(1, len(frame_lines) + 1):
            if i == len(frame_lines) or frame_lines[i].y - frame_lines[i - 1].y > RUN_GAP_EM * em:
                run = frame_lines[start:i]
                runs.append((key(page, frame, run), run))
                start = i
    return [run for _, run in sorted(runs, key=lambda r: r[0])]


def _odd_run(text: str) -> bool:
    """Whether `text` opens with an odd run of a doubled mark: one of its pairs is split."""
    if not text or text[0] not in DOUBLED_MARKS:
        return False
    return (len(text) - len(text.lstrip(text[0]))) % 2 == 1


def _line_rules(line: PrintedLine, where: str, em: float) -> Iterable[Violation]:
    text = line.text
    if text[0] in LINE_START_PROHIBITED:
        yield Violation(1, line.page, where, text, f"starts with {text[0]}")
    if text[-1] in LINE_END_PROHIBITED:
        yield Violation(1, line.page, where, text, f"ends with {text[-1]}")
    if _odd_run(text) or _odd_run(text[::-1]):
        yield Violation(2, line.page, where, text)
    chars = line.chars
    pairs = list(zip(chars, chars[1:], strict=False))
    # The justification gap of this line, from its Han characters: their advance less 1em.
    stretches = sorted(b["x0"] - a["x0"] - em for a, b in pairs if is_han(a["text"]))
    stretch = stretches[len(stretches) // 2] if stretches else 0.0
    for a, b in pairs:
        x, y = a["text"], b["text"]
        if (x in CLOSING and (y in CLOSING or y in OPENING)) or (x in OPENING and y in OPENING):
            # One of the two loses half an em: the second starts ½em after the first, not 1em.
            width = 1 + (b["x0"] - a["x0"] - stretch) / em
            if width > 1.6:
                yield Violation(5, line.page, where, text, f"{x}{y} takes {width:.2f}em")
        if ((is_han(x) and y.isascii() and y.isalnum())
                or (x.isascii() and x.isalnum() and is_han(y))) \
                and b["x0"] - a["x1"] < LATIN_GAP_EM * a["size"]:
            yield Violation(6, line.page, where, text, f"{x}{y}")


def _off_grid(frames: dict[PrintedLine, Frame], pitch: float, where) -> Iterable[Violation]:
    """Rule 9: lines of body text (in the body's font: a heading at the body size may stand
    between two lines of the grid) whose baseline is off the grid most of them follow."""
    def phase(line: PrintedLine) -> float:
        return line.y % pitch

    body_font = Counter(_font(line) for line in frames).most_common(1)[0][0]
    text = [line for line in frames if _font(line) == body_font]
    common = Counter(round(phase(line) * 2) / 2 for line in text).most_common(1)[0][0]
    for line in text:
        off = (phase(line) - common + pitch / 2) % pitch - pitch / 2
        if abs(off) > FLUSH_TOLERANCE_PT:
            yield Violation(9, line.page, where(line), line.text,
                            f"{off:+.1f}pt off the line grid")


def _widest_han_gap(line: PrintedLine, em: float) -> float:
    """How much the widest gap between two adjacent Han characters of `line` was widened."""
    return max((b["x0"] - a["x0"] - em for a, b in zip(line.chars, line.chars[1:], strict=False)
                if is_han(a["text"]) and is_han(b["text"])), default=0.0)


def _page_names(reader) -> list[str]:
    """Each page's printed label (封面, 1, 2 …, 封底), as build warnings name pages; none
    for a PDF without page labels, whose pages pypdf would number 1, 2 … all the same."""
    if "/PageLabels" not in reader.root_object:
        return []
    return list(reader.page_labels)


def _missing_glyphs(reader) -> list[Violation]:
    """Rule 8 from the PDF's fonts: every font program embedded, every glyph used present."""
    from fontTools.ttLib import TTFont

    found: list[Violation] = []
    seen: set[int] = set()
    for number, page in enumerate(reader.pages, 1):
        for font in _fonts(page.get("/Resources"), seen):
            name = _base_font(str(font.get("/BaseFont", "?")))
            if font.get("/Subtype") == "/Type3":
                continue
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font \
                else font
            descriptor = descendant.get("/FontDescriptor")
            program = None
            if descriptor is not None:
                descriptor = descriptor.get_object()
                program = next((descriptor[k].get_object() for k in
                                ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor),
                               None)
            if program is None:
                found.append(Violation(8, number, "page", name, "font not embedded"))
                continue
            used = _widths_cids(descendant.get("/W", []))
            try:
                glyphs = TTFont(io.BytesIO(program.get_data()))["maxp"].numGlyphs
            except Exception:  # a Type 1 or bare CFF program: no glyph count to compare
                continue
            missing = sorted(cid for cid in used if cid == 0 or cid >= glyphs)
            if missing:
                chars = _to_unicode(font, missing)
                found.append(Violation(8, number, "page", name,
                                       f"no glyph for {chars or 'some characters'}"))
    return found


def _fonts(resources, seen: set[int]) -> Iterable:
    """Fonts of a resource dictionary and of the forms it uses, each font once."""
    if resources is None:
        return
    resources = resources.get_object()
    for ref in (resources.get("/Font") or {}).values():
        key = getattr(ref, "idnum", id(ref))
        if key not in seen:
            seen.add(key)
            yield ref.get_object()
    for ref in (resources.get("/XObject") or {}).values():
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Form":
            yield from _fonts(xobject.get("/Resources"), seen)


def _widths_cids(widths) -> set[int]:
    """The CIDs listed in a CIDFont's /W array (WeasyPrint lists exactly the glyphs it drew)."""
    cids: set[int] = set()
    items = [w.get_object() if hasattr(w, "get_object") else w for w in widths]
    i = 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], list):
            cids.update(range(first, first + len(items[i + 1])))
            i += 2
        else:
            cids.update(range(first, int(items[i + 1]) + 1))
            i += 3
    return cids


def _to_unicode(font, cids: list[int]) -> str:
    if "/ToUnicode" not in font:
        return ""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    chars = []
    for source, target in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", cmap):
        if int(source, 16) in cids and len(target) % 4 == 0:
            chars.append(bytes.fromhex(target).decode("utf-16-be", errors="replace"))
    return " ".join(f"{c} (U+{ord(c[0]):04X})" for c in chars if c)


def _followed(line: PrintedLine, frame: Frame, lines: list[PrintedLine], pitch: float) -> bool:
    """Whether any text (an end note, a box, a heading) stands just below `line` in its frame."""
    return any(other.page == line.page and 0.5 * pitch < other.y - line.y < 2.5 * pitch
               and other.x0 < frame.right and other.x1 > frame.left for other in lines)


def _column_top(line: PrintedLine, frame: Frame, lines: list[PrintedLine],
                block_top: float) -> bool:
    """Whether `line` opens its column: nothing but page furniture (above the text block)
    stands above it in its frame, neither a title nor a byline."""
    return not any(other.page == line.page and block_top - 0.5 < other.y < line.y - 0.5
                   and other.x0 < frame.right and other.x1 > frame.left for other in lines)


def _font(line: PrintedLine) -> str:
    return Counter(_base_font(c["fontname"]) for c in line.chars).most_common(1)[0][0]


def _continues(line: PrintedLine, nxt: PrintedLine, frame: Frame, lines: list[PrintedLine],
               pitch: float, block_top: float) -> bool:
    """Whether the paragraph of `line`, the last body line of its frame, may go on at `nxt`,
    the first of the next frame: the column ends with it and the next one opens with `nxt`,
    in the same font."""
    return (not _followed(line, frame, lines, pitch)
            and _column_top(nxt, Frame(nxt.x0, nxt.x1), lines, block_top)
            and _font(line) == _font(nxt))


def check_pdf(pdf_path: Path) -> CheckReport:
    """Measure every rule on the PDF at `pdf_path`."""
    pdf_path = Path(pdf_path)
    if not pdf_path.is_file():
        raise PublisherError("no such PDF", pdf_path)
    from pdfminer.pdfparser import PDFSyntaxError
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(pdf_path)
        report = CheckReport(violations=_missing_glyphs(reader))
        page_names = _page_names(reader)
        lines = read_printed_lines(pdf_path)
    except (PdfReadError, PDFSyntaxError) as exc:
        raise PublisherError(f"not a readable PDF ({exc})", pdf_path) from None
    report = _measure(report, lines, pdf_path)
    if page_names:
        report.violations = [replace(v, folio=page_names[v.page - 1])
                             for v in report.violations]
    return report


def _measure(report: CheckReport, lines: list[PrintedLine], pdf_path: Path) -> CheckReport:
    """The line and column rules on the PDF's printed `lines`, added to `report`."""
    body = [line for line in lines if line.body]
    if not body and not report.violations:
        raise PublisherError("no body text: nothing to measure", pdf_path)
    if not body:
        return report
    em = Counter(round(c["size"], 1) for line in body for c in line.chars).most_common(1)[0][0]
    frames = find_frames(lines, em)
    names = _column_names(frames) if frames else {}

    def where(line: PrintedLine) -> str:
        frame = frames.get(line)
        return names[line.page, frame] if frame else "outside the columns"

    for line in lines:
        report.violations.extend(_line_rules(line, where(line), em))
    if not frames:  # too few body lines to find a column: only the line rules apply
        return report

    runs = _reading_order(frames, lines, em)
    pitch = Counter(round(b.y - a.y, 1) for run in runs for a, b in zip(run, run[1:], strict=False))
    line_pitch = pitch.most_common(1)[0][0] if pitch else 1.7 * em
    block_top = min(line.y for line in body)
    report.violations.extend(_off_grid(frames, line_pitch, where))
    previous_full = False
    for r, run in enumerate(runs):
        frame = frames[run[0]]
        for i, line in enumerate(run):
            if i + 1 < len(run):
                nxt = run[i + 1]
                if abs(nxt.y - line.y - line_pitch) > 0.5:
                    nxt = None  # a heading, figure or box between: the paragraph ended
                nxt_frame = frame
            elif r + 1 < len(runs) and _continues(line, runs[r + 1][0], frame, lines,
                                                  line_pitch, block_top):
                nxt = runs[r + 1][0]  # the column ends here: the next frame may go on with it
                nxt_frame = frames[nxt]
            else:
                nxt = nxt_frame = None
            indented = nxt is not None and abs(nxt.x0 - nxt_frame.left - INDENT_EM * em) < 0.5
            full = nxt is not None and not indented
            if full:
                report.full_lines += 1
                if abs(line.x1 - frame.right) <= FLUSH_TOLERANCE_PT:
                    report.flush_lines += 1
                else:
                    report.violations.append(Violation(
                        4, line.page, where(line), line.text,
                        f"ends {line.x1 - frame.right:+.1f}pt from the edge"))
                if (widest := _widest_han_gap(line, em)) > LOOSE_EM * em:
                    report.violations.append(Violation(
                        10, line.page, where(line), line.text,
                        f"a gap between Han characters widened by {widest:.1f}pt"))
            else:
                if sum(map(counts_as_character, line.text)) < 2:
                    report.violations.append(Violation(7, line.page, where(line), line.text,
                                                       "one-character last line"))
                top = i == 0
                continues = abs(line.x0 - frame.left) < 0.5
                if top and continues and previous_full:
                    report.violations.append(Violation(7, line.page, where(line), line.text,
                                                       "last line alone at a column top"))
            previous_full = full
    report.violations.sort(key=lambda v: (v.page, v.column, v.rule))
    return report
