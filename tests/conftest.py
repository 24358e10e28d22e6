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
