"""`publisher lint`: copy-editing checks for simplified Chinese, on an issue's sources.

Every text an item prints (front matter values and the Markdown body, markup removed) is checked
with each character's file line and column kept, so that a finding points at the source. Rules
that need words use jieba (with the magazine's user dictionary). Precision comes first: a rule
reports only what is wrong in any context, and the 的/地/得 rule only above a confidence.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from publisher import words
from publisher.cjk import HAN, is_cjk, is_han
from publisher.desk import CONFUSABLES, LINT_RULES
from publisher.errors import PublisherError, SourceError, read_utf8, read_utf8_inside
from publisher.output import atomic_output
from publisher.source.load import MANIFEST, load_issue, review_notes
from publisher.source.model import Article, Issue

# 的/地/得 findings below this confidence are not reported: editors stop reading a lint that
# cries wolf.
DE_CONFIDENCE = 0.6
# `[//]: # (lint: disable doubled)` on the line before a body line, or `# lint: disable doubled`
# at the end of a front matter line, switches rules off for that line (all when none is named).
LINE_DISABLE = re.compile(r"(?:^\[//\]: # \(|#\s*)lint: disable\b([^)]*)\)?\s*$")
# Issue-level additions to the confusables table, in the same form.
ISSUE_CONFUSABLES = "confusables.tsv"

PAIRS = {"“": "”", "‘": "’", "（": "）", "《": "》", "【": "】", "「": "」"}
CLOSERS = {close: open_ for open_, close in PAIRS.items()}
HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
# Signs with a half-width and a full-width form: an issue should use one of them.
SIGN_FORMS = [("+", "＋"), ("%", "％"), ("~", "～"), ("=", "＝")]
CLAUSE_MARKS = "，。、；：？！"
# Repeated ? and ! are emphasis the standard allows: ？！ ！！ ？？
EMPHATIC = set("？！")
CLOSING_QUOTES = "”’」』）》"
SENTENCE_END = "。？！"


@dataclass(frozen=True)
class Text:
    """A run of printed text and the (line, column) in `path` of each of its characters."""

    path: Path
    text: str
    places: tuple[tuple[int, int], ...]
    kind: str  # "body", "title" (headlines), or "field" (other front matter)
    disabled: tuple[frozenset[str], ...]  # rules switched off, per character


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    col: int
    rule: str
    message: str
    found: str
    suggestion: str
    replacement: str | None = None  # what `--fix` writes instead of `found`; None: judgement

    @property
    def fixable(self) -> bool:
        return self.replacement is not None

    def __str__(self) -> str:
        return (f"{self.path}:{self.line}:{self.col}: {self.rule}: {self.message}: "
                f"{self.found!r} → {self.suggestion!r}")


@dataclass
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    fixed: int = 0

    def format(self) -> str:
        lines = [str(f) for f in self.findings]
        if self.fixed:
            lines.append(f"fixed {self.fixed} finding(s)")
        lines.append(f"{len(self.findings)} finding(s)")
        return "\n".join(lines)


def finding(text: Text, start: int, end: int, rule: str, message: str, suggestion: str,
            fixable: bool = False) -> Finding | None:
    """A finding on text[start:end], or None where the rule is switched off for that line.
    A fixable one is fixed by writing `suggestion` in place of the text."""
    if rule in text.disabled[start]:
        return None
    line, col = text.places[start]
    # A fix replaces columns of one file line, so the span must be contiguous there.
    contiguous = all(text.places[i] == (line, col + i - start) for i in range(start, end))
    return Finding(text.path, line, col, rule, message, text.text[start:end], suggestion,
                   suggestion if fixable and contiguous else None)


# ---- reading the sources into texts -----------------------------------------------------------

# Markdown markup that does not print: heading marks, bold, an image's brackets, file and
# options ({width=60 span=page}, whose = would count against the text's ＝).
MARKUP = re.compile(r"^#{1,6}\s+|\*\*|!\[|\]\([^)]*\)(?:\{[^}]*\})?")
# A thematic break (---, * * *, ___) is a rule between paragraphs, not a dash typed as --.
THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")


def _disabled_rules(spec: str) -> frozenset[str]:
    names = frozenset(re.findall(r"[a-z-]+", spec))
    return names or frozenset(LINT_RULES)


def body_texts(article: Article, lines: list[str]) -> Iterator[Text]:
    """The body's paragraphs (consecutive non-blank lines), markup removed."""
    text, places, disabled = [], [], []
    line_disabled: frozenset[str] = frozenset()

    def flush():
        if text:
            yield Text(article.path, "".join(text), tuple(places), "body", tuple(disabled))
        text.clear(), places.clear(), disabled.clear()

    for number in range(article.body_line, len(lines) + 1):
        raw = lines[number - 1]
        switch = LINE_DISABLE.match(raw.strip())
        if switch:
            line_disabled = _disabled_rules(switch[1])
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith(":::") or THEMATIC_BREAK.fullmatch(raw):
            yield from flush()
            line_disabled = frozenset() if not stripped else line_disabled
            continue
        kept = _without_markup(raw)
        for col, char in kept:
            text.append(char)
            places.append((number, col))
            disabled.append(line_disabled)
        line_disabled = frozenset()
    yield from flush()


def _without_markup(raw: str) -> list[tuple[int, str]]:
    """The printed characters of a Markdown line with their 1-based columns."""
    dropped = set()
    for match in MARKUP.finditer(raw):
        dropped.update(range(match.start(), match.end()))
    line = raw.rstrip()
    start = len(line) - len(line.lstrip())
    return [(i + 1, c) for i, c in enumerate(line) if i >= start and i not in dropped]


def front_matter_texts(article: Article, lines: list[str]) -> Iterator[Text]:
    """Front matter values that print, each at the line and column where it is written."""
    values: list[tuple[str, str]] = [(article.kicker or "", "title")]
    values += [(line, "title") for line in (*article.title, article.toc_title or "")]
    values.append((article.subtitle or "", "title"))
    for person in article.byline:
        values += [(v, "field") for v in (person.name, person.position, person.organisation) if v]
    values += [(article.dateline or "", "field"), (article.editor_note or "", "field")]
    if article.end_note:
        values.append((article.end_note.text, "field"))
    yield from located_texts(article.path, lines[: article.body_line - 1], values)


def located_texts(path: Path, lines: list[str], values: list[tuple[str, str]]) -> Iterator[Text]:
    after = (0, 0)  # values are mostly in file order: each is looked for after the one before
    for value, kind in values:
        if not value:
            continue
        found = _find(lines, value, after) or _find(lines, value, (0, 0))
        if found:
            number, col = found
            switch = LINE_DISABLE.search(lines[number])
            disabled = _disabled_rules(switch[1]) if switch else frozenset()
            places = tuple((number + 1, col + 1 + i) for i in range(len(value)))
            yield Text(path, value, places, kind, (disabled,) * len(value))
            after = (number, col + len(value))
        elif written := _written_over_lines(lines, value, after):
            disabled = tuple(_disabled_rules(switch[1]) if (
                switch := LINE_DISABLE.search(lines[number - 1])) else frozenset()
                for number, _ in written)
            yield Text(path, value, written, kind, disabled)
            after = (written[-1][0] - 1, written[-1][1])
        else:
            # Folded over several YAML lines (`>`): point at the first line of the front matter.
            places = tuple((1, 1) for _ in value)
            yield Text(path, value, places, kind, (frozenset(),) * len(value))


def _written_over_lines(lines: list[str], value: str,
                        start: tuple[int, int]) -> tuple[tuple[int, int], ...] | None:
    """Where each character of `value` is written (line, column, from 1) when it is written
    over several lines (a YAML `|` block), each of its line ends at the end of its line; None
    where a line of it is not found."""
    places: list[tuple[int, int]] = []
    number, col = start
    for segment in value.split("\n"):
        if segment:
            found = _find(lines, segment, (number, col))
            if found is None:
                return None
            number, col = found
        places += [(number + 1, col + 1 + i) for i in range(len(segment) + 1)]
        number, col = number + 1, 0
    return tuple(places[:len(value)])


def _find(lines: list[str], value: str, start: tuple[int, int]) -> tuple[int, int] | None:
    """Where `value` is first written at or after (line, column) `start`, both from 0."""
    first, col = start
    for number in range(first, len(lines)):
        at = lines[number].find(value, col if number == first else 0)
        if at >= 0:
            return number, at
    return None


# ---- rules -----------------------------------------------------------------------------------


def rule_pairs(text: Text, context: LintContext) -> Iterator[Finding | None]:
    """Quotes, brackets and title marks: each opener closed by its own closer, in order.

    A closer with nothing open, followed by another closer of its kind, is an opener typed the
    wrong way round (”三严三实”); an opener inside its own kind followed by no closer is a closer
    typed the wrong way round. A paragraph of a quotation that runs over paragraphs opens with
    “ and closes only in its last paragraph (GB/T 15834 4.1.3.4).
    """
    s = text.text
    marks = [(i, c) for i, c in enumerate(s) if c in PAIRS or c in CLOSERS]
    stack: list[tuple[int, str]] = []
    for k, (i, c) in enumerate(marks):
        family = c if c in PAIRS else CLOSERS[c]
        later = [m for _, m in marks[k + 1:] if m in (family, PAIRS[family])]
        if c in PAIRS:
            if stack and stack[-1][1] == c and c in "“‘" and (not later or later[0] == c):
                yield finding(text, i, i + 1, "pairs", f"{c} where the quotation closes",
                              PAIRS[c])
                stack.pop()
            else:
                stack.append((i, c))
        elif stack and stack[-1][1] == family:
            stack.pop()
        elif any(o == family for _, o in stack):
            j, o = stack[-1]
            yield finding(text, j, i + 1, "pairs", f"{o} closed by {c}", f"{o}…{PAIRS[o]}")
            while stack[-1][1] != family:
                stack.pop()
            stack.pop()
        elif stack and PAIRS[stack[-1][1]] not in s[i:]:
            j, o = stack.pop()  # （准则】: the opener's own closer never comes
            yield finding(text, j, i + 1, "pairs", f"{o} closed by {c}", f"{o}…{PAIRS[o]}")
        elif later and later[0] == c and family in "“‘":
            yield finding(text, i, i + 1, "pairs", f"{c} where the quotation opens", family)
            stack.append((i, family))
        else:
            yield finding(text, i, i + 1, "pairs", f"{c} closes nothing", f"{family}…{c}")
    for i, c in stack:
        if c == "“" and context.next_opens_quote(text):
            continue
        yield finding(text, i, i + 1, "pairs", f"{c} is never closed", f"{c}…{PAIRS[c]}")


def rule_halfwidth(text: Text, context: LintContext) -> Iterator[Finding | None]:
    """, ; : ? ! ( ) beside Chinese text are typed half-width by mistake; a half-width bracket
    counts when its pair holds Chinese or either of the pair touches it: both brackets of a
    pair are found, or neither, so that --fix never leaves (1）."""
    s = text.text
    partners = _partners(s)
    for i, c in enumerate(s):
        if c not in HALF_TO_FULL:
            continue
        before = s[i - 1] if i else ""
        after = s[i + 1] if i + 1 < len(s) else ""
        if c in "()":
            start, end = sorted((i, partners.get(i, i)))
            touching = s[max(start - 1, 0):start] + s[start + 1:start + 2] + s[end - 1:end] \
                + s[end + 1:end + 2]
            chinese = any(map(is_han, s[start + 1:end])) or any(map(is_cjk, touching))
        else:
            chinese = (bool(before) and is_cjk(before)) or (bool(after) and is_cjk(after))
            chinese = chinese and not (before.isdigit() and after.isdigit())  # 9:30, 4:6
        if chinese:
            yield finding(text, i, i + 1, "halfwidth", f"half-width {c} in Chinese text",
                          HALF_TO_FULL[c], fixable=True)
    yield from _straight_quotes(text)


def _straight_quotes(text: Text) -> Iterator[Finding | None]:
    """Straight double quotes typed on a Latin keyboard ("好"): taken in pairs, the first
    opening, as brackets are, so that --fix turns both or neither (never “Hello"). A pair
    counts when it holds Chinese or either quote touches it; a quote left without a partner
    is a judgement call."""
    s = text.text
    quotes = [i for i, c in enumerate(s) if c == '"']
    for k in range(0, len(quotes), 2):
        pair = quotes[k:k + 2]
        start, end = pair[0], pair[-1]
        touching = "".join(s[max(i - 1, 0):i] + s[i + 1:i + 2] for i in pair)
        if not (any(map(is_han, s[start + 1:end])) or any(map(is_cjk, touching))):
            continue
        if len(pair) == 1:
            yield finding(text, start, start + 1, "halfwidth",
                          'half-width " in Chinese text', "“ or ”")
            continue
        for at, mark in zip(pair, "“”", strict=True):
            yield finding(text, at, at + 1, "halfwidth", 'half-width " in Chinese text', mark,
                          fixable=True)


def _partners(s: str) -> dict[int, int]:
    """Each half-width bracket of the text that has a partner, with its partner's place: the
    brackets nest, as in (Doc (2015) No.3)."""
    partners: dict[int, int] = {}
    opened: list[int] = []
    for i, c in enumerate(s):
        if c == "(":
            opened.append(i)
        elif c == ")" and opened:
            start = opened.pop()
            partners[start], partners[i] = i, start
    return partners


FULLWIDTH_ALNUM = re.compile(r"[０-９Ａ-Ｚａ-ｚ]+")


def rule_fullwidth(text: Text, context: LintContext) -> Iterator[Finding | None]:
    for match in FULLWIDTH_ALNUM.finditer(text.text):
        yield finding(text, match.start(), match.end(), "fullwidth",
                      "full-width digits or letters", unicodedata.normalize("NFKC", match[0]),
                      fixable=True)


def rule_mixed_forms(text: Text, context: LintContext) -> Iterator[Finding | None]:
    for i, c in enumerate(text.text):
        other = context.preferred_sign.get(c)
        if other:
            counts = context.sign_counts
            yield finding(text, i, i + 1, "mixed-forms",
                          f"this issue writes {other} {counts[other]} time(s) and {c} "
                          f"{counts[c]} time(s): use one", other)


SEQUENCE = re.compile(f"[{CLAUSE_MARKS}]{{2,}}")
DOUBLE_END = re.compile(f"([{SENTENCE_END}])([{CLOSING_QUOTES}]+)([{SENTENCE_END}])")


def rule_sequence(text: Text, context: LintContext) -> Iterator[Finding | None]:
    s = text.text
    for match in SEQUENCE.finditer(s):
        run = match[0]
        if set(run) <= EMPHATIC or set(run) == {"。"} and len(run) >= 3:  # ？！ ; 。。。 is a dash
            continue
        if len(set(run)) == 1:
            yield finding(text, match.start(), match.end(), "sequence", f"{run[0]} typed twice",
                          run[0], fixable=True)
        else:
            yield finding(text, match.start(), match.end(), "sequence",
                          "two marks where one belongs", " or ".join(dict.fromkeys(run)))
    for match in DOUBLE_END.finditer(s):
        yield finding(text, match.start(), match.end(), "sequence",
                      "the sentence ends both inside and outside the closing mark",
                      f"{match[1]}{match[2]} or {match[2]}{match[3]}")


DASHES = re.compile(r"-{2,}|―+|－{2,}|\.{3,}|…+|。{3,}|—+|一{2,}")


def rule_dash(text: Text, context: LintContext) -> Iterator[Finding | None]:
    s = text.text
    for match in DASHES.finditer(s):
        run, start, end = match[0], match.start(), match.end()
        before = s[start - 1] if start else ""
        after = s[end] if end < len(s) else ""
        beside_chinese = is_cjk(before or "a") or is_cjk(after or "a") or not before
        if run[0] in "-－―" and beside_chinese:
            yield finding(text, start, end, "dash", "dash typed with other marks", "——",
                          fixable=True)
        elif run[0] in ".。" and (beside_chinese or run[0] == "。"):
            yield finding(text, start, end, "dash", "ellipsis typed with full stops", "……",
                          fixable=True)
        elif run[0] == "…" and len(run) != 2:
            yield finding(text, start, end, "dash", "an ellipsis is two …", "……",
                          fixable=len(run) == 1)
        elif run[0] == "—" and len(run) != 2 and is_han(before or "a") and is_han(after or "a"):
            yield finding(text, start, end, "dash", "a dash is two —", "——", fixable=len(run) == 1)
        elif run[0] == "一" and _typed_dash(s, start, end):
            yield finding(text, start, end, "dash", "a dash typed as 一一", "——")


def _typed_dash(s: str, start: int, end: int) -> bool:
    """一一 is a word (one by one) inside a sentence; as a dash it opens an attribution or
    stands next to a mark."""
    if end - start != 2:
        return end - start > 2
    before = s[start - 1] if start else ""
    after = s[end] if end < len(s) else ""
    return (not before or is_cjk(before) and not is_han(before)
            or bool(after) and is_cjk(after) and not is_han(after))


SPACE = re.compile(r"[ \u3000]+")


def rule_space(text: Text, context: LintContext) -> Iterator[Finding | None]:
    """A space between Chinese characters does not print as the author meant: the layout
    spaces the text. Headlines may part two phrases with a space. In the body the space is
    removed; in names and notes, or between two runs of a name's length in the body, it may
    part two names, where 、 belongs: a judgement call."""
    if text.kind == "title":
        return
    s = text.text
    for match in SPACE.finditer(s):
        start, end = match.start(), match.end()
        if start and end < len(s) and is_cjk(s[start - 1]) and is_cjk(s[end]):
            if text.kind == "body" and not _parts_names(s, start, end):
                yield finding(text, start, end, "space", "space between Chinese characters", "",
                              fixable=True)
            else:
                yield finding(text, start, end, "space", "space between Chinese characters",
                              "nothing, or 、 between two names")


# A Chinese name is two or three characters (a compound surname makes four, rarely).
NAME_LENGTH = range(2, 4)
HAN_RUN = re.compile(f"[{HAN}]*")
HAN_RUN_END = re.compile(f"[{HAN}]*$")


def _parts_names(s: str, start: int, end: int) -> bool:
    """Whether the space at s[start:end] stands between two runs of Han of a name's length
    (出席：王军 杨少春): removing it would run the names together."""
    before = HAN_RUN_END.search(s, 0, start)
    after = HAN_RUN.match(s, end)
    return len(before[0]) in NAME_LENGTH and len(after[0]) in NAME_LENGTH


# Reduplication that is grammar, not a slip: ABAB verbs and adjectives (研究研究), numeral and
# classifier (一个一个), and classifiers (个个).
REDUPLICATING_TAGS = ("v", "a", "m", "q", "z", "d")
# A verb ending in a result or direction (纳入, 提高, 看到) does not reduplicate: 纳入纳入 is
# a slip.
RESULT_COMPLEMENTS = set("入出到开好完上下进回过起成住掉走来去高")


def _reduplicates(word: str, tag: str) -> bool:
    if len(set(word)) == 1:  # a sound (哈哈哈) says itself again and again
        return True
    if not tag.startswith(REDUPLICATING_TAGS):
        return False
    return not (tag.startswith("v") and word[-1] in RESULT_COMPLEMENTS)


# A word said three times is a slip even where saying it twice is reduplication (研究研究);
# one character three times is more often a sound (哈哈哈).
TYPED_THRICE = re.compile(f"([{HAN}]{{2,4}})\\1{{2,}}")


# A character that never says itself twice: a preposition, conjunction, particle, pronoun or
# adverb (those that do, 常常 刚刚, are words of the dictionary), and the copula and modal verbs,
# which jieba tags as any verb.
NOT_TWICE_TAGS = ("p", "c", "u", "r", "d")
NOT_TWICE_VERBS = set("是要会能可应")


def _said_once(char: str) -> bool:
    tag = words.dictionary_tag(char) or ""
    return tag.startswith(NOT_TWICE_TAGS) or char in NOT_TWICE_VERBS


def rule_doubled(text: Text, context: LintContext) -> Iterator[Finding | None]:
    written = text.text
    # 哈哈 said three times is a sound too
    thrice = [m for m in TYPED_THRICE.finditer(written) if len(set(m[1])) > 1]
    for match in thrice:
        unit = match[1]
        yield finding(text, match.start(), match.end(), "doubled",
                      f"{unit} typed {len(match[0]) // len(unit)} times", unit)
    cut = context.words(written)
    for (start, word, tag), (_, next_word, _) in zip(cut, cut[1:], strict=False):
        if (len(word) >= 2 and word == next_word and any(map(is_han, word))
                and not any(m.start() <= start < m.end() for m in thrice)
                and not _reduplicates(word, tag)):
            yield finding(text, start, start + 2 * len(word), "doubled",
                          f"{word} typed twice", word)
    # One character twice between two of jieba's word boundaries, as two words (在在) or one it
    # made up (要要); not a pair that is a word of the dictionary (了了) or stands in one
    # (人人有责), nor one that crosses a boundary (学习习惯, 要要求).
    bounds = {at for at, word, _ in cut} | {at + len(word) for at, word, _ in cut}
    for start in sorted(bounds & {end - 2 for end in bounds}):
        pair = written[start:start + 2]
        if (pair[0] == pair[1] and is_han(pair[0]) and not words.in_dictionary(pair)
                and _said_once(pair[0])):
            yield finding(text, start, start + 2, "doubled", f"{pair[0]} typed twice", pair[0])


# (previous tags, mark, next tags, what follows, right mark, confidence): 的 joins a modifier to
# a noun, 地 an adverbial to a verb, 得 a verb to its complement.
DEGREE = ("很", "非常", "十分", "特别", "极", "相当", "太")


def rule_de(text: Text, context: LintContext) -> Iterator[Finding | None]:
    words = context.words(text.text)
    for k in range(1, len(words) - 1):
        start, word, _ = words[k]
        if word not in "的地得" or len(word) != 1:
            continue
        _, before, before_tag = words[k - 1]
        _, after, after_tag = words[k + 1]
        ends_clause = k + 2 >= len(words) or not any(map(is_han, words[k + 2][1]))
        verb_before = before_tag == "v" and len(before) <= 2
        right, confidence = None, 0.0
        if word in "的地" and verb_before and after.startswith(DEGREE) and ends_clause:
            right, confidence = "得", 0.8  # 跑的很快 → 跑得很快
        elif word in "的得" and before_tag in ("ad", "z") and after_tag == "v" and (
                k + 2 < len(words) and words[k + 2][2] in ("ul", "uz", "ug")):
            right, confidence = "地", 0.7  # 认真的学习了 → 认真地学习了
        elif word in "地得" and before_tag == "a" and after_tag == "n" and (
                k + 2 >= len(words) or not any(map(is_han, words[k + 2][1]))):
            right, confidence = "的", 0.6  # 美丽地花园。 → 美丽的花园。
        if right and confidence >= DE_CONFIDENCE:
            yield finding(text, start, start + 1, "de",
                          f"{before}{word}{after}: {right} reads better "
                          f"(confidence {confidence:.1f})", f"{before}{right}{after}")


def rule_confusable(text: Text, context: LintContext) -> Iterator[Finding | None]:
    s = text.text
    for wrong, (right, note) in context.confusables.items():
        for match in re.finditer(re.escape(wrong), s):
            if context.splits_a_word(s, match.start(), match.end()):
                continue
            yield finding(text, match.start(), match.end(), "confusable",
                          f"commonly confused ({note})", right)


TEXT_RULES: dict[str, Callable[[Text, LintContext], Iterable[Finding | None]]] = {
    "pairs": rule_pairs,
    "halfwidth": rule_halfwidth,
    "fullwidth": rule_fullwidth,
    "mixed-forms": rule_mixed_forms,
    "sequence": rule_sequence,
    "dash": rule_dash,
    "space": rule_space,
    "doubled": rule_doubled,
    "de": rule_de,
    "confusable": rule_confusable,
}


# ---- the issue's context ----------------------------------------------------------------------


class LintContext:
    """What rules need beyond one text: the issue's sign counts, the confusables, jieba."""

    def __init__(self, issue: Issue, texts: list[Text]):
        self.texts = texts
        self._following = {id(a): b for a, b in zip(texts, texts[1:], strict=False)}
        self.sign_counts = Counter(c for t in texts for c in t.text
                                   if any(c in forms for forms in SIGN_FORMS))
        self.preferred_sign: dict[str, str] = {}
        for half, full in SIGN_FORMS:
            if self.sign_counts[half] and self.sign_counts[full]:
                # The form the issue uses less is the slip; on a tie, the full-width one.
                minority = full if self.sign_counts[full] <= self.sign_counts[half] else half
                self.preferred_sign[minority] = full if minority == half else half
        self.confusables = read_confusables(CONFUSABLES)
        extra = issue.root / ISSUE_CONFUSABLES
        if extra.is_file():
            self.confusables.update(read_confusables(extra, issue.root))

    def next_opens_quote(self, text: Text) -> bool:
        following = self._following.get(id(text))
        return bool(following and following.path == text.path and following.text[:1] == "“")

    def words(self, s: str) -> list[tuple[int, str, str]]:
        return _tagged_words(s)

    def splits_a_word(self, s: str, start: int, end: int) -> bool:
        """Whether s[start:end] begins or ends inside a word jieba finds (随即然后 holds 即然
        across two words, not the misspelt 即然)."""
        for at, word, _ in self.words(s):
            word_end = at + len(word)
            if at < start < word_end and word_end <= end or at < end < word_end and at >= start:
                return True
        return False


@lru_cache(maxsize=256)
def _tagged_words(s: str) -> list[tuple[int, str, str]]:
    """(offset, word, part-of-speech tag) of each word jieba finds in `s`."""
    out, at = [], 0
    for pair in words.tagger().cut(s):
        out.append((at, pair.word, pair.flag))
        at += len(pair.word)
    return out


def read_confusables(path: Path, root: Path | None = None) -> dict[str, tuple[str, str]]:
    """The table at `path`; an issue's own (in `root`) must not be a link out of the issue."""
    text = read_utf8(path) if root is None else read_utf8_inside(path, root)
    table: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0] or not parts[1] or parts[0] == parts[1]:
            raise SourceError("expected `wrong<TAB>right<TAB>note`", path, number)
        table[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return table


# ---- running it -------------------------------------------------------------------------------


def issue_texts(issue: Issue) -> list[Text]:
    texts: list[Text] = []
    manifest = issue.root / MANIFEST
    texts += located_texts(manifest, read_utf8(manifest).splitlines(),
                           [(line, "title") for line in issue.cover_lines])
    for article in issue.articles:
        lines = read_utf8(article.path).splitlines()
        texts += front_matter_texts(article, lines)
        texts += body_texts(article, lines)
    return texts


def review_findings(issue: Issue) -> Iterator[Finding]:
    """The loader's review-note warnings, as findings at the same lines."""
    for note in review_notes(issue):
        text = note.message.removeprefix("warning: to review: ")
        yield Finding(note.path, note.line, 1, "review", "the importer's note is still here",
                      text, "check the item, then remove the note")


def lint(target: Path, fix: bool = False) -> LintReport:
    """Lint an issue folder, or one file of an issue: an article, or its issue.yaml."""
    target = Path(target)
    if target.suffix in (".md", ".yaml") and not target.is_file():
        raise PublisherError("no such file", target)
    if target.is_file() and target.suffix != ".md" and target.name != MANIFEST:
        raise PublisherError(f"lint reads an issue folder, an article (.md) or {MANIFEST}",
                             target)
    root = target.parent if target.name == MANIFEST else \
        target.parent.parent if target.is_file() else target
    if target.is_file() and not (root / MANIFEST).is_file():
        raise PublisherError(f"not an article of an issue: no {MANIFEST} in {root}", target)
    issue = load_issue(root)
    unknown = set(issue.lint.disable) - set(LINT_RULES)
    if unknown:
        raise SourceError(f"`lint.disable`: no rule {', '.join(sorted(unknown))} "
                          f"(rules: {', '.join(LINT_RULES)})", root / MANIFEST)
    texts = issue_texts(issue)
    context = LintContext(issue, texts)
    rules = {name: rule for name, rule in TEXT_RULES.items() if name not in issue.lint.disable}
    chosen = (lambda path: path.resolve() == target.resolve()) if target.is_file() \
        else (lambda path: True)
    findings = [f for t in texts if chosen(t.path) for rule in rules.values()
                for f in rule(t, context) if f is not None]
    if "review" not in issue.lint.disable:
        findings += [f for f in review_findings(issue) if chosen(f.path)]
    findings = sorted(set(findings), key=lambda f: (str(f.path), f.line, f.col, f.rule, str(f)))
    report = LintReport(findings)
    if fix:
        report.fixed = apply_fixes([f for f in findings if f.fixable])
        report.findings = [f for f in findings if not f.fixable]
    return report


def apply_fixes(findings: list[Finding]) -> int:
    """Replace each fixable finding's text in its file, right to left so columns stay true."""
    fixed = 0
    by_path: dict[Path, list[Finding]] = {}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    for path, found in by_path.items():
        raw = path.read_bytes().decode("utf-8")
        lines = raw.split("\n")
        taken: dict[int, int] = {}  # line → leftmost column already replaced
        for f in sorted(found, key=lambda f: (f.line, f.col), reverse=True):
            line = lines[f.line - 1]
            start, end = f.col - 1, f.col - 1 + len(f.found)
            if line[start:end] != f.found or end > taken.get(f.line, len(line) + 1):
                continue
            lines[f.line - 1] = line[:start] + f.replacement + line[end:]
            taken[f.line] = start
            fixed += 1
        with atomic_output(path) as tmp:
            tmp.write_bytes("\n".join(lines).encode("utf-8"))
    return fixed
