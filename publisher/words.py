"""jieba with the magazine's dictionary, in this process (the desk's checks and counts) or in a
process of its own (a build): its dictionary and IDF table take some 130 MB, which a build
should not carry while its sections are laid out in parallel. This module imports little else
of the project, so that the process of its own stays small."""

from __future__ import annotations

import gc
import logging
import marshal
import multiprocessing
import multiprocessing.util
import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache

from publisher import processes

# `watch` loads jieba on a thread of its own while its builds may ask for it: one loads it.
_loading = threading.Lock()


@lru_cache(maxsize=1)
def jieba():
    """jieba, its dictionary loaded and the magazine's terms (三严三实, 联合党委) kept whole."""
    from publisher.desk import USER_DICTIONARY

    with _loading:
        # jieba finds its dictionary file with pkg_resources where it can import it, else by
        # its own path: the same file, without pkg_resources' 0.2 s import.
        unimported = "pkg_resources" not in sys.modules
        if unimported:
            sys.modules["pkg_resources"] = None  # importing it raises ImportError
        try:
            import jieba
        finally:
            if unimported:
                del sys.modules["pkg_resources"]

        jieba.setLogLevel(logging.WARNING)
        # Its dictionary is one large dict of strings, which the collector would only walk
        # again and again while it loads.
        collecting = gc.isenabled()
        gc.disable()
        jieba.marshal = _WholeFileMarshal
        try:
            jieba.initialize()
            jieba.load_userdict(str(USER_DICTIONARY))
        finally:
            jieba.marshal = marshal
            if collecting:
                gc.enable()
        return jieba


class _WholeFileMarshal:
    """`marshal` as jieba uses it to read its dictionary's cache file, but reading the file
    whole first: `marshal.load` reads a file object a few bytes at a time, 1.6 s for jieba's
    9 MB against 0.45 s for the same bytes read at once."""

    dump = staticmethod(marshal.dump)

    @staticmethod
    def load(file):
        return marshal.loads(file.read())


def tagger():
    """jieba's part-of-speech tagger over the same dictionary: its tables take a second and
    some 90 MB to load, which only the desk's checks need."""
    jieba()
    from jieba import posseg

    return posseg


def in_dictionary(word: str) -> bool:
    """Whether `word` is a word of jieba's dictionary (which lists the beginnings of its words
    too, at a frequency of 0)."""
    return bool(jieba().dt.FREQ.get(word))


def dictionary_tag(word: str) -> str | None:
    """`word`'s part of speech in jieba's dictionary, whatever the words around it."""
    return tagger().dt.word_tag_tab.get(word)


def word_ends(text: str) -> list[int]:
    """Offsets in `text` where a word ends (its end included)."""
    ends, at = [], 0
    for word in jieba().cut(text):
        at += len(word)
        ends.append(at)
    return ends


# jieba.analyse's stop words (KeywordExtractor.STOP_WORDS).
TFIDF_STOP_WORDS = frozenset((
    "the", "of", "is", "and", "to", "in", "that", "we", "for", "an", "are", "by", "be", "as",
    "on", "with", "can", "if", "from", "which", "you", "it", "this", "then", "at", "have", "all",
    "not", "one", "has", "or"))


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's table of inverse document frequencies, and its median (an unknown word's), kept
    in the build cache as marshal data: parsing its 350,000 lines takes half a second."""
    from pathlib import Path

    from publisher import cache

    path = Path(jieba().__file__).parent / "analyse" / "idf.txt"
    entry = cache.file_key(path)
    if (found := cache.get("idf", entry)) is not None:
        return marshal.loads(found)
    # Lines of a word and its IDF, as jieba reads them, split all at once.
    fields = path.read_text(encoding="utf-8").split()
    table = dict(zip(fields[::2], map(float, fields[1::2]), strict=True))
    parsed = (table, sorted(table.values())[len(table) // 2])
    cache.put("idf", entry, marshal.dumps(parsed))
    return parsed


def tfidf_terms(text: str, count: int) -> list[str]:
    """jieba's `count` top TF-IDF terms of `text`, as `jieba.analyse.extract_tags` finds them,
    computed here over jieba's words and table: importing `jieba.analyse` loads the tagger
    (`tagger`), which keywords do not use."""
    table, median = _idf()
    freq: dict[str, float] = {}
    for word in jieba().cut(text):
        if len(word.strip()) >= 2 and word.lower() not in TFIDF_STOP_WORDS:
            freq[word] = freq.get(word, 0.0) + 1.0
    total = sum(freq.values())
    for word in freq:
        freq[word] *= table.get(word, median) / total
    # sorted() is stable: of equal weights, the first found comes first, as in jieba.
    return sorted(freq, key=freq.__getitem__, reverse=True)[:count]


_process: ProcessPoolExecutor | None = None


def _forget_process() -> None:
    global _process
    _process = None


# A forked child has none of its parent's threads, so its copy of the executor would never run
# what it is asked: the child starts its own.
os.register_at_fork(after_in_child=_forget_process)


def ask(function, *args) -> Future:
    """`function(*args)`, to be computed in jieba's process, which starts when first needed,
    or here and now where the build does everything in its own process (`processes.workers`:
    `watch`, a catalogue's builds, a Dask worker)."""
    global _process
    if processes.workers() == 1:
        done: Future = Future()
        done.set_result(function(*args))
        return done
    if _process is None:
        # spawn: a fork would copy this process, which may be large and hold threads.
        _process = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=processes.end_with_parent)
    return _process.submit(function, *args)


def start() -> None:
    """Start jieba's process, where a build has one, and have it load its dictionary while
    this process reads the issue: the sections' HTML waits for its word boundaries."""
    if processes.workers() > 1:
        ask(_load_dictionary)


def _load_dictionary() -> None:
    jieba()


def answer(asked: Future):
    """What jieba's process answered; a process that died (out of memory, killed) is a build
    error, and the next question starts a new one."""
    global _process
    from concurrent.futures.process import BrokenProcessPool

    try:
        return asked.result()
    except BrokenProcessPool:
        from publisher.errors import BuildError

        _process = None
        raise BuildError("jieba's process stopped before it answered: run the build again, "
                         "with more memory free") from None


def release() -> None:
    """End jieba's process, once it has done what it was asked, and give its memory back; it
    starts again if a text needs it."""
    global _process
    if _process is not None:
        _process.shutdown()
        _process = None


# A process that ends (a catalogue build's worker too) ends jieba's first: multiprocessing waits
# for a process's children before it exits, and an idle one waits for questions.
multiprocessing.util.Finalize(None, release, exitpriority=10)
