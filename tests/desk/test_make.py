"""The desk's make targets, as `make -n` spells their commands."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_commands(*args: str) -> list[str]:
    return subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.splitlines()


@pytest.mark.parametrize("target", ["stats", "proof", "offprints"])
def test_an_issue_folder_written_with_a_slash_has_its_own_output_folder(target):
    """ISSUE=examples/2015-10/ wrote into build/ itself, beside every other issue's files."""
    (command,) = [c for c in make_commands(target, "ISSUE=examples/2015-10/")
                  if f"publisher {target}" in c]
    assert command.endswith(" -o build/2015-10") or " -o build/2015-10 " in command
