"""The build cache: results that cost seconds (keywords, font coverage, laid-out outputs, the
EPUB's cover image, compiled templates), kept across runs in one folder.

The folder is `$PUBLISHER_CACHE`, else `$XDG_CACHE_HOME/publisher`, else `~/.cache/publisher`;
`make clean` empties it, and `python -m publisher.cache` prints it. Entries live under a
subfolder named by the tool's fingerprint (its version, its own files, WeasyPrint's version), so
a new version of the tool never reads an old one's results. Each entry is written to a temporary
file and renamed, so two builds at once never see half an entry, and carries a checksum: an entry
that does not match it is deleted and rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import publisher
from publisher.errors import MAX_PICTURE_BYTES, SourceError

MAGIC = b"publisher-cache 1\n"
_DIGEST = hashlib.sha256().digest_size


def folder() -> Path:
    """The cache folder (not created)."""
    if os.environ.get("PUBLISHER_CACHE"):
        return Path(os.environ["PUBLISHER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "publisher"


@cache
def fingerprint() -> str:
    """The tool's version, a digest of every file of the package (code, data, a dictionary) and
    the versions of the libraries whose output is cached."""
    digest = hashlib.sha256(publisher.__version__.encode())
    package = Path(publisher.__file__).parent
    for path in package_files():
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    # The installed distributions' names carry their versions (importlib.metadata is slower).
    installed = Path(sysconfig.get_paths()["purelib"])
    for library in ("weasyprint", "pypdf", "jieba", "fonttools", "ebooklib", "pillow", "jinja2"):
        digest.update(" ".join(sorted(p.name for p in installed.glob(f"{library}-*"))).encode())
    return digest.hexdigest()[:16]


def package_files() -> list[Path]:
    """The tool's own files, code and data (not Python's compiled copies), in order."""
    package = Path(publisher.__file__).parent
    return [path for path in sorted(package.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts]


def key(*parts: bytes | str) -> str:
    """A key for an entry: the digest of `parts`, each length-prefixed so that none can run into
    the next."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def file_key(path: Path | str, *parts: str) -> str:
    """A key for what is made from a file: its path, size and time (large files are not read
    to say whether they changed), and `parts`. OSError if the file cannot be found."""
    stat = Path(path).stat()
    return key(str(path), str(stat.st_size), str(stat.st_mtime_ns), *parts)


def _entry(kind: str, entry_key: str) -> Path:
    return folder() / fingerprint() / kind / entry_key[:2] / entry_key


def get(kind: str, entry_key: str) -> bytes | None:
    """The bytes stored under `kind`/`entry_key`, or None if there are none or they are damaged
    (then the entry is removed, so that the caller's result replaces it)."""
    path = _entry(kind, entry_key)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, payload = data[:len(MAGIC) + _DIGEST], data[len(MAGIC) + _DIGEST:]
    if head != MAGIC + hashlib.sha256(payload).digest():
        path.unlink(missing_ok=True)
        return None
    return payload


def put(kind: str, entry_key: str, payload: bytes) -> None:
    """Store `payload`; a cache that cannot be written only makes the next build slower."""
    path = _entry(kind, entry_key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def remembered(kind: str, entry_key: str, make: Callable[[], bytes]) -> bytes:
    """The bytes stored under `kind`/`entry_key`, else `make()`, stored there."""
    found = get(kind, entry_key)
    if found is None:
        found = make()
        put(kind, entry_key, found)
    return found


def get_json(kind: str, entry_key: str):
    data = get(kind, entry_key)
    try:
        return None if data is None else json.loads(data)
    except ValueError:
        return None


def put_json(kind: str, entry_key: str, value) -> None:
    put(kind, entry_key, json.dumps(value, ensure_ascii=False, sort_keys=True).encode())


def folder_entries(folder: Path, left_out: Callable[[Path], bool] = lambda path: False,
                   ) -> Iterator[tuple[Path, bytes]]:
    """Each file under `folder` (hidden ones and those `left_out` left out), in path order, by
    its path in the folder and what stands for its contents in a digest of sources. A link is
    not followed: its target's path stands for it, so a link to a device or a folder outside is
    never read. What is neither a regular file nor a link (a pipe, a device) is left out. A
    SourceError names what cannot be read."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", folder) from None
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith(".") or left_out(path):
            continue
        if entry.is_symlink():
            yield Path(entry.name), f"link to {os.readlink(path)}".encode()
        elif entry.is_dir(follow_symlinks=False):
            yield from ((entry.name / relative, content)
                        for relative, content in folder_entries(path, left_out))
        elif entry.is_file(follow_symlinks=False):
            yield Path(entry.name), file_digest(path)


# The hashes of files read before, by path, with what the file system said of each then (size,
# times, inode): a warm process (`watch`) reads a file again only once it has changed.
_digests: dict[str, tuple[tuple, bytes]] = {}
# A file changed within this long of a reading might change again within the same tick of its
# file system's clock, unseen: its hash is not kept (as git treats a "racily clean" file).
_SETTLED_NS = 2_000_000_000


def file_digest(path: Path) -> bytes:
    """The hash of a file's contents, or, for a large one, its size and time; a SourceError
    naming the file if it cannot be read (the error of a failed read names no file)."""
    try:
        info = path.stat()
        if info.st_size > MAX_PICTURE_BYTES:  # read whole, it would fill the memory
            return f"{info.st_size} bytes, modified {info.st_mtime_ns}".encode()
        signature = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino,
                     info.st_dev)
        known = _digests.get(str(path))
        if known is not None and known[0] == signature:
            return known[1]
        with path.open("rb") as data:
            digest = hashlib.file_digest(data, "sha256").digest()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", path) from None
    if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > _SETTLED_NS:
        _digests[str(path)] = (signature, digest)
    return digest


if __name__ == "__main__":
    sys.stdout.write(f"{folder()}\n")
