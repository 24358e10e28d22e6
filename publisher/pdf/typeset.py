"""Chinese text rules applied to the print document before layout (rules 1, 2, 5, 6, 7 of those
`publisher check` measures, listed in publisher/check.py).

`typeset(root)` works on the element tree WeasyPrint lays out (parsed once, never serialised
again) and changes its text, never its sources or the elements the templates made:
- a space between a Han character and a Latin letter or digit (rule 6): the space of Noto
  Serif CJK SC is 0.256em, and WeasyPrint drops it at a line's start or end;
- `<span class="nobr">` around `——`, `……` and a character followed by `·` (rules 1, 2), and
  around the last two characters of a paragraph or heading with the marks after them, so that
  none ends with a line of one character (rule 7);
- a zero-width space, a break opportunity, before “ and after ” between Chinese characters
  (rule 4: Unicode line breaking binds quotation marks to both neighbours, and a line that
  cannot break there is left short and loose);
- `<span class="halt">` on one mark of each pair of adjacent full-width marks (rule 5): the
  font has `halt` (half-width alternates) but not `chws`, so the mark whose blank half faces the
  other loses it and the pair takes 1.5em;
- `<span class="quote">` around each quotation mark of the text set in 楷 (编者按, 微书摘,
  bylines, captions): LXGW WenKai has only narrow, proportional “ ” ‘ ’, which the layouts
  replace with 宋's full-width ones.
The classes are styled by `layouts/cjk.css`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from publisher import recent
from publisher.cjk import (
    BREAK,
    CLOSING,
    CLOSING_QUOTES,
    DOUBLED_MARKS,
    LINE_START_PROHIBITED,
    OPENING,
    OPENING_QUOTES,
    counts_as_character,
    is_cjk,
    is_han,
    is_latin,
)

# The rules first mark the text with placeholders, private-use characters that the sources
# cannot contain (source/markup.py escapes text), and the marks then become span elements.
_OPEN = {"nobr": "\ue000", "halt": "\ue001", "quote": "\ue003"}
_KINDS = {mark: kind for kind, mark in _OPEN.items()}
_CLOSE = "\ue002"
_PLACEHOLDERS = frozenset((*_OPEN.values(), _CLOSE))

_NOBR = re.compile("|".join([*(f"{m}{{2,}}" for m in DOUBLED_MARKS), r"[^\s·]·"]))
# Elements inside which characters stay neighbours; any other element parts the text.
_INLINE = frozenset(("a", "abbr", "b", "cite", "em", "i", "q", "small", "span", "strong", "sub",
                     "sup", "u"))
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_PARAGRAPHS = frozenset(("p", *_HEADINGS))
_SKIPPED = frozenset(("style", "script", "head", "title"))
# What the layouts set in 楷: by class, and captions.
_KAI_CLASSES = frozenset(("editor-note", "excerpt", "byline", "dateline", "toc-author"))
_QUOTES = OPENING_QUOTES | CLOSING_QUOTES


def _wrap(kind: str, text: str) -> str:
    return f"{_OPEN[kind]}{text}{_CLOSE}"


def _spaced(before: str, after: str) -> bool:
    return (is_han(before) and is_latin(after)) or (is_latin(before) and is_han(after))


def _halted(before: str, char: str, after: str) -> bool:
    """Whether `char` loses its blank half: the half that faces the neighbouring mark. In
    every pair, `》《` too: where a break parts it, the closing mark ends its line at half width,
    as justification sets a mark at a line's end when that helps the line fit."""
    if char in CLOSING:
        return after in CLOSING or after in OPENING
    return char in OPENING and before in OPENING


def _quote_break(before: str, char: str) -> bool:
    """Whether a line may break between `before` and `char` where Unicode line breaking would
    not: it never breaks before “ or after ”, which in Chinese open and close like brackets."""
    if char in OPENING_QUOTES:
        return is_cjk(before) and before not in OPENING
    return before in CLOSING_QUOTES and is_cjk(char) and char not in LINE_START_PROHIBITED


def _texts(texts: list[str | None]) -> list[str | None]:
    """Apply the character rules to a run of text nodes (plain text, placeholders allowed);
    `None` marks a block boundary, across which characters are not neighbours."""
    texts = [t if t is None else _NOBR.sub(lambda m: _wrap("nobr", m.group()), t) for t in texts]
    # Neighbours are the real characters on either side, whatever tags or placeholders lie
    # between: `**…机制。**“三建` pairs 。 and “.
    real: list[tuple[int, int, str]] = []
    for n, text in enumerate(texts):
        if text is None:
            real.append((n, -1, ""))
        else:
            real += [(n, i, c) for i, c in enumerate(text) if c not in _PLACEHOLDERS]
    inserted: dict[tuple[int, int], str] = {}  # what follows a character
    halts = set()
    for k, (n, i, char) in enumerate(real):
        before = real[k - 1] if k else (n, -1, "")
        after = real[k + 1][2] if k + 1 < len(real) else ""
        if before[2] and char and _spaced(before[2], char):
            inserted[before[:2]] = " "
        if before[2] and char and _quote_break(before[2], char):
            inserted[before[:2]] = BREAK
        if char and _halted(before[2], char, after):
            halts.add((n, i))
    out: list[str | None] = []
    for n, text in enumerate(texts):
        if text is None:
            out.append(None)
            continue
        chars = []
        for i, char in enumerate(text):
            chars.append(_wrap("halt", char) if (n, i) in halts else char)
            chars.append(inserted.get((n, i), ""))
        out.append("".join(chars))
    return out


# Each block's marked texts (`_texts`), by its texts: after an edit, a warm process marks
# again only the blocks the edit changed (the pass took 5 ms of each edit's build).
_marked_blocks: dict[tuple[str, ...], list[str]] = {}
_MOST_BLOCKS = 8192


def _marked(texts: list[str | None]) -> list[str | None]:
    """`_texts(texts)`, block by block: no character has a neighbour across a `None`."""
    marked: list[str | None] = []
    block: list[str] = []
    for text in [*texts, None]:
        if text is not None:
            block.append(text)
            continue
        if block:
            key = tuple(block)
            found = _marked_blocks.get(key)
            if found is None:
                found = recent.keep(_marked_blocks, key, _texts(block), _MOST_BLOCKS)
            marked += found
            block = []
        marked.append(None)
    return marked[:-1]


class _Slot:
    """One text node of the tree: the text of `element`, or its tail."""

    def __init__(self, element: Element, tail: bool):
        self.element, self.tail = element, tail

    @property
    def text(self) -> str:
        return (self.element.tail if self.tail else self.element.text) or ""

    @text.setter
    def text(self, value: str) -> None:
        value = value or None  # as the parser leaves a missing text
        if self.tail:
            self.element.tail = value
        else:
            self.element.text = value


def _keep_last_line(slots: list[_Slot]) -> None:
    """Wrap the paragraph's last two characters and the marks after them in no-break spans,
    one per text node when inline elements come between (`<em>文档</em>。”`)."""
    needed = 2
    for slot in reversed(slots):
        text = slot.text
        if not text.strip():
            continue
        positions = [i for i, c in enumerate(text) if counts_as_character(c)]
        start = positions[-needed] if len(positions) >= needed else 0
        slot.text = text[:start] + _wrap("nobr", text[start:])
        needed -= min(len(positions), needed)
        if not needed:
            break


def _slots(element: Element, skip_tail: bool = False) -> Iterator[_Slot | None]:
    """The text nodes of `element` in document order, `None` where a block-level tag (an
    element that is not inline, a comment) parts them; head, styles and scripts are left out."""
    inline = element.tag in _INLINE
    if isinstance(element.tag, str) and element.tag not in _SKIPPED:
        if not inline:
            yield None
        yield _Slot(element, tail=False)
        for child in element:
            yield from _slots(child)
    if not inline:
        yield None
    if not skip_tail:
        yield _Slot(element, tail=True)


def _render(marked: str) -> Element:
    """Plain text with placeholders as an element whose text and children are that text with
    span elements for the placeholders."""
    holder = Element("span")
    open_spans = [holder]
    for char in marked:
        if char in _KINDS:
            span = Element("span", {"class": _KINDS[char]})
            open_spans[-1].append(span)
            open_spans.append(span)
        elif char == _CLOSE:
            open_spans.pop()
        elif len(open_spans[-1]):
            last = open_spans[-1][-1]
            last.tail = (last.tail or "") + char
        else:
            open_spans[-1].text = (open_spans[-1].text or "") + char
    return holder


def typeset(root: Element) -> None:
    """Apply the Chinese text rules to the text of the document `root` (an element tree as
    WeasyPrint parses it), outside head, styles and scripts."""
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in root.iter():
        if element.tag in _PARAGRAPHS:
            _keep_last_line([s for s in _slots(element, skip_tail=True) if s is not None])
    # Headings are set line by line and named in the bookmarks: no break opportunities there.
    headings = {e for h in root.iter() if h.tag in _HEADINGS for e in h.iter()}
    kai = {e for k in root.iter() if k.tag == "figcaption"
           or _KAI_CLASSES & set((k.get("class") or "").split()) for e in k.iter()}
    slots = list(_slots(root, skip_tail=True))
    marked = _marked([None if s is None else s.text for s in slots])
    for slot, text in zip(slots, marked, strict=True):
        if slot is None:
            continue
        owner = parents.get(slot.element) if slot.tail else slot.element
        if owner in kai:
            text = "".join(_wrap("quote", c) if c in _QUOTES else c for c in text)
        rendered = _render(text.replace(BREAK, "") if owner in headings else text)
        slot.text = rendered.text
        if slot.tail:
            parent = parents[slot.element]
            at = list(parent).index(slot.element) + 1
            parent[at:at] = list(rendered)
        else:
            slot.element[0:0] = list(rendered)
