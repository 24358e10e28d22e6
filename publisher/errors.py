"""Errors that point at the source: every one carries a path and, where known, a line."""

from __future__ import annotations

import ast
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml


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


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader, but a number must be one Python can print: int() refuses a decimal of
    more than 4300 digits (ValueError), and str() a hexadecimal number as long when it prints."""

    def construct_yaml_int(self, node):
        number = super().construct_yaml_int(node)
        str(number)  # a hexadecimal number too long to print fails here, not where it prints
        return number


# YAML types that no field takes, refused at their line rather than taken for what they are not.
REFUSED_TAGS = {
    # Bytes would be taken for text past the checks of what a page may carry, which read the
    # text written in the file, here base64 (`!!binary Gw==` is an ESC).
    "binary": "`!!binary` gives bytes, not text: write the text itself",
    # A set would be taken for a list in an order that changes from one run to the next.
    "set": "`!!set` has no order: write a list, as in [a, b]",
}


def _refuse_tag(problem: str):
    def construct(loader: _Loader, node: yaml.Node):
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
    return construct


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
for _tag, _problem in REFUSED_TAGS.items():
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag(_problem))


def parse_yaml(text: str, path: Path, first_line: int = 1) -> tuple[Any, Any]:
    """(data, node) of a YAML text, or a SourceError at its line: a syntax error, or nesting
    too deep for the parser (a few hundred levels, which no issue needs)."""
    loader = _Loader(text)
    node = None
    try:
        # What yaml.safe_load does, keeping the node (its lines) instead of parsing twice.
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise yaml_error(exc, path, first_line) from None
    except ValueError:  # a date no calendar has (2015-13-01), or a number too long to print
        raise _unreadable_value(loader, node, path, first_line) from None
    except RecursionError:
        raise SourceError("YAML nested too deeply: write plain `key: value` lines",
                          path, first_line) from None
    finally:
        loader.dispose()
    for scalar in _scalars(node, set()):
        if (found := unprintable(scalar.value)) is None:
            continue
        char, message = found
        start = scalar.start_mark
        written = start.buffer.find(char, start.index, scalar.end_mark.index)
        if written < 0:  # an escape (`"\x1b"`): where the scalar starts
            raise SourceError(message, path, first_line + start.line, start.column + 1)
        raise SourceError(message, path, *line_column(start.buffer, written, first_line))
    return data, node


def _unreadable_value(loader, node, path: Path, first_line: int) -> SourceError:
    """The error at the first scalar YAML cannot make a value of: a date that is no date, or a
    number of more digits than Python reads or prints (4300, against a denial of service)."""
    for scalar in _scalars(node, set()):
        line = first_line + scalar.start_mark.line
        if scalar.tag == "tag:yaml.org,2002:timestamp":
            try:
                loader.construct_yaml_timestamp(scalar)
            except ValueError:
                return SourceError(f"`{scalar.value}` is no day of the calendar: write a date "
                                   "as 2015-10-20", path, line)
        elif scalar.tag == "tag:yaml.org,2002:int":
            try:
                loader.construct_yaml_int(scalar)
            except ValueError:
                return SourceError("a number too long to read: write it in quotes if it is "
                                   "text", path, line)
    return SourceError("a value YAML cannot read", path, first_line)


def _scalars(node, seen: set[int]):
    """The scalars of a YAML node tree in document order, each once (an alias repeats one)."""
    if node is None or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item, seen)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(key, seen)
            yield from _scalars(value, seen)


def yaml_error(exc: yaml.YAMLError, path: Path, first_line: int = 1) -> SourceError:
    """A YAML syntax error at its line (`first_line` is the file line of the YAML's first)."""
    mark = getattr(exc, "problem_mark", None)
    line = first_line + mark.line if mark else first_line
    problem = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if (lacking := _without_colon(problem, mark, context_mark)) is not None:
        at, text = lacking
        return SourceError(f"YAML: `{text}` has no `: ` after its name: write it as "
                           "name: value", path, first_line + at)
    message = f"YAML: {_hint(problem, mark) or problem}"
    if context and context_mark and context_mark.line + first_line != line:
        # The problem is often noticed a line after the real mistake: point at both.
        message += f" ({context} started on line {first_line + context_mark.line})"
    return SourceError(message, path, line)


def _without_colon(problem: str, mark: yaml.Mark | None,
                   context_mark: yaml.Mark | None) -> tuple[int, str] | None:
    """The line (from the YAML's first, 0) and text of a field written without its `: `
    (`column shuji`), which YAML notices only on a later line: a key it scanned to no `:`,
    or one that ran on into the next field's name."""
    if not isinstance(getattr(mark, "buffer", None), str):
        return None
    lines = mark.buffer.rstrip("\0").split("\n")
    if problem == "could not find expected ':'" and context_mark is not None:
        return context_mark.line, lines[context_mark.line].strip()
    if problem == "mapping values are not allowed here" and mark.line > 0:
        before = lines[mark.line - 1].strip()
        # The `:` YAML stopped at is the line's own name's: the name began on the line before.
        if lines[mark.line].find(":") == mark.column and before and ":" not in before \
                and not before.startswith(("-", "#")):
            return mark.line - 1, before
    return None


def _hint(problem: str, mark: yaml.Mark | None) -> str | None:
    """The cause and the fix of a YAML mistake editors make, in their words."""
    if problem.startswith("found character '\\t'"):
        return "a tab: indent with spaces"
    if problem != "mapping values are not allowed here" or not isinstance(
            getattr(mark, "buffer", None), str):
        return None
    start = mark.buffer.rfind("\n", 0, mark.index) + 1
    text = mark.buffer[start:mark.buffer.find("\n", mark.index)].rstrip("\0")
    key, _, value = text.strip().removeprefix("- ").partition(": ")
    if not value:
        return None
    return (f"`: ` inside a value starts a new field: put the {key} in quotes, "
            f'{key}: "{value.strip()}"')


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
