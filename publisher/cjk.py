"""Chinese characters and punctuation: the classes every part of the tool shares (the print
pass, justification, `publisher check`, the importer, the EPUB's line breaking)."""

from __future__ import annotations

import re
from functools import lru_cache

# In simplified Chinese fonts these marks sit in the left half of their em, blank on the right.
CLOSING = frozenset("，。、：；！？）】》」』”’〉〕")
# These sit in the right half, blank on the left.
OPENING = frozenset("（【《「『“‘〈〔")
# Marks that may end a line at half width, their blank half past the column's edge (clreq).
LINE_END_COMPRESSIBLE = CLOSING - {"！", "？"}
# GB/T 15834 and clreq: marks that may not open a line (the closing ones, and the middle dot
# of a transliterated name), and marks that may not close one.
LINE_START_PROHIBITED = CLOSING | {"·"}
LINE_END_PROHIBITED = OPENING
# Unicode line breaking never breaks before a quotation mark.
OPENING_QUOTES = frozenset("“‘")
CLOSING_QUOTES = frozenset("”’")
# A zero-width space: a break opportunity that prints nothing.
BREAK = "\u200b"
# Marks printed doubled (—— and ……): a pair is one mark, never split by a break or a gap.
DOUBLED_MARKS = "—…"

# Han characters: unified ideographs, extension A, compatibility ideographs, extensions B on.
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
HAN_CHAR = re.compile(f"[{HAN}]")
# Characters set on the em grid: Han, radicals, CJK symbols and punctuation, kana, CJK
# compatibility forms, full-width forms, and the marks the Chinese font sets full width.
CJK = re.compile(f"[{HAN}\u2e80-\u9fff\ufe30-\ufe4f\uff00-\uffef“”‘’—…·]")

def is_han(char: str) -> bool:
    """Whether `char` is a Chinese character (an ideograph, not punctuation)."""
    return HAN_CHAR.fullmatch(char) is not None


@lru_cache(maxsize=4096)  # justification asks for every pair of characters of every line
def is_cjk(char: str) -> bool:
    """Whether `char` is set on the em grid: Han, kana, CJK and full-width punctuation."""
    return CJK.fullmatch(char) is not None


def splits_doubled_mark(before: str, after: str) -> bool:
    """Whether a break or a gap between `before` and `after` would split a doubled mark."""
    return before == after and before in DOUBLED_MARKS


def is_latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def counts_as_character(char: str) -> bool:
    """A character that makes a line: not a space, not punctuation (for rule 7)."""
    return char.isalnum()
