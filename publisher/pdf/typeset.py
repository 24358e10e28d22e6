"""Chinese text rules applied to the print HTML before layout (rules 1, 2, 5, 6, 7 of those
`publisher check` measures, listed in publisher/check.py).

`typeset(html)` rewrites the text of the page, never its sources or tags:
- a space between a Han character and a Latin letter or digit (rule 6): the space of Noto
  Serif CJK SC is 0.256em, and WeasyPrint drops it at a line's start or end;
- `<span class="nobr">` around `——`, `……` and a character followed by `·` (rules 1, 2), and
  around the last two characters of a paragraph or heading with the marks after them, so that
  none ends with a line of one character (rule 7);
- `<span class="halt">` on one mark of each pair of adjacent full-width marks (rule 5): the
  font has `halt` (half-width alternates) but not `chws`, so the mark whose blank half faces the
  other loses it and the pair takes 1.5em.
The classes are styled by `layouts/cjk.css`.
"""

from __future__ import annotations

import re
from html import escape, unescape

from publisher.cjk import (
    CLOSING,
    DOUBLED_MARKS,
    OPENING,
    OPENING_QUOTES,
    counts_as_character,
    is_han,
    is_latin,
)

# Placeholders for the spans while the text is still plain: private-use characters that the
# sources cannot contain (source/markup.py escapes text; the pass runs on generated HTML only).
_OPEN = {"nobr": "\ue000", "halt": "\ue001"}
_CLOSE = "\ue002"
_PLACEHOLDERS = frozenset((*_OPEN.values(), _CLOSE))
_NOBR = re.compile("|".join([*(f"{m}{{2,}}" for m in DOUBLED_MARKS), r"[^\s·]·"]))
_TAG = re.compile(r"(<[^>]*>)")
_INLINE_TAG = re.compile(r"</?(a|abbr|b|cite|em|i|q|small|span|strong|sub|sup|u)\b", re.I)
_PARAGRAPH = re.compile(r"(<(p|h[1-6])\b[^>]*>)(.*?)(</\2>)", re.S)
_SKIPPED = re.compile(r"<(style|script|head|title)\b.*?</\1>", re.S)


def _wrap(kind: str, text: str) -> str:
    return f"{_OPEN[kind]}{text}{_CLOSE}"


def _spaced(before: str, after: str) -> bool:
    return (is_han(before) and is_latin(after)) or (is_latin(before) and is_han(after))


def _halted(before: str, char: str, after: str) -> bool:
    """Whether `char` loses its blank half: the half that faces the neighbouring mark.

    Only pairs that no line break can separate: a halved mark at a line's end or start would
    leave the em grid (`》（` may break, so it keeps 2em).
    """
    if char in CLOSING:
        return after in CLOSING or after in OPENING_QUOTES
    return char in OPENING and before in OPENING


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
    spaces, halts = set(), set()
    for k, (n, i, char) in enumerate(real):
        before = real[k - 1] if k else (n, -1, "")
        after = real[k + 1][2] if k + 1 < len(real) else ""
        if before[2] and char and _spaced(before[2], char):
            spaces.add(before[:2])
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
            if (n, i) in spaces:
                chars.append(" ")
        out.append("".join(chars))
    return out


def _keep_last_line(paragraph: str) -> str:
    """Wrap the paragraph's last two characters and the marks after them in no-break spans,
    one per text node when inline tags come between (`<em>文档</em>。”`)."""
    parts = _TAG.split(paragraph)
    needed = 2
    for index in range(len(parts) - 1, -1, -2):  # text parts sit at even indices
        text = unescape(parts[index])
        if not text.strip():
            continue
        positions = [i for i, c in enumerate(text) if counts_as_character(c)]
        start = positions[-needed] if len(positions) >= needed else 0
        parts[index] = escape(text[:start], quote=False) + _wrap(
            "nobr", escape(text[start:], quote=False))
        needed -= min(len(positions), needed)
        if not needed:
            break
    return "".join(parts)


def _render_placeholders(text: str) -> str:
    for kind, mark in _OPEN.items():
        text = text.replace(mark, f'<span class="{kind}">')
    return text.replace(_CLOSE, "</span>")


def _text_nodes(html: str) -> str:
    parts = _TAG.split(html)
    # Text parts are at even indices; a block-level tag between two of them separates them.
    texts: list[str | None] = []
    for index, part in enumerate(parts):
        if index % 2:
            if not _INLINE_TAG.match(part):
                texts.append(None)
        else:
            texts.append(unescape(part))
    done = iter(t for t in _texts(texts) if t is not None)
    return "".join(part if index % 2 else escape(next(done), quote=False)
                   for index, part in enumerate(parts))


def typeset(html: str) -> str:
    """Return `html` with the Chinese text rules applied to its text, outside head and scripts."""
    html = _PARAGRAPH.sub(lambda m: m.group(1) + _keep_last_line(m.group(3)) + m.group(4), html)
    out, position = [], 0
    for skipped in _SKIPPED.finditer(html):
        out += [_text_nodes(html[position:skipped.start()]), skipped.group()]
        position = skipped.end()
    out.append(_text_nodes(html[position:]))
    return _render_placeholders("".join(out))
