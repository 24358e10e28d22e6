"""The warm build process: `publisher build` hands its build to a process that has its imports,
fonts, jieba's dictionary, the sections' parsed PDFs and the lines of the last layouts at hand,
so that an edit of one sentence reaches the page in about a second, not three.

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
exit status, and a command stopped (Ctrl-C, SIGTERM) stops its build."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

IDLE_SECONDS = 900
START_SECONDS = 60  # how long a started process may take to be ready before it is not waited for
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
    owns it or may enter it: no socket there is trusted."""
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
    folder = base / f"publisher-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        status = folder.lstat()
    except OSError:
        return None
    if not folder.is_dir() or folder.is_symlink() or status.st_uid != os.getuid() \
            or status.st_mode & 0o077:
        return None
    return folder


def _identity() -> str:
    """The digest that names the warm process a command may use: the Python that runs it, the
    tool's own files (by size and time), the environment and the umask."""
    import publisher

    digest = hashlib.sha256(sys.executable.encode())
    package = Path(publisher.__file__).parent
    for path in sorted(package.rglob("*.py")):
        status = path.stat()
        digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    for name, value in sorted(os.environ.items()):
        if name not in _PASSING and not name.startswith("MAKE"):
            digest.update(f"{name}={value}\0".encode())
    mask = os.umask(0)
    os.umask(mask)
    digest.update(str(mask).encode())
    return digest.hexdigest()[:20]


def address() -> Path | None:
    """The socket of this command's warm process, None where no folder for it is safe."""
    folder = _folder()
    return folder / f"{_identity()}.sock" if folder is not None else None


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
    printed relayed here; None where no warm process answers or it handed the build back."""
    path = address()
    if path is None:
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
    except OSError:
        connection.close()
        return None
    with connection:
        request = {"argv": argv, "cwd": os.getcwd(), "tty": sys.stderr.isatty()}
        connection.sendall(json.dumps(request).encode() + b"\n")
        streams = {b"O": sys.stdout, b"E": sys.stderr}
        while (frame := _receive(connection)) is not None:
            kind, payload = frame
            if kind in streams:
                streams[kind].write(payload.decode())
                streams[kind].flush()
            elif kind == b"X":
                return int(payload)
            else:  # handed back
                return None
    return None  # the process ended before it answered: the build is made here


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
    """End the user's warm process; whether one was running."""
    folder = _folder()
    return folder is not None and any([_end(pid_file) for pid_file in folder.glob("*.pid")])


def _end(pid_file: Path) -> bool:
    """End the warm process whose pid `pid_file` holds, if it still runs."""
    try:
        pid = int(pid_file.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return False
    if str(pid_file.with_suffix(".sock")).encode() not in command:  # its pid is another's now
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        return True
    return False


class _Relay(io.TextIOBase):
    """A build's stdout or stderr, sent to its command as frames of `kind`."""

    def __init__(self, connection: socket.socket, kind: bytes, tty: bool):
        self.connection, self.kind, self.tty = connection, kind, tty

    def write(self, text: str) -> int:
        _send(self.connection, self.kind, text.encode())
        return len(text)

    def isatty(self) -> bool:
        return self.tty


def _warm_up(root: Path, out_dir: Path, *, press: bool) -> None:
    """Load what a build and an edit's layout need; then, where the issue's sections are in
    the cache, lay them out once (their lines kept for the first edit) and compose them from
    the cache, writing nothing (the first edit's composing finds the other sections parsed)."""
    from publisher import cli  # noqa: F401
    from publisher.build import sections_cached
    from publisher.context import resolve
    from publisher.errors import PublisherError
    from publisher.pdf import sections
    from publisher.source.load import load_issue
    from publisher.watch import warm_up

    warm_up(pdf=True)
    sections.keep_lines()
    if not sections_cached(root, out_dir, press=press):
        return
    try:
        context = resolve(load_issue(root))
        sections.rehearse(context, press=press, out_dir=out_dir)
        laid_out = sections.lay_out_issue(context, press=press, out_dir=out_dir)
        sections.compose(context, laid_out, sections.finish_layout(context, laid_out,
                                                                   out_dir=out_dir))
    except PublisherError:  # changed since the build: the next build says how
        pass


def _serve_one(connection: socket.socket) -> bool:
    """Make the build a command asks for; whether to wait for the next."""
    global _serving
    from publisher import cli

    try:
        request = json.loads(connection.makefile("rb").readline())
        os.chdir(request["cwd"])
    except (ValueError, KeyError, TypeError, OSError):
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
    code, go_on = None, True
    try:
        with contextlib.redirect_stdout(_Relay(connection, b"O", request["tty"])), \
                contextlib.redirect_stderr(_Relay(connection, b"E", request["tty"])):
            _serving = True
            try:
                code = cli.main(request["argv"])
            finally:
                _serving = False
    except Cold:
        go_on = False
    except OSError:  # the command went away
        return True
    except Exception:  # a bug: told to the command, and this process is not trusted again
        import traceback

        with contextlib.suppress(OSError):
            _send(connection, b"E", traceback.format_exc().encode())
        code, go_on = 1, False
    finally:
        done.set()
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
        # One warm process a user: one of another environment gives its memory to this one.
        for other in path.parent.glob("*.pid"):
            _end(other)
        os.environ.setdefault("PUBLISHER_WORKERS", "1")
        _warm_up(root, out_dir, press=press)
        idle = float(os.environ.get("PUBLISHER_SERVER_IDLE", IDLE_SECONDS))
        path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(8)
        listener.settimeout(idle)
        path.with_suffix(".pid").write_text(str(os.getpid()))
        try:
            while True:
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    break
                with connection:
                    connection.settimeout(None)
                    if not _serve_one(connection):
                        break
        except KeyboardInterrupt:
            pass
        finally:
            path.unlink(missing_ok=True)
            path.with_suffix(".pid").unlink(missing_ok=True)
            listener.close()


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
