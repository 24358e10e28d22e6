"""The warm build process: `publisher build` hands its build to a process that has its imports,
fonts, jieba's dictionary, the sections' parsed PDFs and every section's lines at hand, so that
an edit of one sentence reaches the page in about a second, not three.

The first build of an issue is made by the command itself, with its pool of workers; when it has
succeeded it starts the warm process, which loads what an edit's build needs while the editor
reads the pages, and waits for the next build. A build that would lay out the sections anew
(the first with other layouts, fonts or pictures, or after the cache was emptied) needs a pool
that the warm process, holding jieba and its caches, has no memory beside: it hands that build
back and ends, and the command builds it. The process ends after $PUBLISHER_SERVER_IDLE seconds
(default 900) with no build; `publisher server stop` ends it now, as `make clean` does;
PUBLISHER_SERVER=0 builds every time in the command's own process.

A warm process serves one user and one environment: its socket is in a folder only the user can
enter ($XDG_RUNTIME_DIR, else the temporary folder), named by a digest of the Python that runs
it, the tool's files and the environment, so a build never runs with code or settings other than
its command's. Builds are served one at a time; the command relays what the build prints and its
exit status, a command stopped (Ctrl-C, SIGTERM) stops its build, and a command whose warm
process ends before it answers builds itself."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

IDLE_SECONDS = 900
# A build's leftovers are collected once no other build has come for this long: a build that
# follows an edit's at once (`make` asking for the press PDF, say) does not wait for them.
LEFTOVERS_AFTER = 1.0
STOP_SECONDS = 30  # how long `stop` waits for a warm process to end
# A socket's path is at most 107 bytes (sun_path).
_MAX_ADDRESS = 107
# Variables that differ between two shells, or between make and a shell, and that no build
# reads (and make's own: MAKEFLAGS, MAKELEVEL, MAKE_TERMOUT …).
_PASSING = frozenset({"_", "PWD", "OLDPWD", "SHLVL", "MFLAGS", "COLUMNS", "LINES", "WINDOWID",
                      "TERM_SESSION_ID", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY"})
_FRAME = struct.Struct(">cI")  # kind, length of the payload
_serving = False


class Cold(Exception):
    """A build the warm process hands back: it would lay out the sections anew."""


def enabled() -> bool:
    return os.environ.get("PUBLISHER_SERVER", "1") != "0"


def serving() -> bool:
    """Whether this process is the warm one, making a build for a command."""
    return _serving


def _folder() -> Path | None:
    """The user's folder of warm processes' sockets, made if missing; None where another user
    could reach into it: one that owns it or the folder above (unless that is the system's, as
    /tmp is, where the sticky bit keeps others from renaming it), or may enter it."""
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
    folder = base / f"publisher-{os.getuid()}"
    try:
        above = base.stat()
        folder.mkdir(mode=0o700, exist_ok=True)
        status = folder.lstat()
    except OSError:
        return None
    others_above = above.st_uid not in (os.getuid(), 0) or (
        above.st_mode & 0o022 and not above.st_mode & stat.S_ISVTX)
    if others_above or not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() \
            or status.st_mode & 0o077:
        return None
    return folder


def _identity() -> str:
    """The digest that names the warm process a command may use: the Python that runs it, the
    tool's own files (code and data, such as the user dictionary, by size and time), the
    libraries installed (their versions), the environment and the umask."""
    import sysconfig

    from publisher.cache import package_files

    digest = hashlib.sha256(sys.executable.encode())
    for path in package_files():
        status = path.stat()
        digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    installed = Path(sysconfig.get_paths()["purelib"])
    digest.update(" ".join(sorted(p.name for p in installed.glob("*.dist-info"))).encode())
    for name, value in sorted(os.environ.items()):
        if name not in _PASSING and not name.startswith("MAKE"):
            digest.update(f"{name}={value}\0".encode())
    mask = os.umask(0)
    os.umask(mask)
    digest.update(str(mask).encode())
    return digest.hexdigest()[:20]


def address() -> Path | None:
    """The socket of this command's warm process, None where no folder for it is safe or its
    path is too long for a socket."""
    folder = _folder()
    path = folder / f"{_identity()}.sock" if folder is not None else None
    return path if path is not None and len(os.fsencode(path)) <= _MAX_ADDRESS else None


def _send(connection: socket.socket, kind: bytes, payload: bytes = b"") -> None:
    connection.sendall(_FRAME.pack(kind, len(payload)) + payload)


def _receive(connection: socket.socket) -> tuple[bytes, bytes] | None:
    head = _exactly(connection, _FRAME.size)
    if head is None:
        return None
    kind, length = _FRAME.unpack(head)
    payload = _exactly(connection, length)
    return None if payload is None else (kind, payload)


def _exactly(connection: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def served(argv: list[str]) -> int | None:
    """`publisher argv` (a build) made by the warm process: its exit status, with what it
    printed relayed here; None where no warm process answers, it handed the build back or it
    ended before it answered (then the command builds)."""
    path = address()
    if path is None:
        return None
    streams = {b"O": sys.stdout, b"E": sys.stderr}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(path))
            request = {"argv": argv, "cwd": os.getcwd(), "tty": sys.stderr.isatty(),
                       "columns": shutil.get_terminal_size().columns}
            connection.sendall(json.dumps(request).encode() + b"\n")
            while (frame := _receive(connection)) is not None:
                kind, payload = frame
                if kind == b"X":
                    return int(payload)
                if kind not in streams:  # handed back
                    return None
                _relayed(streams, kind, payload.decode())
    except OSError:
        pass
    return None


def _relayed(streams: dict, kind: bytes, text: str) -> None:
    """Print what the build printed; once a reader stops reading (`| head`), what follows is
    dropped and the build goes on, as a build of the command's own does."""
    if streams[kind] is None:
        return
    try:
        streams[kind].write(text)
        streams[kind].flush()
    except BrokenPipeError:
        streams[kind] = None


def start(root: Path, out_dir: Path, *, press: bool) -> None:
    """Start a warm process for the next build, unless one runs or no safe folder exists,
    readied for the issue at `root` just built into `out_dir`. It is on its own: it holds no
    terminal or pipe of the command's, and outlives it."""
    path = address()
    if path is None or _answers(path):
        return
    subprocess.Popen([sys.executable, "-m", "publisher.server", str(path), str(root.resolve()),
                      str(out_dir.resolve()), "press" if press else "print"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True, cwd="/")


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def stop() -> bool:
    """End the user's warm process, waiting for it to end (a build it makes is stopped);
    whether one was running."""
    folder = _folder()
    ended = [pid for pid_file in folder.glob("*.pid")
             if (pid := _running(pid_file)) is not None] if folder is not None else []
    for pid in ended:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in ended):
        time.sleep(0.05)
    return bool(ended)


def _running(pid_file: Path) -> int | None:
    """The pid of the warm process that `pid_file` names, if it still runs (a pid left by one
    that was killed may be another process's now)."""
    try:
        pid = int(pid_file.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if os.fsencode(pid_file.with_suffix(".sock")) in command else None


def _ask_to_end(path: Path) -> None:
    """Ask the warm process at `path` to end once it has made the build it is making."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        with contextlib.suppress(OSError):
            connection.connect(str(path))
            connection.sendall(json.dumps({"end": True}).encode() + b"\n")


class _Relay(io.TextIOBase):
    """A build's stdout or stderr, sent to its command as frames of `kind`. Once the command
    is gone, what the build prints is dropped: its end stops the build (`_serve_one`)."""

    def __init__(self, connection: socket.socket, kind: bytes, tty: bool):
        self.connection, self.kind, self.tty = connection, kind, tty

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError):
            _send(self.connection, self.kind, text.encode(errors="backslashreplace"))
        return len(text)

    def isatty(self) -> bool:
        return self.tty


def _warm_up(root: Path, out_dir: Path, *, press: bool) -> None:
    """Load what a build and an edit's layout need; then, where the issue's sections are in
    the cache, lay them out once (their lines kept for the first edit) and compose them from
    the cache, writing nothing (the first edit's composing finds the other sections parsed)."""
    from publisher import cli  # noqa: F401
    from publisher.build import sections_cached
    from publisher.pdf import sections
    from publisher.watch import rehearsal_steps, warm_up

    warm_up(pdf=True)
    sections.keep_lines()
    # Sources broken since the build end the rehearsal quietly: the next build says how.
    if sections_cached(root, out_dir, press=press):
        for _ in rehearsal_steps(root, out_dir, press=press):
            pass


def _serve_one(connection: socket.socket) -> bool:
    """Make the build a command asks for; whether to wait for the next."""
    global _serving
    from publisher import cli

    peer = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                     struct.calcsize("3i")))
    if peer[1] != os.getuid():  # the folder keeps others out; this, whatever befell it
        return True
    try:
        request = json.loads(connection.makefile("rb").readline())
        if request.get("end"):  # a warm process of another environment has taken over
            return False
        os.chdir(request["cwd"])
        relays = (_Relay(connection, b"O", request["tty"]),
                  _Relay(connection, b"E", request["tty"]))
    except (ValueError, KeyError, TypeError, AttributeError, OSError):
        return True
    done = threading.Event()

    def stop_with_command() -> None:
        # The command sends nothing more: its end (Ctrl-C, SIGTERM, killed) ends the build.
        with contextlib.suppress(OSError):
            connection.recv(1)
        if not done.is_set():
            import _thread

            _thread.interrupt_main()

    threading.Thread(target=stop_with_command, daemon=True).start()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    os.environ["COLUMNS"] = str(request.get("columns", 80))  # for the progress line's width
    code, go_on = None, True
    try:
        with contextlib.redirect_stdout(relays[0]), contextlib.redirect_stderr(relays[1]):
            _serving = True
            try:
                code = cli.main(request["argv"])
            finally:
                _serving = False
    except Cold:
        go_on = False
    except Exception:  # a bug: told to the command, and this process is not trusted again
        import traceback

        relays[1].write(traceback.format_exc())
        code, go_on = 1, False
    finally:
        done.set()
        del os.environ["COLUMNS"]
    if code == 143:  # SIGTERM came to this process (`publisher server stop`), not the command
        go_on = False
    with contextlib.suppress(OSError):
        if code is None:
            _send(connection, b"C")
        else:
            _send(connection, b"X", str(code).encode())
    return go_on


def serve(path: Path, root: Path, out_dir: Path, *, press: bool) -> None:
    """Serve builds at `path` until none comes for the idle time, readied for an issue."""
    with open(path.with_suffix(".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another is starting or running
            return
        pid_file = path.with_suffix(".pid")
        pid_file.write_text(str(os.getpid()))
        listener = None
        try:
            # One warm process a user: another environment's ends once its build is made.
            for other in path.parent.glob("*.sock"):
                if other != path:
                    _ask_to_end(other)
            os.environ.setdefault("PUBLISHER_WORKERS", "1")
            _warm_up(root, out_dir, press=press)
            from publisher.watch import collect_leftovers, collector_paused

            idle = float(os.environ.get("PUBLISHER_SERVER_IDLE", IDLE_SECONDS))
            path.unlink(missing_ok=True)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(path))
            listener.listen(8)
            listener.settimeout(idle)
            leftovers = False  # of a build, collected once no other has come for a moment
            while True:
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    if not leftovers:
                        break
                    collect_leftovers()
                    leftovers = False
                    listener.settimeout(idle)
                    continue
                # The collector's first walk after a build takes some 20 ms: after the answer.
                with connection, collector_paused():
                    connection.settimeout(None)
                    if not _serve_one(connection):
                        break
                leftovers = True
                listener.settimeout(LEFTOVERS_AFTER)
        except KeyboardInterrupt:
            pass
        finally:
            if listener is not None:
                listener.close()
                path.unlink(missing_ok=True)
            pid_file.unlink(missing_ok=True)


def main() -> None:
    # SIGTERM (`publisher server stop`) ends it as Ctrl-C would, removing its socket.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    path, root, out_dir, variant = sys.argv[1:]
    serve(Path(path), Path(root), Path(out_dir), press=variant == "press")
    os._exit(0)


if __name__ == "__main__":
    # Run as this package's module, not as __main__: the build asks it whether it is serving.
    from publisher import server

    server.main()
