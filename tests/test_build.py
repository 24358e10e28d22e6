"""A build never damages anything: not the sources, not a good output from an earlier build."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pytest

from publisher.cli import main

from .conftest import ROOTS


def _tree_digest(root):
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_failed_build_keeps_the_previous_output_and_leaves_no_partial_file(tmp_path, capsys):
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "pdf-missing-glyph", issue)
    out = tmp_path / "out"
    out.mkdir()
    previous = out / "2015-10.pdf"
    previous.write_bytes(b"%PDF- the proof the printer already has")

    assert main(["build", str(issue), "-o", str(out), "--pdf"]) == 1

    assert "U+10FFFD" in capsys.readouterr().err
    assert previous.read_bytes() == b"%PDF- the proof the printer already has"
    assert sorted(p.name for p in out.iterdir()) == ["2015-10.pdf"]


def test_build_leaves_the_sources_as_they_were(tmp_path):
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "epub-elements", issue)
    before = _tree_digest(issue)
    assert main(["build", str(issue), "-o", str(tmp_path / "out")]) == 0
    assert _tree_digest(issue) == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["2016-03.epub", "2016-03.pdf"]


def test_unwritable_output_is_an_error_not_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher.cli",
            "build",
            str(ROOTS / "good-minimal"),
            "-o",
            str(blocker / "out"),
            "--epub",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"{blocker / 'out'}: cannot write here: Not a directory"


def test_an_a4_issue_gets_a4_pages(tmp_path):
    import pypdf

    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "epub-elements", issue)
    manifest = issue / "issue.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "trim: A4\n", encoding="utf-8")
    assert main(["build", str(issue), "-o", str(tmp_path / "out"), "--pdf"]) == 0
    pages = pypdf.PdfReader(tmp_path / "out" / "2016-03.pdf").pages
    mm = 72 / 25.4
    assert {(round(float(p.mediabox.width) / mm), round(float(p.mediabox.height) / mm))
            for p in pages} == {(210, 297)}


def test_pdf_and_epub_are_replaced_together_or_not_at_all(tmp_path, monkeypatch):
    import publisher.epub
    from publisher.build import build
    from publisher.errors import BuildError

    out = tmp_path / "out"
    out.mkdir()
    (out / "2016-03.pdf").write_bytes(b"%PDF- last week's proof")

    def failing_epub(issue, path, *, embed_fonts=False, page_map=None):
        raise BuildError("the EPUB cannot be made")

    monkeypatch.setattr(publisher.epub, "write_epub", failing_epub)
    # A copy no build has cached: an EPUB in the build cache would not be written again.
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "epub-elements", issue)
    with pytest.raises(BuildError):
        build(issue, out)
    assert (out / "2016-03.pdf").read_bytes() == b"%PDF- last week's proof"
    assert sorted(p.name for p in out.iterdir()) == ["2016-03.pdf"]


def test_in_watch_the_pdf_is_put_in_place_before_the_epub_is_made(tmp_path, monkeypatch):
    """…except in `watch` and `preview`, where the editor waits for the pages: a failing EPUB
    leaves the new PDF in place, and last week's EPUB."""
    import publisher.epub
    from publisher.errors import BuildError
    from publisher.watch import build_once

    out = tmp_path / "out"
    out.mkdir()
    (out / "2016-03.epub").write_bytes(b"last week's EPUB")
    made: list[bytes] = []

    def failing_epub(issue, path, *, embed_fonts=False, page_map=None):
        made.append((out / "2016-03.pdf").read_bytes())
        raise BuildError("the EPUB cannot be made")

    monkeypatch.setattr(publisher.epub, "write_epub", failing_epub)
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "epub-elements", issue)
    outcome = build_once(issue, out)
    assert outcome.errors == ("the EPUB cannot be made",) and not outcome.files
    assert made and made[0].startswith(b"%PDF-")
    assert (out / "2016-03.pdf").read_bytes() == made[0]
    assert (out / "2016-03.epub").read_bytes() == b"last week's EPUB"


def test_an_output_made_apart_keeps_its_warnings_from_the_one_it_is_made_in():
    """The EPUB is made while the PDF is: a cached PDF must not repeat the EPUB's warnings,
    while a section laid out in the PDF's build gives its warnings to both."""
    import logging

    from publisher.build import collected_warnings

    log = logging.getLogger("publisher.test")
    with collected_warnings(apart=True) as pdf:
        log.warning("the PDF's")
        with collected_warnings() as section:
            log.warning("a section's")
        with collected_warnings(apart=True) as epub:
            log.warning("the EPUB's")
        log.warning("the PDF's again")
    assert [m for _, _, m in pdf] == ["the PDF's", "a section's", "the PDF's again"]
    assert [m for _, _, m in section] == ["a section's"]
    assert [m for _, _, m in epub] == ["the EPUB's"]


def test_an_editors_lock_file_or_a_folder_named_md_is_no_article_of_the_build(tmp_path):
    """The PDF's record of its articles listed them again, without the loader's eye: a dangling
    Emacs lock file or a folder named .md stopped the build with a traceback."""
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    (issue / "articles" / "old.md").mkdir()
    (issue / "articles" / ".#10-good.md").symlink_to("nobody@host.1234")
    assert main(["-q", "build", str(issue), "--epub", "-o", str(tmp_path / "out")]) == 0
