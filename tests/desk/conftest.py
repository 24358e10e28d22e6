"""Fixtures of the desk's tests: the sample's PDF read back once, builds of the sample that
differ by one sentence and by one title, and the sample's offprints."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SAMPLE

# One sentence of 180-fu-xingguo.md and a replacement of the same length: only its lines change.
EDITED_FILE = "articles/180-fu-xingguo.md"
SENTENCE = "大家要深刻领会建华书记的重要指示精神和这些经验启示，结合实际抓好贯彻落实。"
REPLACEMENT = "各级要认真学习建华书记的重要指示精神和这些经验启示，结合实际切实贯彻落实。"
# The 卷首语's title, printed on its page and in the 目录, and one of the same length.
RETITLED_FILE = "articles/010-juanshouyu.md"
TITLE = "把严守纪律当作为人处事从政的重要底线"
NEW_TITLE = "把严守纪律当作为人处事从政的根本底线"


def build_changed(tmp_path_factory, name: str, file: str, old: str, new: str):
    """The sample's PDF built with `old`, found once in `file`, replaced by `new`."""
    from publisher.build import build

    root = tmp_path_factory.mktemp(name) / "2015-10"
    shutil.copytree(SAMPLE, root)
    source = root / file
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1
    source.write_text(text.replace(old, new), encoding="utf-8")
    (path,) = build(root, root.parent / "out", pdf=True, epub=False)
    return path


@pytest.fixture(scope="session")
def sample_laid_out(sample_pdf):
    from publisher.desk.layout import LaidOutIssue

    laid_out = LaidOutIssue(sample_pdf)
    laid_out.item_lines  # noqa: B018 (read once, shared by the tests)
    return laid_out


@pytest.fixture(scope="session")
def edited_pdf(tmp_path_factory):
    return build_changed(tmp_path_factory, "edited", EDITED_FILE, SENTENCE, REPLACEMENT)


@pytest.fixture(scope="session")
def retitled_pdf(tmp_path_factory):
    return build_changed(tmp_path_factory, "retitled", RETITLED_FILE, f"title: {TITLE}",
                         f"title: {NEW_TITLE}")


@pytest.fixture(scope="session")
def sample_offprints(sample_issue, sample_laid_out, tmp_path_factory):
    from publisher.desk.offprints import offprints

    return offprints(sample_issue, sample_laid_out, tmp_path_factory.mktemp("offprints"))


@pytest.fixture(scope="session")
def edited_laid_out(edited_pdf):
    from publisher.desk.layout import LaidOutIssue

    return LaidOutIssue(edited_pdf)
