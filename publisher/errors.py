"""Errors that point at the source: every one carries a path and, where known, a line."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml


class PublisherError(Exception):
    """A problem in the user's input or environment; the CLI prints it without a traceback."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.message}"


class SourceError(PublisherError):
    """A problem in an issue's sources (manifest, front matter, body, images)."""


class IssueErrors(PublisherError):
    """Every problem found in one issue, reported together."""

    def __init__(self, errors: list[PublisherError]):
        self.errors = sorted(errors, key=lambda e: (str(e.path or ""), e.line or 0))
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return self.message


class BuildError(PublisherError):
    """A build that cannot produce a correct file (missing glyph, missing tool, bad layout)."""


class ImportTextError(PublisherError):
    """The legacy text cannot be read, or the importer would overwrite a file."""


# No source, layout or font file of a magazine issue comes near this; it keeps a runaway file
# (or a link to one) from filling memory.
MAX_FILE_BYTES = 32 * 1024 * 1024


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
        raise SourceError(f"larger than {limit // 2**20} MB: not read", path)
    return data


def read_utf8(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a source file, or a SourceError naming the line of a byte that is not UTF-8."""
    raw = read_regular(path, limit)
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be read; save the file as UTF-8",
            path, raw.count(b"\n", 0, exc.start) + 1) from None


def yaml_error(exc: yaml.YAMLError, path: Path, first_line: int = 1) -> SourceError:
    """A YAML syntax error at its line (`first_line` is the file line of the YAML's first)."""
    mark = getattr(exc, "problem_mark", None)
    line = first_line + mark.line if mark else first_line
    message = f"YAML: {getattr(exc, 'problem', None) or exc}"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark and context_mark.line != getattr(mark, "line", None):
        # The problem is often noticed a line after the real mistake: point at both.
        message += f" ({context} started on line {first_line + context_mark.line})"
    return SourceError(message, path, line)


def yaml_line(node: Any, loc: tuple, first_line: int = 1) -> int:
    """The file line of the YAML value at `loc` (keys and list indexes), or its nearest parent's."""
    line = node.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line = match[0].start_mark.line
            node = match[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return first_line + line
