"""YAML texts (issue.yaml, front matter, fonts.yaml) read with their lines: a mistake is a
SourceError at its line. Apart from `publisher.errors`, which every command imports, as a
command that reads no YAML (`publisher build` handing its build to the warm process) need not
import the parser."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from publisher import recent
from publisher.errors import SourceError, line_column, unprintable


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


# (data, node) of the texts parsed lately, by text: `watch` and the warm process load the
# issue again for every edit, which changes one article's body, seldom a front matter.
_parsed: dict[str, tuple[Any, Any]] = {}
_PARSED_KEPT = 1024


def parse_yaml(text: str, path: Path, first_line: int = 1) -> tuple[Any, Any]:
    """(data, node) of a YAML text, or a SourceError at its line: a syntax error, or nesting
    too deep for the parser (a few hundred levels, which no issue needs). The data is the
    caller's own; the node, whose marks tell lines, is shared."""
    if text not in _parsed:
        recent.keep(_parsed, text, _parsed_text(text, path, first_line), _PARSED_KEPT)
    data, node = _parsed[text]
    return copy.deepcopy(data), node


def _parsed_text(text: str, path: Path, first_line: int) -> tuple[Any, Any]:
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
