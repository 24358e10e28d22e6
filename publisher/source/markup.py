"""Markdown → HTML fragments for article bodies (markdown-it-py with its plugins); pure.

Conventions of the source (see README): `##` is a 一、 heading, `###` a （一） heading, a
paragraph that opens with `**…**` has a run-in bold lead, `::: excerpt` holds a 微书摘 box whose
last paragraph starting with `——` is its attribution, and `![caption](file)` alone in a
paragraph is a figure with a caption, placed by `{width=60 span=page}` right after it (see
`placement`). Raw HTML is not allowed: manuscripts are untrusted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline, emphasis
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin

from publisher.cjk import CJK
from publisher.source.model import anchor

# An article's file name: its order number, a dash, its slug. A link names another item so.
ARTICLE_NAME = re.compile(r"^(\d+)-([a-z0-9][a-z0-9-]*)\.md$")
EXCERPT_LABEL = "微书摘"
# Where a link may lead outside the issue, and how messages name them.
WEB_SCHEMES = frozenset({"http", "https", "mailto"})
WEB_SCHEMES_SHOWN = "http://, https:// or mailto:"
ATTRIBUTION_DASH = "——"


def _cjk_emphasis(state: StateInline, silent: bool) -> bool:
    """`*` emphasis that opens and closes beside Chinese text.

    CommonMark does not close `**（一）关于…。**吴忠…`: a run after punctuation and before a letter
    is not right-flanking. In Chinese there are no spaces to lean on, so a `*` run touching a CJK
    character may open when text follows it and close when text precedes it.
    """
    start = state.pos
    first = len(state.delimiters)
    if not emphasis.tokenize(state, silent):
        return False
    before = state.src[start - 1] if start > 0 else " "
    after = state.src[state.pos] if state.pos < state.posMax else " "
    if state.src[start] == "*" and (CJK.match(before) or CJK.match(after)):
        for delimiter in state.delimiters[first:]:
            delimiter.open = not after.isspace()
            delimiter.close = not before.isspace()
    return True


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.disable(["code", "fence", "html_block", "html_inline", "lheading"])
    md.use(container_plugin, name="excerpt")
    md.use(attrs_plugin)  # {width=60 span=page} after a picture
    md.inline.ruler.at("emphasis", _cjk_emphasis)
    # Every link and picture becomes a token, whatever its scheme: markdown-it would leave a
    # `file:` one as literal text, and the loader refuses it by name instead.
    md.validateLink = lambda url: True
    md.add_render_rule("link_open", _link_open)
    return md


def item_link(href: str) -> int | None:
    """The order number of the item a link names by its file name (`020-slug.md`), or None."""
    match = ARTICLE_NAME.match(unquote(href))
    return int(match[1]) if match else None


def _link_open(self, tokens: list[Token], idx: int, options, env: dict) -> str:
    """A link to an item goes where the output puts that item (`env["item_href"]`)."""
    order = item_link(tokens[idx].attrGet("href") or "")
    if order is None:
        return self.renderToken(tokens, idx, options, env)
    return f'<a href="{escape(env["item_href"](order), quote=True)}">'


@lru_cache(maxsize=256)
def parse(body: str) -> tuple[Token, ...]:
    """The tokens of an article body, parsed once for every consumer (the loader's checks, the
    print HTML, the EPUB, keywords, labels); they are shared, so never change them."""
    return tuple(parser().parse(body))


def image_path(image: Token) -> str:
    """The file an image token names, as written: markdown-it percent-encodes 照片.png."""
    return unquote(image.attrGet("src") or "")


@dataclass(frozen=True)
class Placement:
    """Where a picture goes: `width` per cent of its column, or of the text block across both
    columns when `span`."""

    width: int = 100
    span: bool = False


PLACEMENT_KEYS = {"width", "span"}
MIN_WIDTH = 20  # per cent: narrower, a picture and its caption no longer read


def placement(image: Token) -> Placement:
    """The picture's `{width=N span=page}`; a ValueError says what is wrong with it."""
    unknown = sorted(set(image.attrs) - {"src", "alt", *PLACEMENT_KEYS})
    if unknown:
        raise ValueError(f"picture option `{unknown[0]}` unknown: write {{width=60}} (per cent "
                         "of the column) and/or {span=page} (across both columns)")
    width = str(image.attrs.get("width", "100"))
    match = re.fullmatch(r"(\d+)%?", width)
    if not match or not MIN_WIDTH <= int(match[1]) <= 100:
        raise ValueError(f"picture width `{width}`: write a share of the column from "
                         f"{MIN_WIDTH} to 100, e.g. {{width=60}}")
    span = str(image.attrs.get("span", "column"))
    if span not in ("column", "page"):
        raise ValueError(f"picture span `{span}`: write span=page to set it across both "
                         "columns (the default is its column)")
    return Placement(int(match[1]), span == "page")


def walk(tokens: list[Token]) -> Iterator[Token]:
    """Every token, inline children included, in document order."""
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def _shape(inline: Token) -> list[str]:
    """Types of an inline token's children, without the empty text runs markdown-it leaves."""
    return [
        c.type
        for c in inline.children or []
        if c.type != "softbreak" and not (c.type == "text" and not c.content)
    ]


def is_figure(tokens: tuple[Token, ...], index: int) -> bool:
    """Whether `tokens[index]` is a figure's: the inline content of a paragraph that holds one
    picture and nothing else (a picture in a heading or a sentence is none)."""
    return (index > 0 and tokens[index - 1].type == "paragraph_open"
            and _shape(tokens[index]) == ["image"])


def _inline_text(token: Token) -> str:
    return "".join(c.content for c in token.children or [] if c.type == "text")


def to_html(body: str, resolve_src: Callable[[str], str] = lambda src: src,
            item_href: Callable[[int], str] = lambda order: f"#{anchor(order)}") -> str:
    """Render a Markdown body to an HTML fragment; `resolve_src` maps an image path to its URL,
    `item_href` an item's order number to the URL of that item in the output."""
    md = parser()
    env = {"item_href": item_href}
    tokens = parse(body)
    out: list[str] = []
    in_excerpt = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "container_excerpt_open":
            in_excerpt = True
            out.append(f'<aside class="excerpt"><p class="excerpt-label">{EXCERPT_LABEL}</p>\n')
        elif token.type == "container_excerpt_close":
            in_excerpt = False
            out.append("</aside>\n")
        elif token.type == "paragraph_open":
            inline = tokens[i + 1]
            text = md.renderer.render(inline.children or [], md.options, env)
            shape = _shape(inline)
            if is_figure(tokens, i + 1):
                image = next(c for c in inline.children if c.type == "image")
                src = escape(resolve_src(image_path(image)), quote=True)
                caption = _inline_text(image)
                place = placement(image)
                width = f' style="--picture-width: {place.width}%"' if place.width < 100 else ""
                span = ' class="span"' if place.span else ""
                out.append(
                    f"<figure{span}{width}>"
                    f'<img src="{src}" alt="{escape(caption, quote=True)}"/>'
                    f"<figcaption>{escape(caption)}</figcaption></figure>\n"
                )
            elif in_excerpt and _inline_text(inline).startswith(ATTRIBUTION_DASH):
                out.append(f'<p class="attribution">{text}</p>\n')
            elif shape[:1] == ["strong_open"] and shape.index("strong_close") == len(shape) - 1:
                # One bold run alone: a point heading such as `**1. 全面二孩放开**`.
                out.append(f'<p class="point">{text}</p>\n')
            elif shape[:1] == ["strong_open"]:
                out.append(f'<p class="lead">{text}</p>\n')
            else:
                out.append(f"<p>{text}</p>\n")
            i += 3
            continue
        elif token.type in ("heading_open", "heading_close"):
            out.append(f"<{'/' if token.nesting < 0 else ''}{token.tag}>")
            if token.nesting < 0:
                out.append("\n")
        elif token.type == "inline":
            out.append(md.renderer.render(token.children or [], md.options, env))
        else:
            out.append(md.renderer.render([token], md.options, env))
        i += 1
    return "".join(out)


def plain_paragraphs(body: str) -> list[str]:
    """The text of every paragraph and heading in the body, markup removed, for checks and tests."""
    texts: list[str] = []
    for token in parse(body):
        if token.type == "inline":
            texts.append(
                "".join(
                    c.content
                    for c in walk(token.children or [])
                    if c.type in ("text", "code_inline")
                )
            )
    return texts
