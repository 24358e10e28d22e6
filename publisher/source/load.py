"""issue.yaml + articles/*.md → Issue, reporting every problem at once as `path:line: message`.

Nothing is rendered or written here; a build starts only from an Issue that loaded cleanly.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import PIL.Image
import yaml
from pydantic import BaseModel, ValidationError

from publisher import fonts, templates
from publisher.errors import (
    IssueErrors,
    PublisherError,
    SourceError,
    read_utf8,
    yaml_error,
    yaml_line,
)
from publisher.source.markup import image_path, parse, walk
from publisher.source.model import Article, FrontMatter, Issue, Kind, Manifest, Span

MANIFEST = "issue.yaml"
ARTICLES = "articles"
ARTICLE_NAME = re.compile(r"^(\d+)-([a-z0-9][a-z0-9-]*)\.md$")
FULL_WIDTH_KINDS = {Kind.editorial, Kind.editor_note, Kind.back_cover}
# The pictures an article may show, with the media type the EPUB declares for each.
IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
# Private-use code points mean different glyphs in different fonts (and the layout uses some).
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def load_issue(root: Path | str) -> Issue:
    """Load and validate one issue folder; raise IssueErrors listing every problem found."""
    root = Path(root)
    if not root.is_dir():
        raise IssueErrors([SourceError("no such issue folder", root)])
    errors: list[PublisherError] = []
    manifest = _load_manifest(root / MANIFEST, errors)
    articles = _load_articles(root, manifest, errors)
    errors += _folders_outside(root)
    errors += fonts.config_errors(root)
    errors += templates.layout_errors(root)
    if errors or manifest is None:
        raise IssueErrors(errors)
    return Issue(root=root, articles=tuple(articles), **manifest.model_dump())


def _folders_outside(root: Path) -> list[PublisherError]:
    """An issue's own folders must be in it: a link from `layouts/` elsewhere would let the
    build read (and a template print) files of the machine."""
    return [SourceError(f"is a link to {(root / name).resolve()}, outside the issue folder",
                        root / name)
            for name in (ARTICLES, "layouts", "fonts")
            if os.path.lexists(root / name)
            and not (root / name).resolve().is_relative_to(root.resolve())]


def _load_manifest(path: Path, errors: list[PublisherError]) -> Manifest | None:
    if not path.is_file():
        errors.append(SourceError(f"no {MANIFEST} here: an issue folder starts with one", path))
        return None
    text = _read_text(path, errors)
    if text is None:
        return None
    data, node = _yaml(text, path, first_line=1, errors=errors)
    if data is None:
        return None
    return _validate(Manifest, data, node, path, 1, errors)


def _load_articles(
    root: Path, manifest: Manifest | None, errors: list[PublisherError]
) -> list[Article]:
    folder = root / ARTICLES
    # Hidden files (editors' ._ and .swp leftovers) and folders are not articles.
    files = (
        sorted(p for p in folder.glob("*.md") if not p.name.startswith(".") and not p.is_dir())
        if folder.is_dir()
        else []
    )
    if not files:
        errors.append(SourceError(f"no articles: put NN-slug.md files in {ARTICLES}/", folder))
        return []
    columns = {c.id: c.id for c in manifest.columns} if manifest else {}
    if manifest:
        columns.update({c.name: c.id for c in manifest.columns})
    orders: dict[int, Path] = {}
    articles: list[Article] = []
    fronts: dict[Path, Any] = {}  # each article's front matter as YAML nodes, for line numbers
    for path in files:
        match = ARTICLE_NAME.match(path.name)
        if not match:
            errors.append(
                SourceError(
                    "file name must be NN-slug.md: an order number, a dash, then lower-case "
                    "letters, digits and dashes",
                    path,
                )
            )
            continue
        order = int(match[1])
        if order in orders:
            # Still read the file, so that its own problems are reported in the same pass.
            errors.append(
                SourceError(
                    f"order number {match[1]} is already used by {orders[order].name}", path, 1
                )
            )
        orders.setdefault(order, path)
        loaded = _load_article(path, order, match[2], root, columns, manifest is not None, errors)
        if loaded:
            articles.append(loaded[0])
            fronts[path] = loaded[1]
    articles.sort(key=lambda a: a.order)
    _check_series(articles, fronts, errors)
    return articles


def _load_article(
    path: Path,
    order: int,
    slug: str,
    root: Path,
    columns: dict[str, str],
    check_column: bool,
    errors: list[PublisherError],
) -> tuple[Article, Any] | None:
    text = _read_text(path, errors)
    if text is None:
        return None
    lines = text.split("\n")  # only \n ends a line: U+2028 and the like are text
    closing = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() == "---"), None)
    if lines[0].rstrip() != "---" or closing is None:
        message = (
            "front matter not closed: end it with a line `---`"
            if lines[0].rstrip() == "---"
            else "no front matter: the file must start with a line `---`"
        )
        errors.append(SourceError(message, path, 1))
        return None
    data, node = _yaml("\n".join(lines[1:closing]), path, first_line=2, errors=errors)
    if data is None:
        return None
    meta = _validate(FrontMatter, data, node, path, 2, errors)
    if meta is None:
        return None
    ok = True
    if check_column and meta.column not in columns:
        line = yaml_line(node, ("column",), 2)
        known = ", ".join(dict.fromkeys(columns.values()))
        errors.append(
            SourceError(f"unknown column `{meta.column}` (issue.yaml lists: {known})", path, line)
        )
        ok = False
    body_start = closing + 1  # 0-based index of the first line after the closing ---
    body = "\n".join(lines[body_start:])
    if not body.strip():
        errors.append(
            SourceError("empty article: no text after the front matter", path, body_start + 1)
        )
        ok = False
    for number, line_text in enumerate(lines, start=1):
        private = next((ch for ch in line_text if PRIVATE_USE.match(ch)), None)
        if private:
            errors.append(
                SourceError(
                    f"private-use character U+{ord(private):04X}: fonts disagree on what it "
                    "shows; type the standard character",
                    path,
                    number,
                )
            )
            ok = False
    for token in parse(body):
        line = token.map[0] + body_start + 1 if token.map else None
        for child in walk(token.children or []):
            if child.type == "image" and not _image_ok(image_path(child), path, root, line, errors):
                ok = False
    if not ok:
        return None
    span = meta.span or (Span.full_width if meta.kind in FULL_WIDTH_KINDS else Span.two_column)
    fields = meta.model_dump(exclude={"column", "span"})
    article = Article(
        path=path,
        order=order,
        slug=slug,
        column=columns.get(meta.column, meta.column),
        span=span,
        body=body,
        body_line=body_start + 1,
        **fields,
    )
    return article, node


def _image_ok(
    src: str, path: Path, root: Path, line: int | None, errors: list[PublisherError]
) -> bool:
    if urlparse(src).scheme or src.startswith("/"):
        errors.append(
            SourceError(
                f"image `{src}` must be a file in the issue folder, named relative to the article",
                path,
                line,
            )
        )
        return False
    target = (path.parent / src).resolve()
    if not target.is_relative_to(root.resolve()):
        errors.append(SourceError(f"image `{src}` is outside the issue folder", path, line))
        return False
    if not target.is_file():
        errors.append(SourceError(f"missing image `{src}`", path, line))
        return False
    if target.suffix.lower() not in IMAGE_TYPES:
        # No SVG: it can reach outside the issue folder, and a manuscript is untrusted.
        kinds = ", ".join(sorted(IMAGE_TYPES))
        errors.append(SourceError(f"image `{src}` must be one of {kinds}", path, line))
        return False
    try:
        with PIL.Image.open(target) as picture:
            picture.verify()
    except (OSError, SyntaxError, ValueError):
        errors.append(SourceError(f"image `{src}` is not a picture that can be read", path, line))
        return False
    return True


def _check_series(
    articles: list[Article], fronts: dict[Path, Any], errors: list[PublisherError]
) -> None:
    """A speech names its series; an editor_note item before it must open that series."""
    opened: set[str] = set()
    for article in articles:
        if not article.series:
            continue
        if article.kind == Kind.editor_note:
            opened.add(article.series)
        elif article.series not in opened:
            errors.append(
                SourceError(
                    f"series `{article.series}` is not opened by an editor_note item "
                    "before this one",
                    article.path,
                    yaml_line(fronts[article.path], ("series",), 2),
                )
            )


def _read_text(path: Path, errors: list[PublisherError]) -> str | None:
    try:
        return read_utf8(path)
    except SourceError as error:
        errors.append(error)
        return None


def _yaml(text: str, path: Path, first_line: int, errors: list[PublisherError]) -> tuple[Any, Any]:
    """Parse YAML; return (data, node) or (None, None) after recording the error."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        errors.append(yaml_error(exc, path, first_line))
        return None, None
    if not isinstance(data, dict):
        errors.append(SourceError("expected `key: value` lines", path, first_line))
        return None, None
    for key_node, _ in node.value:
        if not isinstance(key_node.value, str) or key_node.tag != "tag:yaml.org,2002:str":
            errors.append(
                SourceError(
                    f"`{key_node.value}` is not a field name",
                    path,
                    first_line + key_node.start_mark.line,
                )
            )
            return None, None
    for key, line in _repeated_keys(node, first_line):
        errors.append(SourceError(f"field `{key}` is given twice", path, line))
    return data, node


def _repeated_keys(node: Any, first_line: int) -> list[tuple[str, int]]:
    seen: set[str] = set()
    repeated = []
    for key_node, _ in node.value:
        if key_node.value in seen:
            repeated.append((key_node.value, first_line + key_node.start_mark.line))
        seen.add(key_node.value)
    return repeated


def _validate(
    model: type[BaseModel],
    data: dict,
    node: Any,
    path: Path,
    first_line: int,
    errors: list[PublisherError],
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            field = _field_name(loc)
            if error["type"] == "extra_forbidden":
                message = f"unknown field `{field}`"
            elif error["type"] == "missing":
                message = f"missing required field `{field}`"
                loc = loc[:-1]
            else:
                reason = error["msg"].removeprefix("Value error, ")
                message = f"`{field}`: {reason}" if field else reason
            errors.append(SourceError(message, path, yaml_line(node, loc, first_line)))
        return None


def _field_name(loc: tuple) -> str:
    """`('byline', 1, 'name')` → `byline entry 2.name`: positions counted from 1, as editors do."""
    name = ""
    for part in loc:
        name += f" entry {part + 1}" if isinstance(part, int) else (f".{part}" if name else part)
    return name
