"""Shared fixtures: the bundled sample is built once per test session and reused."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "2015-10"
ROOTS = Path(__file__).resolve().parent / "roots"


@pytest.fixture(scope="session")
def sample_issue():
    from publisher.source.load import load_issue

    return load_issue(SAMPLE)


@pytest.fixture(scope="session")
def sample_pdf(tmp_path_factory) -> Path:
    from publisher.build import build

    (path,) = build(SAMPLE, tmp_path_factory.mktemp("pdf"), pdf=True, epub=False)
    return path


@pytest.fixture(scope="session")
def sample_press_pdf(tmp_path_factory) -> Path:
    from publisher.build import build

    (path,) = build(SAMPLE, tmp_path_factory.mktemp("press"), pdf=True, epub=False, press=True)
    return path


@pytest.fixture(scope="session")
def sample_epub(tmp_path_factory) -> Path:
    from publisher.build import build

    (path,) = build(SAMPLE, tmp_path_factory.mktemp("epub"), pdf=False, epub=True)
    return path


@pytest.fixture(scope="session")
def a4_sample(tmp_path_factory):
    """The sample built at A4 (a second trim: 297 mm, six lines more a column)."""
    import re
    import shutil

    import pdfplumber

    from publisher.build import build
    from publisher.source.load import load_issue

    root = tmp_path_factory.mktemp("a4") / "2015-10"
    shutil.copytree(SAMPLE, root)
    manifest = root / "issue.yaml"
    text, count = re.subn(r"^trim:.*$", "trim: A4", manifest.read_text(encoding="utf-8"),
                          flags=re.M)
    assert count == 1
    manifest.write_text(text, encoding="utf-8")
    (path,) = build(root, root.parent / "out", pdf=True, epub=False)
    with pdfplumber.open(path) as pdf:
        yield load_issue(root), path, pdf
