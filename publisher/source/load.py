"""issue.yaml + articles/*.md → Issue, reporting every problem at once as `path:line: message`.

Nothing is rendered or written here; a build starts only from an Issue that loaded cleanly.
"""

from __future__ import annotations

import difflib
import io
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import PIL.Image
import PIL.ImageFile
from markdown_it.common.html_re import HTML_TAG_RE
from pydantic import BaseModel, ValidationError

from publisher import fonts, templates
from publisher.errors import (
    MAX_PICTURE_BYTES,
    PRIVATE_USE,
    IssueErrors,
    PublisherError,
    SourceError,
    link_loops_named,
    private_use,
    read_regular,
    read_utf8,
    read_utf8_inside,
    unprintable,
)
from publisher.source.markup import (
    ARTICLE_NAME,
    WEB_SCHEMES,
    WEB_SCHEMES_SHOWN,
    image_path,
    is_figure,
    item_link,
    parse,
    placement,
    walk,
)
from publisher.source.model import (
    Article,
    Byline,
    Column,
    EndNote,
    FrontMatter,
    Issue,
    Kind,
    Manifest,
    Span,
    Trim,
)
from publisher.yaml_text import parse_yaml, yaml_line

logger = logging.getLogger(__name__)
MANIFEST = "issue.yaml"
ARTICLES = "articles"
# Block containers the layout sets inside one another, up to MAX_DEPTH deep.
NESTED = {"bullet_list_open", "bullet_list_close", "ordered_list_open", "ordered_list_close",
          "blockquote_open", "blockquote_close", "container_excerpt_open",
          "container_excerpt_close"}
MAX_DEPTH = 4
FULL_WIDTH_KINDS = {Kind.editorial, Kind.editor_note, Kind.back_cover}
# What a Markdown file saved under another name ends in (`.MD`, a `.md.txt` from Notepad), in
# lower case; a note beside the articles (`notes.txt`) is not one.
MARKDOWN_ENDINGS = (".md", ".markdown", ".mdown", ".mkd", ".md.txt")
# The pictures an article may show, with the media type the EPUB declares for each.
IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


def picture_format(path: Path) -> str | None:
    """The format a picture's name says it is, as Pillow names it (JPEG, PNG…), or None."""
    media_type = IMAGE_TYPES.get(path.suffix.lower())
    return media_type.removeprefix("image/").upper() if media_type else None


# The records written inside a front matter or issue.yaml field, for suggesting a field name.
NESTED_RECORDS = (Byline, EndNote, Column, Trim)


def load_issue(root: Path | str) -> Issue:
    """Load and validate one issue folder; raise IssueErrors listing every problem found (or
    the SourceError of a link that leads back to itself, at the first one found)."""
    with link_loops_named():
        return _load_issue(Path(root))


def _load_issue(root: Path) -> Issue:
    if (missing := missing_folder(root)) is not None:
        raise IssueErrors([missing])
    errors: list[PublisherError] = []
    manifest = _load_manifest(root / MANIFEST, errors)
    articles = _load_articles(root, manifest, errors)
    outside = _links_outside(root)
    # What links out is not read at all, not even to list its mistakes.
    errors += outside or [*fonts.config_errors(root), *templates.layout_errors(root)]
    if errors or manifest is None:
        raise IssueErrors(errors)
    issue = Issue(root=root, articles=tuple(articles), **manifest.model_dump())
    for message in issue.missing_marks():
        logger.warning("%s: %s", root / MANIFEST, message)
    return issue


def load_manifest(root: Path) -> Manifest:
    """Only the issue's issue.yaml, validated: what the issue is, before its articles are read
    (the catalogue refuses two folders of one issue before building either); raise IssueErrors
    listing its problems."""
    errors: list[PublisherError] = []
    manifest = _load_manifest(root / MANIFEST, errors)
    if manifest is None:
        raise IssueErrors(errors)
    return manifest


def missing_folder(root: Path) -> SourceError | None:
    """The error of an issue folder that is not there (`watch` and `preview` wait for an
    issue's fixes, but not for its folder to appear)."""
    if root.is_dir():
        return None
    return SourceError("not a folder: an issue is the folder that holds issue.yaml"
                       if root.exists() else "no such issue folder", root)


def review_notes(issue: Issue) -> list[SourceError]:
    """The importer's `review:` notes still in the articles, as warnings at their lines."""
    notes = []
    for article in issue.articles:
        if not article.review:
            continue
        lines = read_utf8(article.path).split("\n")[: article.body_line]
        line = next((n for n, text in enumerate(lines, 1) if text.startswith("review:")), 1)
        notes += [SourceError(f"warning: to review: {note}", article.path, line)
                  for note in article.review]
    return notes


def _links_outside(root: Path) -> list[PublisherError]:
    """An issue's own folders and fonts.yaml must be in it: a link from `layouts/` elsewhere
    would let the build read (and a template print) files of the machine."""
    return [SourceError(f"is a link to {(root / name).resolve()}, outside the issue folder",
                        root / name)
            for name in (ARTICLES, "layouts", "fonts", f"fonts/{fonts.CONFIG}")
            if os.path.lexists(root / name)
            and not (root / name).resolve().is_relative_to(root.resolve())]


def _load_manifest(path: Path, errors: list[PublisherError]) -> Manifest | None:
    if not path.is_file():
        errors.append(SourceError(f"no {MANIFEST} here: an issue folder starts with one", path))
        return None
    text = _read_text(path, path.parent, errors)
    if text is None:
        return None
    data, node = _yaml(text, path, first_line=1, errors=errors)
    if data is None:
        return None
    manifest = _validate(Manifest, data, node, path, 1, errors)
    if manifest and manifest.press:
        # The press PDF embeds the profile: a file outside the issue would leave the machine.
        root = path.parent.resolve()
        profile = (root / manifest.press.profile).resolve()
        if not profile.is_relative_to(root):
            errors.append(SourceError("`press.profile`: the printer's ICC profile must be a file "
                                      "in the issue folder", path,
                                      yaml_line(node, ("press", "profile"))))
            return None
        if templates.hidden(profile, root):  # which the build does not read
            errors.append(SourceError("`press.profile`: the printer's ICC profile is hidden (a "
                                      "name starting with a dot): rename it", path,
                                      yaml_line(node, ("press", "profile"))))
            return None
    return manifest


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
    # Text an editor meant as an article, which a build would leave out without a word.
    errors += [SourceError("not read as an article: an article's file name ends in `.md`, in "
                           "lower case: rename it", path)
               for path in (sorted(folder.iterdir()) if folder.is_dir() else [])
               if not path.name.startswith(".") and path.suffix != ".md"
               and path.name.lower().endswith(MARKDOWN_ENDINGS) and path.is_file()]
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
    text = _read_text(path, root, errors)
    if text is None:
        return None
    lines = text.split("\n")  # only \n ends a line, in every line number the tool prints
    closing = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() == "---"), None)
    if lines[0].rstrip() != "---" or closing is None:
        message = (
            "front matter not closed: end it with a line `---`"
            if lines[0].rstrip() == "---"
            else "no front matter: the file must start with a line `---`"
        )
        errors.append(SourceError(message, path, 1))
        return None
    body_start = closing + 1  # 0-based index of the first line after the closing ---
    body = "\n".join(lines[body_start:])
    # The body is checked even when the front matter is wrong: every mistake in one run.
    found = len(errors)
    _check_private_use(lines[body_start:], body_start + 1, path, errors)
    _check_body(body, body_start + 1, path, root, errors)
    front = "\n".join(lines[1:closing])
    data, node = _yaml(front, path, first_line=2, errors=errors)
    meta = _validate(FrontMatter, data, node, path, 2, errors) if data is not None else None
    if meta is None:
        return None
    if check_column and meta.column not in columns:
        line = yaml_line(node, ("column",), 2)
        known = ", ".join(dict.fromkeys(columns.values()))
        errors.append(
            SourceError(f"unknown column `{meta.column}` (issue.yaml lists: {known})", path, line)
        )
    if len(errors) > found:
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


def _check_private_use(lines: list[str], first_line: int, path: Path,
                       errors: list[PublisherError]) -> None:
    """The body's (the front matter's are its YAML's: `parse_yaml`)."""
    for number, line_text in enumerate(lines, start=first_line):
        private = PRIVATE_USE.search(line_text)
        if private:
            errors.append(
                SourceError(private_use(private[0]), path, number, private.start() + 1)
            )


def _check_body(
    body: str, first_line: int, path: Path, root: Path, errors: list[PublisherError]
) -> None:
    """What the layout cannot set: no text, nesting deeper than it supports (markdown-it would
    drop the rest of the article), a box in a box, links and pictures that are not allowed."""
    if not body.strip():
        errors.append(
            SourceError("empty article: no text after the front matter", path, first_line)
        )
        return
    depth = excerpts = 0
    tokens = parse(body)
    for index, token in enumerate(tokens):
        line = token.map[0] + first_line if token.map else None
        if token.type in NESTED:
            depth += token.nesting
            # Once for each nesting too deep, at its first level past the limit.
            if depth == MAX_DEPTH + 1 and token.nesting > 0:
                errors.append(SourceError(
                    f"lists and `>` quotes nested more than {MAX_DEPTH} deep: the layout cannot "
                    "set them; flatten the text", path, line))
        if token.type.startswith("container_excerpt"):
            excerpts += token.nesting
            if excerpts == 2 and token.nesting > 0:
                errors.append(SourceError(
                    "a `::: excerpt` box inside another: close the first with `:::` before "
                    "opening the next", path, line))
        figure = is_figure(tokens, index)
        for child in walk(token.children or []):
            if child.type == "image" and not figure:
                # Only a figure's picture is packed into the EPUB and found from the article.
                errors.append(SourceError(
                    f"picture `{image_path(child)}` inside a paragraph's text: a picture "
                    "stands alone in its paragraph, as a figure with its caption", path, line))
            elif child.type == "image":
                _check_image(image_path(child), path, root, line, errors)
                try:
                    placement(child)
                except ValueError as exc:
                    errors.append(SourceError(str(exc), path, line))
            elif child.type == "link_open":
                _check_link(child.attrGet("href") or "", path, line, errors)
                _check_no_options(child, {"href", "title"}, "a link", path, line, errors)
            elif child.type == "code_inline":
                _check_no_options(child, set(), "a `code` span", path, line, errors)
        if token.type == "inline":
            _check_inline_text(token, path, line, errors)
            if tokens[index - 1].type == "paragraph_open":
                _check_no_unset_markup(token, path, line, errors)
        if token.type == "heading_open" and token.tag == "h1":
            errors.append(SourceError(
                "a `# ` heading: an article's headings are `## ` and `### `, its title is in "
                "the front matter", path, line))


# Markdown that the layouts do not set, which would print as its marks: the pattern of a line of
# a paragraph, and what to say of it.
UNSET_MARKUP = (
    (re.compile(r"(```|~~~)"), "a code block's fence (```) would print as text: the layouts set "
                               "no code blocks; delete the fences"),
    (re.compile(r":::"), "`:::` would print as text: it opens and closes only a 微书摘 box, "
                         "`::: excerpt`"),
    (re.compile(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$"),
     "a table would print as text, rules and all: the layouts set no tables; write it as text"),
    (re.compile(r"=+\s*$"), "a line of `=` would print as text: write the heading above it as "
                            "`## …`"),
)


def _check_no_unset_markup(inline, path: Path, line: int | None,
                           errors: list[PublisherError]) -> None:
    """Name the first line of a paragraph written in Markdown that markdown-it was told not to
    read (fences, `===` under a heading) or that no layout sets (tables, other `:::` boxes)."""
    for offset, text in enumerate(inline.content.split("\n")):
        found = next((what for pattern, what in UNSET_MARKUP if pattern.match(text.strip())),
                     None)
        if found:
            errors.append(SourceError(found, path, None if line is None else line + offset))
            return


def _check_inline_text(inline, path: Path, line: int | None,
                       errors: list[PublisherError]) -> None:
    """A paragraph's text as markdown-it reads it: the first raw HTML typed, and the first character
    a reference (`&#xE000;`, `&#0;`) gives that no page may carry, each at its own line.
    markdown-it cuts the text at each line's end, so a comment or tag over several lines is
    looked for in the text joined again (not across a `code` span, which shows HTML as code)."""
    text = "".join(child.content if child.type == "text"
                   else "\n" if child.type in ("softbreak", "hardbreak") else "\0"
                   for child in inline.children or [])

    def at(index: int) -> int | None:
        return None if line is None else line + text.count("\n", 0, index)

    # `&lt;b&gt;` is text, which prints as `<b>`, as its writer meant.
    typed = (tag for tag in HTML_TAG_RE.finditer(text)
             if tag[0].split("\n")[0] in inline.content)
    if tag := next(typed, None):
        first, *more = tag[0].split("\n")
        errors.append(SourceError(
            f"raw HTML `{first}{' …' if more else ''}`: an article is Markdown, which prints "
            "HTML as text: use Markdown (**bold**, ## headings) or delete it", path,
            at(tag.start())))
    if "&" not in inline.content:  # no character reference
        return
    # A character typed as itself is named with its column where the file is read.
    typed_chars = set(inline.content)
    referenced = "".join(" " if char in typed_chars else char for char in text)
    if bad := unprintable(referenced.replace("\0", " ")):
        errors.append(SourceError(f"a character reference gives a {bad[1]}", path,
                                  at(referenced.index(bad[0]))))
    elif "\ufffd" in referenced:
        errors.append(SourceError(
            "a character reference (`&#0;`, `&#x1b;`) names no character a page may carry: "
            "delete it", path, at(referenced.index("\ufffd"))))


def _check_no_options(token, own: set[str], what: str, path: Path, line: int | None,
                      errors: list[PublisherError]) -> None:
    """`{style=…}` after a link or code would hide its text or reach the outputs' HTML: only
    a picture takes options in braces."""
    given = sorted(set(token.attrs) - own)
    if given:
        errors.append(SourceError(f"`{{{given[0]}=…}}` after {what}: only a picture takes "
                                  "options in braces; delete them", path, line))


def _check_link(href: str, path: Path, line: int | None, errors: list[PublisherError]) -> None:
    """Web links, and links to another item by its file name: a link to any other file or an
    anchor would point into the build machine, or at nothing in the EPUB."""
    parts, shown = urlparse(href), unquote(href)
    if item_link(href) is not None:
        if (path.parent / shown).is_file():
            return
        problem = "no such item in the issue"
    elif parts.scheme in WEB_SCHEMES and (parts.netloc or parts.scheme == "mailto"):
        if not any(ch.isspace() for ch in shown):
            return
        problem = "has a space in it: write it as %20"
    else:
        problem = (f"a link goes to a web address ({WEB_SCHEMES_SHOWN}) or to an item "
                   "of the issue by its file name (020-slug.md)")
    errors.append(SourceError(f"link `{shown}`: {problem}", path, line))


def _check_image(
    src: str, path: Path, root: Path, line: int | None, errors: list[PublisherError]
) -> None:
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
    if templates.hidden(target, root.resolve()):
        # The build reads no hidden file, nor does the cache look at one.
        errors.append(SourceError(f"image `{src}` is hidden (a name starting with a dot): "
                                  "rename it", path, line))
        return False
    if not os.path.lexists(path.parent / src):
        errors.append(SourceError(f"missing image `{src}`", path, line))
        return False
    if target.suffix.lower() not in IMAGE_TYPES:
        # No SVG: it can reach outside the issue folder, and a manuscript is untrusted.
        kinds = ", ".join(sorted(IMAGE_TYPES))
        errors.append(SourceError(f"image `{src}` must be one of {kinds}", path, line))
        return False
    problem = _picture_problem(target, path, line, src)
    if problem:
        errors.append(SourceError(problem, path, line))


def _picture_problem(target: Path, path: Path, line: int | None, src: str) -> str | None:
    """What is wrong with the picture, or None: it is decoded in full, since a truncated
    JPEG passes Pillow's verify(). Pillow's warnings are logged as the article's."""
    try:
        data = read_regular(target, MAX_PICTURE_BYTES)
    except SourceError as error:
        return f"image `{src}`: {error.message}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Only the decoder its name says: Pillow would pick one from the contents, and hand
        # PostScript to Ghostscript.
        kind = picture_format(target)
        try:
            picture = PIL.Image.open(io.BytesIO(data), formats=[kind])
        except PIL.Image.DecompressionBombError:
            return f"image `{src}` has too many pixels to decode safely: scale it down"
        except (OSError, SyntaxError, ValueError):
            return f"image `{src}` is not a {kind} picture that can be read: export it as one"
        # WeasyPrint, once imported, lets Pillow pad a cut-short picture silently.
        lenient, PIL.ImageFile.LOAD_TRUNCATED_IMAGES = PIL.ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            with picture:
                picture.load()
        except (OSError, SyntaxError, ValueError) as exc:
            return f"image `{src}` is damaged ({exc}): export it again"
        finally:
            PIL.ImageFile.LOAD_TRUNCATED_IMAGES = lenient
    for warning in caught:
        reason = ("is very large: it may be a decompression bomb; scale it down"
                  if issubclass(warning.category, PIL.Image.DecompressionBombWarning)
                  else f"may not print as expected ({warning.message})")
        logger.warning("%s:%s: image `%s` %s", path, line, src, reason)
    return None


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


def _read_text(path: Path, root: Path, errors: list[PublisherError]) -> str | None:
    """A source file's text, if it is a regular UTF-8 file in the issue folder (not a link
    out of it, a pipe or a device)."""
    try:
        return read_utf8_inside(path, root)
    except SourceError as error:
        errors.append(error)
        return None


def _yaml(text: str, path: Path, first_line: int, errors: list[PublisherError]) -> tuple[Any, Any]:
    """Parse YAML; return (data, node) or (None, None) after recording the error."""
    try:
        data, node = parse_yaml(text, path, first_line)
    except SourceError as error:
        errors.append(error)
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
                message = f"unknown field `{field}`" + _nearest(loc[-1], model, len(loc))
            elif error["type"] == "missing":
                message = f"missing required field `{field}`"
                loc = loc[:-1]
            else:
                reason = _reason(error)
                message = f"`{field}`: {reason}" if field else reason
            errors.append(SourceError(message, path, yaml_line(node, loc, first_line)))
        return None


def _nearest(key: object, model: type[BaseModel], depth: int) -> str:
    """`: did you mean `subtitle`?` for a mistyped field name, or nothing."""
    known = model.model_fields if depth == 1 else {
        name for record in NESTED_RECORDS for name in record.model_fields}
    close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
    return f": did you mean `{close[0]}`?" if close else ""


# pydantic's complaints in an editor's words, for the mistakes YAML lets through; `{given}` is
# what the file says, the rest pydantic's context (`{le}`: the largest value allowed …).
REASONS = {
    "enum": "`{given}` is not one of {expected}",
    "literal_error": "`{given}` is not one of {expected}",
    "string_too_short": "is empty: write the text, or remove the line",
    "string_type": "write text here",
    "int_parsing": "`{given}` is not a whole number",
    "int_type": "write a whole number here",
    "int_from_float": "`{given}` is not a whole number",
    "float_parsing": "`{given}` is not a number",
    "float_type": "write a number here",
    "date_type": "write a date, as 2015-10-20",
    "less_than_equal": "{given} is more than {le}",
    "greater_than_equal": "{given} is less than {ge}",
    "less_than": "{given} must be less than {lt}",
    "greater_than": "{given} must be more than {gt}",
    "too_short": "needs at least one entry",
    "string_pattern_mismatch": "`{given}` may hold only lower-case letters, digits and dashes",
    "tuple_type": "write a list, as in [a, b]",
    "model_type": "write `key: value` fields here",
    "model_attributes_type": "write `key: value` fields here",
    "dict_type": "write `key: value` fields here",
}


def _reason(error: dict) -> str:
    context = {**(error.get("ctx") or {}), "given": error.get("input")}
    context["expected"] = str(context.get("expected", "")).replace("'", "")
    if error["type"] in REASONS:
        return REASONS[error["type"]].format(**context)
    return error["msg"].removeprefix("Value error, ")


def _field_name(loc: tuple) -> str:
    """`('byline', 1, 'name')` → `byline entry 2.name`: positions counted from 1, as editors do."""
    name = ""
    for part in loc:
        name += f" entry {part + 1}" if isinstance(part, int) else (f".{part}" if name else part)
    return name
