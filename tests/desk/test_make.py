"""The desk's make targets, as `make -n` spells their commands."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_commands(*args: str) -> list[str]:
    return subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.splitlines()


# What each target passes beside the issue folder and -o.
ROUND = {"stats": [], "proof": ["--round", "一校"], "offprints": []}


@pytest.mark.parametrize("target", ["stats", "proof", "offprints"])
def test_an_issue_folder_written_with_a_slash_has_its_own_output_folder(target):
    """ISSUE=examples/2015-10/ wrote into build/ itself, beside every other issue's files."""
    (command,) = [c for c in make_commands(target, "ISSUE=examples/2015-10/")
                  if f"publisher {target}" in c]
    assert shlex.split(command)[1:] == [target, "examples/2015-10/", *ROUND[target], "-o",
                                        "build/2015-10"]


@pytest.mark.parametrize("target", ["lint", "stats", "proof", "offprints"])
def test_an_issue_folder_with_a_space_is_one_argument(target):
    """ISSUE="/tmp/2015-10 二校" reached the tool as two arguments, /tmp/2015-10 and 二校."""
    (command,) = [c for c in make_commands(target, "ISSUE=/tmp/2015-10 二校")
                  if f"publisher {target}" in c]
    assert shlex.split(command)[2] == "/tmp/2015-10 二校"
    if target != "lint":
        assert shlex.split(command)[-2:] == ["-o", "build/2015-10 二校"]
