"""Jinja2 environment for the print layouts: an issue's own `layouts/` before the project's.

One loader searches the folders in order, so an issue overrides any template or partial by
putting a file of the same name in its `layouts/`. To extend the template it overrides, a
template names it with a leading `!` (`{% extends "!magazine.html.j2" %}`), which skips the
issue's folder, as in Sphinx.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import string
import time
import traceback
from collections.abc import Callable, Generator
from contextvars import ContextVar
from pathlib import Path, PurePath
from types import FunctionType

import jinja2
import jinja2.bccache
import jinja2.compiler
import jinja2.environment
import jinja2.nodes
import jinja2.runtime
import jinja2.sandbox
from jinja2.sandbox import SecurityError
from jinja2.utils import generate_lorem_ipsum

from publisher import cache, recent
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
# A render's budget. The sample's largest render is 19,616 characters (its furniture) and its
# slowest 0.09 s of CPU: a layout that goes on for a thousand times that, or a hundred, would take
# the machine's memory or time rather than set an issue.
MAX_RENDERED = 2**24  # characters of a render, and of any text or value it puts together
MAX_RENDER_SECONDS = 10.0  # of the rendering thread's CPU time


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


class TooLarge(SecurityError):
    """A layout that would make a value, or a text, past its render's budget."""

    def __init__(self, what: str):
        super().__init__(f"`{what}` would make a value too large for a layout to hold")


# The render in progress in this thread: when its CPU time runs out.
_deadline: ContextVar[float | None] = ContextVar("layout_deadline", default=None)


class LayoutTemplate(jinja2.Template):
    """A template whose render, with all it includes, has MAX_RENDER_SECONDS."""

    def render(self, *args: object, **kwargs: object) -> str:
        if _deadline.get() is not None:
            return super().render(*args, **kwargs)
        token = _deadline.set(time.thread_time() + MAX_RENDER_SECONDS)
        try:
            return super().render(*args, **kwargs)
        finally:
            _deadline.reset(token)

    def make_module(self, vars: dict | None = None, shared: bool = False,
                    locals: dict | None = None) -> jinja2.environment.TemplateModule:
        """An `{% import %}`ed template, its text put together as a render's is."""
        context = self.new_context(vars, shared, locals)
        text = self.environment.concat(self.root_render_func(context))
        return jinja2.environment.TemplateModule(self, context, [text])


class LayoutCode(jinja2.compiler.CodeGenerator):
    """Jinja's code, but every loop's iteration is a step of the render and every `~` weighs
    what it joins first: `{% for %}` over `range(100000)` inside another, or a string doubled
    by `~` in a loop, would run for hours or fill the memory."""

    def visit_For(self, node: jinja2.nodes.For, frame: jinja2.compiler.Frame) -> None:
        # Each iteration first calls `environment.step` (through the sandbox's `call`).
        nodes = jinja2.nodes
        step = nodes.Call(nodes.EnvironmentAttribute("step"), [], [], None, None,
                          lineno=node.lineno)
        node.body.insert(0, nodes.ExprStmt(step, lineno=node.lineno))
        super().visit_For(node, frame)

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: jinja2.compiler.Frame) -> None:
        self.write("environment.joined(context, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class LayoutSandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja's sandbox (no `_` attributes, no changing lists or dicts), and no file operations:
    of a path (`article.path`, `issue.root`) a template may only ask the name, and of a record
    of the sources (an item, the issue) only its fields and properties; and a budget: no `*`,
    width or count that makes a value past MAX_REPEATED, no `**` past MAX_POWER_BITS, no text
    or value put together past MAX_RENDERED, and no render past MAX_RENDER_SECONDS."""

    code_generator_class = LayoutCode
    template_class = LayoutTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def step(self) -> None:
        """A loop's iteration, a call or a template loaded: stop a render out of time."""
        deadline = _deadline.get()
        if deadline is not None and time.thread_time() > deadline:
            raise SecurityError(f"the layout ran for over {MAX_RENDER_SECONDS:g} s of CPU time: "
                                "a loop or a recursion longer than any issue needs")

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: object,
                   right: object) -> object:
        if _too_large(operator, left, right):
            raise TooLarge(operator)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: object, *args: object,
             **kwargs: object) -> object:
        __self.step()
        if _call_too_large(__obj, args, kwargs):
            name = "lipsum" if __obj is generate_lorem_ipsum else f".{__obj.__name__}"
            raise TooLarge(f"{name}()")
        return super().call(__context, __obj, *args, **kwargs)

    def get_template(self, *args: object, **kwargs: object) -> jinja2.Template:
        self.step()  # an include, import or extends: a template that includes itself recurses
        return super().get_template(*args, **kwargs)

    def joined(self, context: jinja2.runtime.Context, parts: tuple) -> str:
        """`~`: the parts as one text, if it fits."""
        if _printed(parts) > MAX_RENDERED:
            raise TooLarge("~")
        join = jinja2.runtime.markup_join if context.eval_ctx.autoescape else \
            jinja2.runtime.str_join
        return join(parts)

    def concat(self, pieces) -> str:
        """A render's text, a `{% set %}` block's, a macro's or a block's, piece by piece as the
        template makes it: stopped where it runs past MAX_RENDERED."""
        kept, size = [], 0
        for piece in pieces:
            size += len(piece)
            if size > MAX_RENDERED:
                error = SecurityError(f"the layout's text runs past {MAX_RENDERED:,} characters: "
                                      "more than any issue needs")
                if isinstance(pieces, Generator):
                    pieces.throw(error)  # raised in the template, at the line that wrote it
                raise error
            kept.append(piece)
        return "".join(kept)

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        # Every test below, Jinja's included, turns on the object's type (a class's own, for a
        # class) and the name alone: judged once each, as a render asks thousands of times of
        # a few types' few names. Bounded, as a template may make names up.
        judged = (isinstance(obj, type), obj if isinstance(obj, type) else type(obj), attr)
        safe = _judged_attributes.get(judged)
        if safe is None:
            safe = recent.keep(_judged_attributes, judged, self._safe_attribute(obj, attr, value),
                               _JUDGED_ATTRIBUTES_KEPT)
        return safe

    def _safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        if isinstance(obj, PurePath) and attr not in PATH_PARTS:
            return False
        if _is_record(obj) and not _record_data(obj, attr):
            return False
        return super().is_safe_attribute(obj, attr, value)


# (whether a class, the type, the name) → whether a template may read that attribute.
_judged_attributes: dict[tuple[bool, type, str], bool] = {}
_JUDGED_ATTRIBUTES_KEPT = 4096


def _printed(value: object, seen: dict[int, int] | None = None) -> int:
    """About how many characters `value` prints as (a list holding one string a million times
    prints it a million times), counted only up to just past MAX_RENDERED."""
    if isinstance(value, str | bytes):
        return len(value)
    if not isinstance(value, list | tuple | set | frozenset | dict):
        return 1
    seen = {} if seen is None else seen
    if id(value) not in seen:
        total = len(value)
        for item in (value.items() if isinstance(value, dict) else value):
            total += _printed(item, seen)
            if total > MAX_RENDERED:
                break
        seen[id(value)] = total
    return seen[id(value)]


def _too_large(operator: str, left: object, right: object) -> bool:
    if operator == "*":
        if isinstance(left, int) and isinstance(right, int):
            return left.bit_length() + right.bit_length() > MAX_POWER_BITS
        return any(isinstance(items, str | list | tuple) and isinstance(times, int)
                   and _printed(items) * times > MAX_REPEATED
                   for items, times in ((left, right), (right, left)))
    if operator == "+":
        return (isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple)
                and _printed(left) + _printed(right) > MAX_RENDERED)
    if operator == "%":
        return isinstance(left, str) and _formatted(left, _PERCENT.findall(left), right)
    return (isinstance(left, int) and isinstance(right, int) and abs(left) > 1
            and abs(left).bit_length() * right > MAX_POWER_BITS)


# A `%` conversion's width and precision: a number, or `*` for one taken from the values.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d*)(?:\.(?:\*|\d*))?")


def _formatted(template: str, fields: list[str], values: object) -> bool:
    """Whether formatting `values` into `template` (`%`, `format`) may make a text past
    MAX_RENDERED: each of its `fields` as wide as the widest number it or, where it takes one
    from them (`%*d`, `{:{w}}`), the values give, and printing all the values."""
    items = list(values.values()) if isinstance(values, dict) else (
        list(values) if isinstance(values, list | tuple) else [values])
    widths = [int(number) for field in fields for number in re.findall(r"\d+", field)]
    if any("*" in field or "{" in field for field in fields):
        widths += [abs(item) for item in items if isinstance(item, int)]
    return len(template) + len(fields) * (max(widths, default=0) + _printed(items)) > \
        MAX_RENDERED


def _format_fields(template: str) -> list[str]:
    """The format specs of `str.format`'s replacement fields in `template`."""
    return [spec for _, name, spec, _ in string.Formatter().parse(template) if name is not None]


def _call_too_large(function: object, args: tuple, kwargs: dict) -> bool:
    """Whether a call a layout makes would make a value too large: a string's or a number's
    method that pads, repeats or joins, or `lipsum`."""
    if function is generate_lorem_ipsum:
        return _lipsum_too_large(*args, **kwargs)
    method = getattr(function, "__wrapped__", function)  # the sandbox's own str.format
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if isinstance(owner, int) and name == "to_bytes":
        return _argument(args, kwargs, 0, "length", 1) > MAX_REPEATED
    if not isinstance(owner, str | bytes):
        return False
    if name in ("center", "ljust", "rjust", "zfill"):
        return _argument(args, kwargs, 0, "width", 0) > MAX_REPEATED
    if name == "expandtabs":
        tabs = owner.count("\t" if isinstance(owner, str) else b"\t")
        return len(owner) + tabs * _argument(args, kwargs, 0, "tabsize", 8) > MAX_RENDERED
    if name == "replace" and len(args) >= 2:
        return _replaced(owner, *args) > MAX_RENDERED
    if name == "join" and args:
        return _printed(args[0]) + len(owner) * _printed(args[0]) > MAX_RENDERED
    if name == "translate" and isinstance(args[0] if args else None, dict):
        return len(owner) * max((_printed(v) for v in args[0].values()), default=1) > \
            MAX_RENDERED
    if name in ("format", "format_map") and isinstance(owner, str):
        values = args[0] if name == "format_map" and args else [*args, *kwargs.values()]
        return _formatted(owner, _format_fields(owner), values)
    return False


def _argument(args: tuple, kwargs: dict, index: int, name: str, default: object) -> int:
    value = args[index] if len(args) > index else kwargs.get(name, default)
    return value if isinstance(value, int) else 0


def _replaced(text: str | bytes, old: object, new: object, count: object = -1) -> int:
    """About how long `text` is with `old` replaced by `new` (`count` times at most)."""
    if not isinstance(old, str | bytes) or not isinstance(new, str | bytes):
        return len(text)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * len(new)


def _lipsum_too_large(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> bool:
    return any(not isinstance(v, int) for v in (n, max)) or n * max > MAX_REPEATED


# Filters that pad, repeat or join: what each would make is weighed before it runs (the
# arguments are the filter's own, without what Jinja passes first).
_FILTER_TOO_LARGE: dict[str, Callable[..., bool]] = {
    "center": lambda value, width=80: isinstance(width, int) and width > MAX_REPEATED,
    "indent": lambda s, width=4, first=False, blank=False: (
        isinstance(width, int) and width > MAX_REPEATED) or (
        _printed(s) + (str(s).count("\n") + 1) * (width if isinstance(width, int)
                                                  else _printed(width)) > MAX_RENDERED),
    "wordwrap": lambda s, width=79, break_long_words=True, wrapstring=None,
    break_on_hyphens=True: _printed(s) * (1 + _printed(wrapstring or "")) > MAX_RENDERED,
    "format": lambda value, *args, **kwargs: isinstance(value, str) and _formatted(
        value, _PERCENT.findall(value), kwargs or args),
    "replace": lambda s, old, new, count=None: _replaced(
        str(s), old, new, -1 if count is None else count) > MAX_RENDERED,
    "join": lambda value, d="", attribute=None: _printed(value) * (1 + _printed(d)) >
    MAX_RENDERED,
    "sum": lambda iterable, attribute=None, start=0: not isinstance(start, int | float) and (
        _printed(iterable) + _printed(start) > MAX_RENDERED),
    "batch": lambda value, linecount, fill_with=None: isinstance(linecount, int) and (
        linecount > MAX_REPEATED),
    "slice": lambda value, slices, fill_with=None: isinstance(slices, int) and (
        slices > MAX_REPEATED),
}
# Filters that read a whole iterable: given one that is no list, they get it as one to weigh.
_FILTER_LISTS = frozenset({"join", "sum"})


def _weighed(name: str, filter: Callable) -> Callable:
    """`filter`, first refusing a value past MAX_RENDERED to work on (every filter prints or
    reads what it is given) and, for those of _FILTER_TOO_LARGE, what it would make."""
    skip = 1 if jinja2.utils._PassArg.from_obj(filter) else 0
    too_large = _FILTER_TOO_LARGE.get(name)

    @functools.wraps(filter)
    def weighed(*args: object, **kwargs: object) -> object:
        if name in _FILTER_LISTS and len(args) > skip and not isinstance(args[skip], list | tuple):
            args = (*args[:skip], list(args[skip]), *args[skip + 1:])
        if len(args) > skip and _printed(args[skip]) > MAX_RENDERED or (
                too_large is not None and too_large(*args[skip:], **kwargs)):
            raise TooLarge(f"|{name}")
        return filter(*args, **kwargs)

    return weighed


def _finalized(value: object) -> object:
    """What `{{ … }}` prints, if it is not past MAX_RENDERED."""
    if _printed(value) > MAX_RENDERED:
        raise TooLarge("{{ }}")
    return value


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
    env = LayoutSandbox(
        loader=LayoutLoader(folders),
        bytecode_cache=CompiledTemplates(),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalized,
    )
    env.filters = {name: _weighed(name, f) for name, f in env.filters.items()}
    return env


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
