import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher import words
from publisher.errors import BuildError
from tests.conftest import SAMPLE

ROOTS = Path(__file__).parent / "roots"
SAMPLE_TEXT = "\n".join(path.read_text(encoding="utf-8")
                        for path in sorted((SAMPLE / "articles").glob("*.md")))


def test_a_build_leaves_jieba_to_a_process_of_its_own(tmp_path):
    # The build's process never holds jieba's dictionary: its memory is a layout worker's.
    script = ("import sys; from publisher.build import build; "
              f"build(__import__('pathlib').Path({str(ROOTS / 'typeset-grid')!r}), "
              f"__import__('pathlib').Path({str(tmp_path / 'out')!r})); "
              "print('jieba' in sys.modules)")
    env = {**os.environ, "PUBLISHER_CACHE": str(tmp_path / "cache"), "PUBLISHER_WORKERS": "2"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, check=True, cwd=Path(__file__).parents[1])
    assert done.stdout.split()[-1] == "False", done.stderr
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".epub", ".pdf"]
    # and it did its work there: the keywords were found and cached
    assert any((tmp_path / "cache").rglob("keywords/*"))


def test_words_from_the_process_of_its_own_match_jieba_here():
    text = "坚持三严三实，加强联合党委建设"
    try:
        assert words.ask(words.word_ends, text).result() == words.word_ends(text)
        assert "三严三实" in [text[a:b] for a, b in zip([0, *words.word_ends(text)],
                                                   words.word_ends(text), strict=False)]
    finally:
        words.release()


def test_a_dead_jieba_process_is_a_build_error_and_the_next_question_starts_another(
        monkeypatch):
    monkeypatch.setenv("PUBLISHER_WORKERS", "2")  # with one, jieba works in this process
    try:
        with pytest.raises(BuildError, match="jieba's process stopped"):
            words.answer(words.ask(os._exit, 1))
        assert words.answer(words.ask(words.word_ends, "三严三实")) == [4]
    finally:
        words.release()


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(SAMPLE_TEXT) - 1), st.integers(1, 3000), st.integers(1, 20))
def test_tfidf_terms_are_those_jieba_analyse_finds(start, length, count):
    """Keywords are computed over jieba's words and table without importing jieba.analyse
    (whose import loads the part-of-speech tables): the same terms, in the same order."""
    import jieba.analyse

    text = SAMPLE_TEXT[start:start + length]
    words.jieba()
    assert words.tfidf_terms(text, count) == jieba.analyse.extract_tags(text, topK=count)


def test_a_build_loads_no_part_of_speech_tables(tmp_path):
    """jieba's process of a build cuts words and finds keywords, which need no tagger."""
    script = ("import sys; from publisher import words; words.word_ends('三严三实'); "
              "words.tfidf_terms('坚持三严三实，加强联合党委建设', 5); "
              "print(sorted({'jieba.posseg', 'jieba.analyse'} & sys.modules.keys()))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parents[1])
    assert done.stdout.split("\n")[-2] == "[]", done.stderr


def test_the_dictionary_read_whole_is_the_one_jieba_reads():
    """`words.jieba` has jieba read its dictionary's cache file whole (a second faster): the
    dictionary, and the words it cuts, are those of a tokenizer loaded as jieba loads it."""
    import jieba

    from publisher.desk import USER_DICTIONARY

    own = jieba.Tokenizer()
    own.initialize()
    own.load_userdict(str(USER_DICTIONARY))
    loaded = words.jieba().dt
    assert (loaded.FREQ, loaded.total) == (own.FREQ, own.total)
    assert list(loaded.cut(SAMPLE_TEXT[:2000])) == list(own.cut(SAMPLE_TEXT[:2000]))


def test_jieba_is_loaded_without_pkg_resources_and_leaves_it_importable():
    """jieba imports pkg_resources (0.2 s) only to find its dictionary file: loaded without it,
    in a fresh process, it reads the same dictionary, and pkg_resources imports as before."""
    import subprocess
    import sys

    code = ("import sys; from publisher import words; dt = words.jieba().dt\n"
            "assert 'pkg_resources' not in sys.modules\n"
            "import pkg_resources, jieba\n"
            "own = jieba.Tokenizer(); own.initialize()\n"
            "assert own.get_dict_file().name == dt.get_dict_file().name\n"
            "assert set(own.FREQ) <= set(dt.FREQ)\n"
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_a_build_starts_jieba_before_it_reads_the_issue(tmp_path, monkeypatch):
    """jieba's process loads its dictionary while the build imports its modules and reads the
    issue: the sections' HTML waits for its word boundaries. Not after a change to the layouts
    alone: jieba's answers on the texts are all in the cache."""
    import shutil

    from publisher import build as building
    from publisher.source import load

    monkeypatch.setenv("PUBLISHER_WORKERS", "2")
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "cache"))
    started: list[bool] = []
    read = load.load_issue
    monkeypatch.setattr(load, "load_issue", lambda root: (
        started.append(words._process is not None), read(root))[1])
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)

    def build() -> bool:
        started.clear()
        building.build(issue, tmp_path / "out")
        words.release()
        return started == [True]

    assert build()
    (issue / "layouts").mkdir(exist_ok=True)  # a file no text holds: no output is cached
    (issue / "layouts" / "proof.css").write_text("p { color: black; }\n", encoding="utf-8")
    assert not build()
    article = next((issue / "articles").glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8") + "\n再议。\n", encoding="utf-8")
    assert build()
