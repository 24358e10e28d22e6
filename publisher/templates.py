"""Jinja2 environment for the print layouts: an issue's own `layouts/` before the project's.

One loader searches the folders in order, so an issue overrides any template or partial by
putting a file of the same name in its `layouts/`. To extend the template it overrides, a
template names it with a leading `!` (`{% extends "!magazine.html.j2" %}`), which skips the
issue's folder, as in Sphinx.
"""

from __future__ import annotations

import inspect
import os
import traceback
from collections.abc import Callable
from pathlib import Path, PurePath
from types import FunctionType

import jinja2
import jinja2.bccache
import jinja2.sandbox

from publisher import cache
from publisher.errors import BuildError, SourceError, read_utf8

PACKAGE = Path(__file__).resolve().parent
JINJA = str(Path(jinja2.__file__).parent)
MAX_TEMPLATE_BYTES = 2**20
# What a template may ask of a path: its name, never its contents or its folder.
PATH_PARTS = frozenset({"name", "stem", "suffix"})
# The largest value one `*` or `**` of a layout may make: items of a string or list, bits of a
# number. `"x" * 10**10` would take the machine's memory, `9 ** 9 ** 9` minutes of its time.
MAX_REPEATED = 2**20
MAX_POWER_BITS = 2**16


def shipped(name: str) -> Path:
    """A project folder (`layouts`, `fonts`): beside the package in a checkout, inside it as
    `default_<name>` in a wheel (see pyproject.toml)."""
    beside = PACKAGE.parent / name
    return beside if beside.is_dir() else PACKAGE / f"default_{name}"


def search_path(issue_root: Path | None) -> tuple[Path, ...]:
    """The folders searched for templates and stylesheets, first match wins."""
    own = issue_root / "layouts" if issue_root is not None else None
    return tuple(p for p in (own, shipped("layouts")) if p is not None and p.is_dir())


def own_folders(folders: tuple[Path, ...]) -> tuple[Path, ...]:
    """Of the layout `folders`, the issue's own: not the project's."""
    project = shipped("layouts").resolve()
    return tuple(folder for folder in folders if not folder.resolve().is_relative_to(project))


def hidden(path: Path, folder: Path) -> bool:
    """Whether `path` is hidden in `folder` (a part of its name there starts with a dot):
    editors' and tools' own files, which a build never reads nor the build cache hashes."""
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


class TemplateRefused(jinja2.TemplateError):
    """A template file that exists but may not be read: it is no regular file in its folder."""

    def __init__(self, name: str, file: Path, reason: str):
        super().__init__(f"`{name}` is {file}, {reason}")
        self.reason = reason


def inside(folder: Path, name: str) -> Path | None:
    """The file `name` (slash-separated) of a layout folder, or None if there is none;
    TemplateRefused if it resolves outside the folder (a link out) or is not a regular file."""
    candidate = folder.joinpath(*jinja2.loaders.split_template_path(name))
    if not os.path.lexists(candidate):
        return None
    target = candidate.resolve()
    if not target.is_relative_to(folder.resolve()):
        raise TemplateRefused(name, candidate, f"a link to {target} outside {folder}")
    if hidden(target, folder.resolve()):
        raise TemplateRefused(name, candidate, "hidden (a name starting with a dot): not a "
                                               "layout")
    if not target.is_file():
        raise TemplateRefused(name, candidate, "not a regular file")
    return target


class LayoutLoader(jinja2.BaseLoader):
    """Templates from the layout folders in order; `!name` means the same template, skipping
    the first folder. Only regular files inside their folder are read (no links out, no FIFOs)."""

    def __init__(self, folders: tuple[Path, ...]):
        self.searchpath = folders

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        name = template.removeprefix("!")
        folders = (self.searchpath[1:] or self.searchpath) if name != template else self.searchpath
        found = next(((index, file) for index, folder in enumerate(folders)
                      if (file := inside(folder, name)) is not None), None)
        if found is None:
            raise jinja2.TemplateNotFound(template)
        index, file = found
        try:
            source = read_utf8(file, MAX_TEMPLATE_BYTES)
        except SourceError as error:
            raise TemplateRefused(name, folders[index].joinpath(name), error.message) from None
        # Loaded again when the file changes, and when another is found first: an issue's new
        # override of a project template, or the same folders seen from another current folder.
        earlier = [folder.joinpath(name) for folder in folders[:index]]
        seen = (os.getcwd(), _stamp(file))
        return source, str(folders[index].joinpath(name)), lambda: (
            (os.getcwd(), _stamp(file)) == seen and not any(map(os.path.lexists, earlier)))


def _stamp(file: Path) -> int | None:
    try:
        return file.stat().st_mtime_ns
    except OSError:
        return None


class LayoutSandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja's sandbox (no `_` attributes, no changing lists or dicts), and no file operations:
    of a path (`article.path`, `issue.root`) a template may only ask the name, and of a record
    of the sources (an item, the issue) only its fields and properties; and no `*` or `**`
    that makes a value past MAX_REPEATED or MAX_POWER_BITS."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: object,
                   right: object) -> object:
        if _too_large(operator, left, right):
            raise jinja2.sandbox.SecurityError(
                f"`{operator}` would make a value too large for a layout to hold")
        return super().call_binop(context, operator, left, right)

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        if isinstance(obj, PurePath) and attr not in PATH_PARTS:
            return False
        if _is_record(obj) and not _record_data(obj, attr):
            return False
        return super().is_safe_attribute(obj, attr, value)


def _too_large(operator: str, left: object, right: object) -> bool:
    if operator == "*":
        return any(isinstance(items, str | list | tuple) and isinstance(times, int)
                   and len(items) * times > MAX_REPEATED
                   for items, times in ((left, right), (right, left)))
    return (isinstance(left, int) and isinstance(right, int) and abs(left) > 1
            and abs(left).bit_length() * right > MAX_POWER_BITS)


def _is_record(obj: object) -> bool:
    from pydantic import BaseModel

    return isinstance(obj, BaseModel) or (isinstance(obj, type) and issubclass(obj, BaseModel))


def _record_data(record: object, attr: str) -> bool:
    """Whether `attr` of a record is a field or a property: pydantic's methods would parse
    files and pickles (`parse_file`, `parse_raw`), so none of a record's may be called."""
    model = record if isinstance(record, type) else type(record)
    return attr in model.model_fields or isinstance(inspect.getattr_static(model, attr, None),
                                                    property)


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates as an earlier process compiled them, in the build cache: compiling takes a
    fifth of a second of each build's start, and of each section worker's. An entry is found by
    the template's name and file, and used only while the source has the checksum it was
    compiled from."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (data := cache.get("templates", bucket.key)) is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        cache.put("templates", bucket.key, bucket.bytecode_to_string())


def environment(folders: tuple[Path, ...]) -> jinja2.Environment:
    """One sandboxed environment over the folders of `search_path`: an issue's layouts come
    from outside and must not run code or read files. Its filters come from the caller."""
    return LayoutSandbox(
        loader=LayoutLoader(folders),
        bytecode_cache=CompiledTemplates(),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def layout_errors(issue_root: Path) -> list[SourceError]:
    """The mistakes `validate` can see in an issue's own `layouts/` without rendering: files
    that are links out or not regular, templates that are not UTF-8 or not Jinja, and names
    that reach for Python's internals (`__class__`), which the sandbox refuses at build time."""
    folder = issue_root / "layouts"
    if not folder.is_dir():
        return []
    env = environment(())
    errors = []
    for path in sorted(folder.rglob("*")):
        if path.is_dir() and path.resolve().is_relative_to(folder.resolve()):
            continue
        try:
            inside(folder, path.relative_to(folder).as_posix())
            if path.suffix != ".j2":
                continue
            tree = env.parse(read_utf8(path, MAX_TEMPLATE_BYTES))
        except TemplateRefused as exc:
            errors.append(SourceError(f"layout file: {exc.reason}", path))
            continue
        except SourceError as error:
            errors.append(error)
            continue
        except jinja2.TemplateSyntaxError as exc:
            errors.append(SourceError(f"layout template: {exc.message}", path, exc.lineno))
            continue
        by_line: dict[int, list[str]] = {}
        for node, attr in reversed(_refused_names(tree)):  # a chain's innermost name first
            by_line.setdefault(node.lineno, []).append(f"`{attr}`")
        errors += [SourceError(f"layout template: {', '.join(names)}: a layout may not reach "
                               "Python's internals", path, line)
                   for line, names in sorted(by_line.items())]
    return errors


def _refused_names(tree: jinja2.nodes.Template) -> list[tuple[jinja2.nodes.Node, str]]:
    """`x.__class__`, `x["_y"]` and `item.parse_raw`: attributes a sandboxed template may not
    read, and the methods of records that no other value it sees has."""
    named = [(node, node.attr) for node in tree.find_all(jinja2.nodes.Getattr)]
    named += [(node, node.arg.value) for node in tree.find_all(jinja2.nodes.Getitem)
              if isinstance(node.arg, jinja2.nodes.Const) and isinstance(node.arg.value, str)]
    methods = _record_methods()
    return [(node, name) for node, name in named if name.startswith("_") or name in methods]


def _record_methods() -> frozenset[str]:
    from pydantic import BaseModel

    shared = {name for kind in (dict, list, tuple, str) for name in dir(kind)}
    return frozenset(name for name in dir(BaseModel) if name not in shared and isinstance(
        inspect.getattr_static(BaseModel, name), (classmethod, staticmethod, FunctionType)))


def render(env: jinja2.Environment, name: str, **context: object) -> str:
    """Render a template; if it (or one it includes) is missing, say which folders were searched;
    if one is broken, name its file and line."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        folders = ", ".join(str(p) for p in env.loader.searchpath)
        raise BuildError(f"layout template `{exc.name}` not found in: {folders}",
                         *_template_frame(exc, env)) from None
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"layout template: {exc.message}", exc.filename, exc.lineno) from None
    except jinja2.TemplateError as exc:
        path, line = _template_frame(exc, env)
        raise BuildError(f"layout template: {exc.message}", path, line) from None
    except Exception as exc:
        # Raised by a template's own expression (`{{ 1 / 0 }}`), or by code a template called
        # with what it cannot take: the line of the innermost issue's own template on the way,
        # which may have handed a project template that; with none, the tool's bug.
        path, line = _template_frame(exc, env, innermost=True)
        if path is None:
            path, line = _template_frame(exc, env, issues_own=True)
            if path is None:
                raise
        raise BuildError(f"layout template: {type(exc).__name__}: {exc}", path, line) from None


def written_at(folders: tuple[Path, ...], text: str) -> tuple[Path | None, int | None]:
    """The template or stylesheet and line where `text` is written, searching the layout
    `folders` in order; (None, None) if it is in none (a template made it up)."""
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".j2", ".css")):
            try:
                source = read_utf8(path, MAX_TEMPLATE_BYTES)
            except SourceError:
                continue
            if (at := source.find(text)) >= 0:
                return path, source.count("\n", 0, at) + 1
    return None, None


def _template_frame(exc: Exception, env: jinja2.Environment, *, innermost: bool = False,
                    issues_own: bool = False) -> tuple[str | None, int | None]:
    """The innermost template file and line in the traceback (Jinja rewrites its frames so that
    they carry the template's own file name and line); with `innermost`, only if the error was
    raised there; with `issues_own`, of an issue's own template, not the project's."""
    searched = env.loader.searchpath
    folders = [str(p) for p in (own_folders(searched) if issues_own else searched)]
    frames = traceback.extract_tb(exc.__traceback__)
    if innermost:  # past Jinja's own code, which calls on the template's behalf
        while frames and frames[-1].filename.startswith(JINJA):
            frames.pop()
        frames = frames[-1:]
    frames = [f for f in frames if any(f.filename.startswith(folder) for folder in folders)]
    return (frames[-1].filename, frames[-1].lineno) if frames else (None, None)


def stylesheet(folders: tuple[Path, ...], name: str) -> Path:
    """A stylesheet by name, found like a template (an issue's own copy first)."""
    for folder in folders:
        try:
            found = inside(folder, name)
        except TemplateRefused as exc:
            raise BuildError(f"stylesheet {exc.message}") from None
        if found is not None:
            return found
    folders = ", ".join(str(p) for p in folders)
    raise BuildError(f"stylesheet `{name}` not found in: {folders}")
