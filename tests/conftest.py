"""Shared fixtures: the bundled sample is built once per test session and reused."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "2015-10"
ROOTS = Path(__file__).resolve().parent / "roots"


@pytest.fixture(scope="session", autouse=True)
def build_cache(tmp_path_factory) -> Path:
    """The session's own build cache, empty at its start (the user's is left alone); builds in
    subprocesses inherit it."""
    import os

    folder = tmp_path_factory.mktemp("build-cache")
    saved = os.environ.get("PUBLISHER_CACHE")
    os.environ["PUBLISHER_CACHE"] = str(folder)
    yield folder
    if saved is None:
        del os.environ["PUBLISHER_CACHE"]
    else:
        os.environ["PUBLISHER_CACHE"] = saved


@pytest.fixture(scope="session", autouse=True)
def no_warm_process():
    """Builds are the command's own, as they were before the warm process: no test leaves one
    running (tests/test_server.py starts its own)."""
    import os

    saved = os.environ.get("PUBLISHER_SERVER")
    os.environ["PUBLISHER_SERVER"] = "0"
    yield
    if saved is None:
        del os.environ["PUBLISHER_SERVER"]
    else:
        os.environ["PUBLISHER_SERVER"] = saved


@pytest.fixture(scope="session")
def sample_issue():
    from publisher.source.load import load_issue

    return load_issue(SAMPLE)


# What each session build logged at WARNING, by the file it wrote.
BUILD_WARNINGS: dict[Path, list[str]] = {}


def build_logged(*args, **kwargs) -> list[Path]:
    """publisher.build.build, keeping what it warned of in BUILD_WARNINGS."""
    import logging

    from publisher.build import build

    class Keep(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    messages: list[str] = []
    handler = Keep(logging.WARNING)
    logging.getLogger("publisher").addHandler(handler)
    try:
        paths = build(*args, **kwargs)
    finally:
        logging.getLogger("publisher").removeHandler(handler)
    for path in paths:
        BUILD_WARNINGS[path] = messages
    return paths


@pytest.fixture(scope="session")
def sample_pdf(tmp_path_factory) -> Path:
    (path,) = build_logged(SAMPLE, tmp_path_factory.mktemp("pdf"), pdf=True, epub=False)
    return path


@pytest.fixture(scope="session")
def periodical_press_pdf(tmp_path_factory) -> Path:
    """The press PDF of a formal periodical with pictures (tests/roots/press-periodical)."""
    (path,) = build_logged(ROOTS / "press-periodical", tmp_path_factory.mktemp("periodical"),
                           pdf=True, epub=False, press=True)
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
    """The sample built at A4 (a second trim: 297 mm, six lines more a column), shared by the
    tests of layout and of the line grid."""
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
