"""Issue folders from outside: every hostile input is one clear line and exit 1, with no
traceback, nothing written and earlier outputs intact; layouts run no code and read no file
outside their folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from publisher.cli import main
from tests.conftest import ROOT, ROOTS

PREVIOUS = b"%PDF- the proof the printer already has"
SHIPPED = ROOT / "layouts"


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A scratch folder as the current one, with `out/` holding an earlier build's PDF."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "2015-10.pdf").write_bytes(PREVIOUS)
    return tmp_path


def hostile(workdir: Path, name: str, base: str | None = None) -> Path:
    """tests/roots/<name> (or <base>, for a case made in the test) copied into the workdir."""
    return Path(shutil.copytree(ROOTS / (base or name), workdir / name, symlinks=True))


def refused(capsys, *argv: str) -> list[str]:
    """Run the command; assert it failed cleanly and wrote nothing; return its error lines."""
    command = [*argv, "-o", "out"] if argv[0] == "build" else list(argv)
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert sorted(os.listdir("out")) == ["2015-10.pdf"]
    assert Path("out/2015-10.pdf").read_bytes() == PREVIOUS
    return err.splitlines()


# ------------------------------------------------------------------- layouts

LAYOUT_CODE = "layout-runs-code/layouts/partials/inside-front-cover.html.j2"


def test_a_layout_cannot_run_a_command(workdir, capsys):
    hostile(workdir, "layout-runs-code")
    assert refused(capsys, "validate", "layout-runs-code") == [
        f"{LAYOUT_CODE}:2: layout template: `__init__`, `__globals__`: a layout may not reach "
        "Python's internals",
        "publisher: 1 problem(s) found",
    ]
    # The build checks the same before it renders anything; the sandbox would refuse it too.
    assert refused(capsys, "build", "layout-runs-code")[0].startswith(f"{LAYOUT_CODE}:2: ")
    assert not (workdir / "pwned").exists()


def test_the_sandbox_refuses_python_internals_at_render_time():
    from jinja2.sandbox import SecurityError

    from publisher.errors import BuildError
    from publisher.templates import environment, render

    env = environment((ROOTS / "layout-runs-code" / "layouts",))
    with pytest.raises(BuildError) as caught:
        render(env, "partials/inside-front-cover.html.j2", issue=None)
    assert caught.value.message == ("layout template: access to attribute '__init__' of 'type' "
                                    "object is unsafe.")
    assert (caught.value.path.name, caught.value.line) == ("inside-front-cover.html.j2", 2)
    for attempt in ("''.__class__.__mro__", "lipsum.__globals__", "x.update({1: 2})"):
        with pytest.raises(SecurityError):
            env.from_string("{{ " + attempt + " }}").render(x={})


def test_a_layout_cannot_read_a_file_through_a_path(workdir, capsys):
    hostile(workdir, "layout-reads-file")
    (workdir / "secret.txt").write_text("the build machine's secret", encoding="utf-8")
    assert refused(capsys, "build", "layout-reads-file") == [
        "layout-reads-file/layouts/partials/inside-front-cover.html.j2:2: layout template: "
        "access to attribute 'with_name' of 'PosixPath' object is unsafe.",
    ]


@pytest.mark.parametrize("special", ["link out", "fifo", "not utf-8"])
def test_a_layout_file_must_be_a_regular_utf8_file_inside_its_folder(workdir, capsys, special):
    root = hostile(workdir, "layout-link-out", base="good-minimal")
    partial = root / "layouts" / "partials" / "inside-front-cover.html.j2"
    partial.parent.mkdir(parents=True)
    (workdir / "secret.txt").write_text("the build machine's secret", encoding="utf-8")
    if special == "link out":
        partial.symlink_to(workdir / "secret.txt")
        reason = f"a link to {workdir / 'secret.txt'} outside layout-link-out/layouts"
        found = f"{partial.relative_to(workdir)}: layout file: {reason}"
    elif special == "fifo":
        os.mkfifo(partial)
        reason = "not a regular file"
        found = f"{partial.relative_to(workdir)}: layout file: {reason}"
    else:
        partial.write_bytes(b"<p>\n\xff</p>\n")
        reason = "not UTF-8: byte 0xff cannot be read; save the file as UTF-8"
        found = f"{partial.relative_to(workdir)}:2: {reason}"
    assert refused(capsys, "validate", "layout-link-out") == [
        found, "publisher: 1 problem(s) found"]


@pytest.mark.parametrize("special", ["link out", "fifo"])
def test_the_build_refuses_a_layout_that_is_no_regular_file_inside(workdir, special):
    from publisher.errors import BuildError
    from publisher.templates import environment, render

    folder = workdir / "layouts"
    folder.mkdir()
    (workdir / "secret.txt").write_text("the build machine's secret", encoding="utf-8")
    if special == "link out":
        (folder / "a.html.j2").symlink_to(workdir / "secret.txt")
        reason = f"a link to {workdir / 'secret.txt'} outside {folder}"
    else:
        os.mkfifo(folder / "a.html.j2")
        reason = "not a regular file"
    (folder / "page.html.j2").write_text('<p>\n{% include "a.html.j2" %}\n', encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        render(environment((folder,)), "page.html.j2")
    assert str(caught.value) == (f"{folder / 'page.html.j2'}:2: layout template: `a.html.j2` is "
                                 f"{folder / 'a.html.j2'}, {reason}")


def test_an_issue_folder_cannot_link_its_layouts_elsewhere(workdir, capsys):
    root = hostile(workdir, "layouts-linked", base="good-minimal")
    (workdir / "elsewhere").mkdir()
    (root / "layouts").symlink_to(workdir / "elsewhere")
    assert refused(capsys, "build", "layouts-linked") == [
        f"layouts-linked/layouts: is a link to {workdir / 'elsewhere'}, outside the issue folder",
        "publisher: 1 problem(s) found",
    ]
