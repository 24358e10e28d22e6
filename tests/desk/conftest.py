"""Fixtures of the desk's tests: the sample's PDF read back once, a build of the sample that
differs by one sentence, and the sample's offprints."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SAMPLE

# One sentence of 180-fu-xingguo.md and a replacement of the same length: only its lines change.
EDITED_FILE = "articles/180-fu-xingguo.md"
SENTENCE = "大家要深刻领会建华书记的重要指示精神和这些经验启示，结合实际抓好贯彻落实。"
REPLACEMENT = "各级要认真学习建华书记的重要指示精神和这些经验启示，结合实际切实贯彻落实。"


@pytest.fixture(scope="session")
def sample_laid_out(sample_pdf):
    from publisher.desk.layout import LaidOutIssue

    laid_out = LaidOutIssue(sample_pdf)
    laid_out.item_lines  # noqa: B018 (read once, shared by the tests)
    return laid_out


@pytest.fixture(scope="session")
def edited_pdf(tmp_path_factory):
    from publisher.build import build

    root = tmp_path_factory.mktemp("edited") / "2015-10"
    shutil.copytree(SAMPLE, root)
    article = root / EDITED_FILE
    text = article.read_text(encoding="utf-8")
    assert text.count(SENTENCE) == 1
    article.write_text(text.replace(SENTENCE, REPLACEMENT), encoding="utf-8")
    (path,) = build(root, root.parent / "out", pdf=True, epub=False)
    return path


@pytest.fixture(scope="session")
def sample_offprints(sample_issue, sample_laid_out, tmp_path_factory):
    from publisher.desk.offprints import offprints

    return offprints(sample_issue, sample_laid_out, tmp_path_factory.mktemp("offprints"))


@pytest.fixture(scope="session")
def edited_laid_out(edited_pdf):
    from publisher.desk.layout import LaidOutIssue

    return LaidOutIssue(edited_pdf)
