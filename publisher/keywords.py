"""Chinese words with jieba: keywords for PDF and EPUB metadata the source lacks, and word
boundaries where a headline may break."""

from __future__ import annotations

from concurrent.futures import Future
from functools import lru_cache

from publisher import cache, recent, words
from publisher.cjk import is_han
from publisher.source.markup import plain_paragraphs
from publisher.source.model import Article

KEYWORDS_PER_ARTICLE = 5
KEYWORDS_PER_ISSUE = 12


@lru_cache(maxsize=4096)
def word_boundaries(text: str) -> frozenset[int]:
    """Offsets in `text` where one word ends and the next begins, kept in the build cache by
    text: jieba loads its dictionary (seconds) only for text it has not seen."""
    entry = cache.key(text)
    if (cached := _cached_boundaries(entry)) is not None:
        return cached
    ends = set(_answer("word-boundaries", entry, words.word_ends, text))
    ends.discard(len(text))
    cache.put_json("word-boundaries", entry, sorted(ends))
    return frozenset(ends)


def _cached_boundaries(entry: str) -> frozenset[int] | None:
    return _found("word-boundaries", entry, lambda cached: frozenset(cached) if isinstance(
        cached, list) and all(isinstance(at, int) for at in cached) else None)


# Answers found in the build cache, kept in this process: an entry is named by its text, so
# its answer never changes, and a build asks for each of the issue's (`watch`: each edit's),
# some 200, twice; reading them took 15-20 ms of every build.
_found_answers: dict[tuple[str, str], object] = {}
_FOUND_ANSWERS_KEPT = 8192


def _found(kind: str, entry: str, valid):
    """The answer in the build cache's `kind` at `entry`, as `valid` takes it (None: not an
    answer), if there is one."""
    answer = _found_answers.get((kind, entry))
    if answer is None:
        answer = valid(cache.get_json(kind, entry))
        if answer is not None:
            recent.keep(_found_answers, (kind, entry), answer, _FOUND_ANSWERS_KEPT)
    return answer


def ask_for_boundaries(text: str) -> None:
    """Have jieba's process start on the word boundaries of `text`, where the cache lacks them,
    while this process goes on, rather than wait for each answer in turn."""
    entry = cache.key(text)
    if _cached_boundaries(entry) is None:
        _ask_ahead("word-boundaries", entry, words.word_ends, text)


# jieba's answers asked for ahead of their use, by the cache folder and entry they go to.
_asked: dict[tuple[str, str], Future] = {}


def _ask_ahead(kind: str, entry: str, function, *args) -> None:
    if (kind, entry) not in _asked:
        _asked[kind, entry] = words.ask(function, *args)


def _answer(kind: str, entry: str, function, *args):
    """jieba's answer to `function(*args)`: the one asked ahead, else asked now."""
    return words.answer(_asked.pop((kind, entry), None) or words.ask(function, *args))


def forget_questions() -> None:
    """Drop what an earlier build asked ahead and did not take: a new build asks afresh (a
    process that stopped left its questions unanswerable)."""
    _asked.clear()


def _keywords_text(article: Article) -> tuple[str, str]:
    """The text an article's keywords come from, and its entry in the build cache."""
    text = "\n".join([*article.title, *plain_paragraphs(article.body)])
    return text, cache.key(text, str(KEYWORDS_PER_ARTICLE))


def _cached_keywords(entry: str) -> tuple[str, ...] | None:
    return _found("keywords", entry, lambda cached: tuple(cached) if isinstance(
        cached, list) and all(isinstance(word, str) for word in cached) else None)


# jieba's top TF-IDF terms of a text, three for every keyword kept: `article_keywords` keeps
# only words of two or more Han characters.
TERMS_ASKED = KEYWORDS_PER_ARTICLE * 3


def ask_for_keywords(article: Article) -> None:
    """Have jieba's process start on the article's keywords, where neither the front matter nor
    the cache has them, while this process goes on."""
    if article.keywords is None:
        text, entry = _keywords_text(article)
        if _cached_keywords(entry) is None:
            _ask_ahead("keywords", entry, words.tfidf_terms, text, TERMS_ASKED)


def article_keywords(article: Article) -> tuple[str, ...]:
    """The front matter's keywords, else the top TF-IDF terms of the title and body, kept in
    the build cache by text: jieba loads its dictionary (seconds) only for text it has not seen."""
    if article.keywords is not None:
        return article.keywords
    text, entry = _keywords_text(article)
    if (cached := _cached_keywords(entry)) is not None:
        return cached
    terms = _answer("keywords", entry, words.tfidf_terms, text, TERMS_ASKED)
    # Only words of two or more Han characters: numbers and single characters make poor subjects.
    good = tuple(t for t in terms if len(t) >= 2 and all(map(is_han, t)))[:KEYWORDS_PER_ARTICLE]
    cache.put_json("keywords", entry, good)
    return good


def issue_keywords(per_article: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The most frequent of the articles' keywords, ties broken by first appearance."""
    counts: dict[str, int] = {}
    for keywords in per_article:
        for word in keywords:
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=lambda w: -counts[w])  # sorted() is stable: first seen wins ties
    return tuple(ranked[:KEYWORDS_PER_ISSUE])
