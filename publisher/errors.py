"""Errors that point at the source: every one carries a path and, where known, a line."""

from __future__ import annotations

import ast
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PublisherError(Exception):
    """A problem in the user's input or environment; the CLI prints it without a traceback."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None,
                 column: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = str(self.path)
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}"


class SourceError(PublisherError):
    """A problem in an issue's sources (manifest, front matter, body, images)."""


class IssueErrors(PublisherError):
    """Every problem found in one issue, reported together."""

    def __init__(self, errors: list[PublisherError]):
        self.errors = sorted(errors, key=lambda e: (str(e.path or ""), e.line or 0, e.column or 0))
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return self.message


class BuildError(PublisherError):
    """A build that cannot produce a correct file (missing glyph, missing tool, bad layout)."""


class ImportTextError(PublisherError):
    """The legacy text cannot be read, or the importer would overwrite a file."""


# What XML 1.0 forbids (the EPUB is XML) and the C0 and C1 controls, which print nothing or
# garble: all but tab and the carriage return of a CRLF line end. U+2028 and U+2029 too: no
# font has a glyph for them, and YAML takes them for line breaks.
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]|\r(?!\n)")
# Private-use code points mean different glyphs in different fonts (and the layout uses some).
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
CONTROL_NAMES = {"\x00": "NUL", "\x0b": "VT", "\x0c": "FF", "\x1b": "ESC", "\x85": "NEL",
                 "\x7f": "DEL", "\x1c": "FS", "\x1d": "GS", "\x1e": "RS"}
# No source, layout or font file of a magazine issue comes near this; it keeps a runaway file
# (or a link to one) from filling memory.
MAX_FILE_BYTES = 32 * 2**20
MAX_PICTURE_BYTES = 64 * 2**20
LINK_LOOP = "Symlink loop from "  # pathlib's message, then the link's path as Python writes it


@contextmanager
def link_loops_named() -> Iterator[None]:
    """pathlib's RuntimeError on a link that leads back to itself (`Path.resolve()`, Python
    3.11 and 3.12), which a hostile issue folder may hold anywhere, as that link's SourceError."""
    try:
        yield
    except RuntimeError as exc:
        message = str(exc)
        if not message.startswith(LINK_LOOP):
            raise
        raise SourceError("a link that leads back to itself (a loop of links): not read",
                          ast.literal_eval(message.removeprefix(LINK_LOOP))) from None


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file, or a SourceError for a FIFO, device or folder (which could
    block or never end) or a file over `limit` bytes."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", path) from None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SourceError("not a regular file (a pipe, device or folder): not read", path)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise SourceError(f"larger than {limit // 2**20} MiB: not read", path)
    return data


def read_utf8(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a source file, or a SourceError naming the line of a byte that is not UTF-8."""
    raw = read_regular(path, limit)
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be read; save the file as UTF-8",
            path, raw.count(b"\n", 0, exc.start) + 1) from None
    bad = FORBIDDEN.search(text)
    if bad:
        raise SourceError(f"{describe(bad[0])} cannot be printed: delete it", path,
                          *line_column(text, bad.start()))
    return text


def read_utf8_inside(path: Path, root: Path) -> str:
    """`read_utf8` of a file of the issue folder `root`: a link out of it is refused, unread."""
    target = path.resolve()
    if target.exists() and not target.is_relative_to(root.resolve()):
        raise SourceError(f"is a link to {target}, outside the issue folder", path)
    return read_utf8(path)


def unprintable(text: str) -> tuple[str, str] | None:
    """The first character of `text` that no page may carry, and why."""
    if found := FORBIDDEN.search(text):
        return found[0], f"{describe(found[0])} cannot be printed: delete it"
    if found := PRIVATE_USE.search(text):
        return found[0], private_use(found[0])
    return None


def private_use(char: str) -> str:
    return (f"private-use character U+{ord(char):04X}: fonts disagree on what it shows; type "
            "the standard character")


def describe(char: str) -> str:
    """`control character U+001B (ESC)`, for an editor who cannot see the character."""
    kinds = {"\r": "lone carriage return", "\ufffe": "non-character", "\uffff": "non-character",
             "\u2028": "line separator", "\u2029": "paragraph separator"}
    kind = kinds.get(char) or "control character"
    name = CONTROL_NAMES.get(char, "")
    return f"{kind} U+{ord(char):04X}" + (f" ({name})" if name else "")


def line_column(text: str, index: int, first_line: int = 1) -> tuple[int, int]:
    """The file line and 1-based column of `text[index]` (`first_line` is the file line of the
    text's first); only \n ends a line, as everywhere here."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + first_line, index - line_start + 1
