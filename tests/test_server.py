"""The warm process (`publisher.server`): a build after the first is made by it, with the same
bytes as a build of the command's own; a broken edit is told as the command tells it; a build
that lays the sections out anew is handed back; no socket in a folder others may enter; the
process ends when idle. Every other test builds with PUBLISHER_SERVER=0 (conftest)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOTS

PUBLISHER = str(Path(sys.executable).parent / "publisher")
WAIT = 120  # seconds for a warm process to be ready on a busy two-core machine
ARTICLE = "articles/02-commentary.md"


@pytest.fixture
def desk(tmp_path):
    """A small issue, and the environment of an editor's shell with its own cache and runtime
    folder (a short one: a socket's path has at most 107 bytes); the warm processes it starts
    are ended after the test."""
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "epub-elements", issue)
    runtime = Path(tempfile.mkdtemp(prefix="pub-"))
    env = {**os.environ, "PUBLISHER_SERVER": "1", "XDG_RUNTIME_DIR": str(runtime),
           "PUBLISHER_CACHE": str(tmp_path / "cache"), "PUBLISHER_SERVER_IDLE": "300"}
    yield issue, env
    stopped = subprocess.run([PUBLISHER, "server", "stop"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    # And one started as the test ended, before it wrote its pid.
    for pid in _processes_naming(runtime):
        os.kill(pid, signal.SIGTERM)
        _wait_for_end(pid)
    shutil.rmtree(runtime)


def _processes_naming(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.fsencode(folder) in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def _build(issue: Path, out: Path, env: dict, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([PUBLISHER, "build", str(issue), "-o", str(out), *options], env=env,
                          capture_output=True, text=True, timeout=600)


def _socket(env: dict) -> Path:
    """The socket the warm process of `env` listens at, once it does."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for path in Path(env["XDG_RUNTIME_DIR"]).glob("publisher-*/*.sock"):
            with socket.socket(socket.AF_UNIX) as probe:
                if probe.connect_ex(str(path)) == 0:
                    return path
        time.sleep(0.1)
    raise AssertionError("no warm process started")


def _wait_for_end(pid: int) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} did not end")


def _edit(issue: Path, old: str, new: str) -> None:
    path = issue / ARTICLE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_edit_is_built_warm_with_the_bytes_of_a_cold_build(desk, tmp_path):
    issue, env = desk
    first = _build(issue, tmp_path / "first", env)
    assert first.returncode == 0, first.stderr
    assert "warm process" not in first.stderr  # the first build is the command's own
    _socket(env)

    _edit(issue, "。", "，再议。")
    warm = _build(issue, tmp_path / "warm", env)
    assert warm.returncode == 0, warm.stderr
    assert "publisher: building in the warm process" in warm.stderr
    assert "wrote" in warm.stderr and "Traceback" not in warm.stderr
    cold = _build(issue, tmp_path / "cold", {**env, "PUBLISHER_SERVER": "0",
                                              "PUBLISHER_CACHE": str(tmp_path / "cold-cache")})
    assert cold.returncode == 0, cold.stderr
    made = sorted(p.name for p in (tmp_path / "warm").iterdir())
    assert made == sorted(p.name for p in (tmp_path / "cold").iterdir()) and len(made) == 2
    for name in made:
        assert (tmp_path / "warm" / name).read_bytes() == (tmp_path / "cold" / name).read_bytes()


def test_a_broken_edit_is_told_in_one_line_and_the_process_goes_on(desk, tmp_path):
    issue, env = desk
    assert _build(issue, tmp_path / "out", env, "--epub").returncode == 0
    _socket(env)
    before = {p: p.read_bytes() for p in (tmp_path / "out").iterdir()}

    path = issue / ARTICLE
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("column:", "column: [", 1), encoding="utf-8")
    broken = _build(issue, tmp_path / "out", env, "--epub")
    assert broken.returncode == 1
    assert "building in the warm process" in broken.stderr
    assert f"{ARTICLE}:" in broken.stderr and "Traceback" not in broken.stderr
    assert {p: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before

    # A mistyped folder is told as the command tells it; the process goes on.
    missing = _build(issue.parent / "isue", tmp_path / "out", env, "--epub")
    assert missing.returncode == 1
    assert "isue" in missing.stderr and "Traceback" not in missing.stderr

    path.write_text(good.replace("。", "，再议。", 1), encoding="utf-8")
    mended = _build(issue, tmp_path / "out", env, "--epub")
    assert mended.returncode == 0, mended.stderr
    assert "building in the warm process" in mended.stderr
    assert "再议" in _book_text(tmp_path / "out")


def test_a_reader_that_stops_reading_stops_no_build(desk, tmp_path):
    issue, env = desk
    assert _build(issue, tmp_path / "out", env, "--epub").returncode == 0
    _socket(env)
    _edit(issue, "。", "，再议。")
    # `| head -1` reads the warm process's first line and closes the pipe: the build goes on.
    piped = subprocess.run(f"'{PUBLISHER}' build '{issue}' -o '{tmp_path / 'out'}' --epub 2>&1 "
                           "| head -1", shell=True, env=env, capture_output=True, text=True,
                           timeout=600)
    assert "building in the warm process" in piped.stdout
    assert "再议" in _book_text(tmp_path / "out")


def _book_text(out: Path) -> str:
    (book,) = out.glob("*.epub")
    with zipfile.ZipFile(book) as opened:
        return "".join(opened.read(name).decode() for name in opened.namelist()
                       if name.endswith(".xhtml"))


@pytest.mark.parametrize("outputs", [(), ("--epub",)], ids=["pdf-and-epub", "epub"])
def test_a_build_that_lays_out_anew_is_made_by_the_command(desk, tmp_path, outputs):
    # An EPUB's build lays out the print sections too: its page list reads where pages begin.
    issue, env = desk
    assert _build(issue, tmp_path / "out", env).returncode == 0
    warm = _socket(env)
    pid = int(warm.with_suffix(".pid").read_text())

    # A stylesheet of the issue's own: every section is laid out again, by the command's pool.
    (issue / "layouts").mkdir()
    shipped = Path(__file__).resolve().parent.parent / "layouts" / "cjk.css"
    (issue / "layouts" / "cjk.css").write_text(
        shipped.read_text(encoding="utf-8") + "\n/* this issue's own */\n", encoding="utf-8")
    restyled = _build(issue, tmp_path / "out", env, *outputs)
    assert restyled.returncode == 0, restyled.stderr
    assert "warm process" not in restyled.stderr
    assert "wrote" in restyled.stderr
    _wait_for_end(pid)  # it ended, and left its memory to the build
    assert int(_socket(env).with_suffix(".pid").read_text()) != pid  # a new one waits


def test_no_socket_where_others_may_enter(desk, tmp_path):
    issue, env = desk
    shared = Path(env["XDG_RUNTIME_DIR"]) / f"publisher-{os.getuid()}"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    asked = subprocess.run([sys.executable, "-c", "from publisher import server; "
                            "print(server.address())"], env=env, capture_output=True, text=True)
    assert asked.stdout.strip() == "None", asked.stderr
    done = _build(issue, tmp_path / "out", env, "--epub")
    assert done.returncode == 0, done.stderr
    assert list(shared.iterdir()) == []


def test_the_process_ends_when_idle(desk, tmp_path):
    issue, env = desk
    env["PUBLISHER_SERVER_IDLE"] = "3"
    assert _build(issue, tmp_path / "out", env, "--epub").returncode == 0
    folder = Path(env["XDG_RUNTIME_DIR"]) / f"publisher-{os.getuid()}"
    deadline = time.monotonic() + WAIT
    while not list(folder.glob("*.pid")) and time.monotonic() < deadline:
        time.sleep(0.05)
    (pid_file,) = folder.glob("*.pid")
    _wait_for_end(int(pid_file.read_text()))
    assert not list(folder.glob("*.sock")) and not pid_file.exists()


def test_one_warm_process_a_user(desk, tmp_path):
    issue, env = desk
    assert _build(issue, tmp_path / "out", env, "--epub").returncode == 0
    first = int(_socket(env).with_suffix(".pid").read_text())

    # Another environment, another warm process: it takes the place of the first.
    other = {**env, "SOURCE_DATE_EPOCH": "1446336000"}
    assert _build(issue, tmp_path / "other", other, "--epub").returncode == 0
    _wait_for_end(first)
    assert int(_socket(other).with_suffix(".pid").read_text()) != first
