"""The command's own words: its help speaks to the user, and `-q` does what its help says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from publisher.cli import main

from .conftest import ROOTS, SAMPLE


def test_help_says_what_the_tool_does_and_what_quiet_keeps(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    printed = " ".join(capsys.readouterr().out.split())
    # Not the module's docstring, which is for whoever reads the code.
    assert "PublisherError" not in printed
    assert "into a print-ready PDF and an EPUB" in printed
    assert "-q, --quiet print errors and warnings only, no progress" in printed


def test_quiet_keeps_warnings_and_drops_progress(tmp_path):
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    # An internal publication that gives none of its marks: a warning, not an error.
    with (issue / "issue.yaml").open("a", encoding="utf-8") as manifest:
        manifest.write("publication: internal\n")
    result = subprocess.run(
        [sys.executable, "-m", "publisher.cli", "-q", "build", str(issue), "--epub", "-o",
         str(tmp_path / "out")],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "an internal publication must print `permit`" in result.stderr
    assert "wrote" not in result.stderr
    assert (tmp_path / "out" / "2015-10.epub").is_file()


def test_the_command_ends_with_its_output_whole_and_its_exit_status(tmp_path):
    # The command ends without Python's teardown (`cli.run`): what it printed to a pipe, held
    # in the output buffer, must still arrive, and the exit status is main's.
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    result = subprocess.run([sys.executable, "-m", "publisher.cli", "lint", str(SAMPLE)],
                            capture_output=True, text=True, check=False, env=buffered)
    assert result.returncode == 1  # the sample keeps the printed original's slips
    *findings, summary = result.stdout.splitlines()
    assert summary == f"{len(findings)} finding(s)"
    assert findings and all(line.startswith(str(SAMPLE)) for line in findings)


@pytest.mark.parametrize(("options", "wanted"), [
    ([], {"pdf": True, "epub": True, "press": False}),
    (["--pdf"], {"pdf": True, "epub": False, "press": False}),
    (["--epub"], {"pdf": False, "epub": True, "press": False}),
    (["--press"], {"pdf": True, "epub": True, "press": True}),
    (["--pdf", "--press"], {"pdf": True, "epub": False, "press": True}),
    # --press asks for the printer's PDF: with --epub it was dropped without a word.
    (["--epub", "--press"], {"pdf": True, "epub": True, "press": True}),
])
@pytest.mark.parametrize("command", ["build", "watch"])
def test_press_asks_for_the_printers_pdf(command, options, wanted):
    from publisher.cli import _wanted, parser

    assert _wanted(parser().parse_args([command, "issue", *options])) == wanted
