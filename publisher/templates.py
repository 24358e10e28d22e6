"""Jinja2 environment for the print layouts: an issue's own `layouts/` before the project's.

One loader searches the folders in order, so an issue overrides any template or partial by
putting a file of the same name in its `layouts/`. To extend the template it overrides, a
template names it with a leading `!` (`{% extends "!magazine.html.j2" %}`), which skips the
issue's folder, as in Sphinx.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

import jinja2

from publisher.errors import BuildError

PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """A project folder (`layouts`, `fonts`): beside the package in a checkout, inside it as
    `default_<name>` in a wheel (see pyproject.toml)."""
    beside = PACKAGE.parent / name
    return beside if beside.is_dir() else PACKAGE / f"default_{name}"


def search_path(issue_root: Path | None) -> tuple[Path, ...]:
    """The folders searched for templates and stylesheets, first match wins."""
    own = issue_root / "layouts" if issue_root is not None else None
    return tuple(p for p in (own, shipped("layouts")) if p is not None and p.is_dir())


class ChainLoader(jinja2.FileSystemLoader):
    """FileSystemLoader whose `!name` means: the same template, skipping the first folder."""

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        if template.startswith("!"):
            rest = jinja2.FileSystemLoader(self.searchpath[1:] or self.searchpath,
                                           encoding=self.encoding)
            return rest.get_source(environment, template[1:])
        return super().get_source(environment, template)


def environment(folders: tuple[Path, ...]) -> jinja2.Environment:
    """One environment over the folders of `search_path`; its filters come from the caller."""
    return jinja2.Environment(
        loader=ChainLoader(folders),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(env: jinja2.Environment, name: str, **context: object) -> str:
    """Render a template; if it (or one it includes) is missing, say which folders were searched;
    if one is broken, name its file and line."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        folders = ", ".join(str(p) for p in env.loader.searchpath)
        raise BuildError(f"layout template `{exc.name}` not found in: {folders}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"layout template: {exc.message}", exc.filename, exc.lineno) from None
    except jinja2.TemplateError as exc:
        path, line = _template_frame(exc, env)
        raise BuildError(f"layout template: {exc.message}", path, line) from None


def _template_frame(exc: Exception, env: jinja2.Environment) -> tuple[str | None, int | None]:
    """The innermost template file and line in the traceback (Jinja rewrites its frames so that
    they carry the template's own file name and line)."""
    folders = [str(p) for p in env.loader.searchpath]
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if any(f.filename.startswith(folder) for folder in folders)]
    return (frames[-1].filename, frames[-1].lineno) if frames else (None, None)


def stylesheet(folders: tuple[Path, ...], name: str) -> Path:
    """A stylesheet by name, found like a template (an issue's own copy first)."""
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    folders = ", ".join(str(p) for p in folders)
    raise BuildError(f"stylesheet `{name}` not found in: {folders}")
