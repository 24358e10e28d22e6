"""What an EPUB's documents and stylesheets may refer to: the book's own files, and the web
from a link. An issue's `layouts/epub/` templates come from outside: an `@import` or `url()` of
a stylesheet, or a document's `src` or `href`, to a server or a `file:` would have a reading
system fetch it; a frame, object, script or event handler (`onerror`) would run or show what
the book does not hold, and so would a DOCTYPE's declarations or DTD, read by a reader's
parser."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from posixpath import dirname, join, normpath
from urllib.parse import unquote, urlsplit
from xml.parsers import expat

import tinycss2
from lxml import etree

from publisher.source.markup import WEB_SCHEMES

# Attributes whose value a reading system fetches (or, of a link, opens), or resolves the
# book's own names against (`xml:base`).
REFERENCES = frozenset({"src", "href", "data", "poster", "srcset", "imagesrcset", "action",
                        "formaction", "background", "cite", "longdesc", "manifest", "icon",
                        "ping", "base", "lowsrc", "dynsrc", "codebase", "classid", "archive",
                        "profile"})
SRCSETS = frozenset({"srcset", "imagesrcset"})  # `name 1x, name 2x`
SVG_NS = "http://www.w3.org/2000/svg"
# CSS functions whose strings are addresses.
URL_FUNCTIONS = frozenset({"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade"})
# Elements that embed or run what the book does not hold, or (SVG's animations) set a reference
# the attributes do not show.
EMBEDDING = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet",
                       "base", "form", "portal", "set", "animate"})


def _own(reference: str, at: str, carried: Collection[str]) -> bool:
    """A file the book carries (`carried`: names in the package), named relative to the file
    `at` that refers to it, or an anchor in that file, or data the reference holds itself
    (`data:`). A name that climbs out of the package (`../../etc/passwd`) or is absolute names
    none of the book's files, whatever a reading system would make of it."""
    parts = urlsplit(reference.strip())
    if parts.scheme == "data":
        return True
    if parts.scheme or parts.netloc:
        return False
    return not parts.path or normpath(join(dirname(at), unquote(parts.path))) in carried


def parsed(xhtml: bytes) -> etree._Element:
    """An XHTML document's root, its entities and network left alone."""
    return etree.fromstring(xhtml, etree.XMLParser(resolve_entities=False, no_network=True))


class _RootReached(Exception):
    """The root element's start tag: the prolog, and any DOCTYPE, is behind."""


def _root_reached(*_) -> None:
    raise _RootReached


def doctype_reference(xhtml: bytes, at: str, carried: Collection[str]) -> str | None:
    """What an XHTML document's DOCTYPE (the package's file `at`) would have a reader's parser
    read: a DTD the book does not carry (`_own`), or an internal subset, by its first
    declaration (`<!ENTITY>`; `<!DOCTYPE>` if it has none); None if neither. An entity may read
    a file into the text and an `<!ATTLIST>` give each `<img>` a handler: the `parsed` document
    the other checks see expands no entity and applies no default."""
    doctype: dict[str, str | bool | None] = {}
    declarations: list[str] = []

    def declared(data: str) -> None:
        # A subset's declarations have no handler set, so come here keyword by keyword.
        if data.startswith("<!") and not data.startswith("<!--"):
            declarations.append(data)

    parser = expat.ParserCreate(encoding="utf-8")  # as rendered, whatever the XML declaration says
    parser.StartDoctypeDeclHandler = (
        lambda _name, system, _public, subset: doctype.update(system=system, subset=subset))
    parser.DefaultHandler = declared
    parser.StartElementHandler = _root_reached
    with contextlib.suppress(_RootReached):
        parser.Parse(xhtml, True)
    if (system := doctype.get("system")) and not _own(system, at, carried):
        return system
    if doctype.get("subset"):
        return f"{declarations[0] if declarations else '<!DOCTYPE'}>"
    return None


def document_reference(root: etree._Element, at: str, carried: Collection[str]) -> str | None:
    """The first thing an XHTML document (its `parsed` root, the package's file `at`) refers to
    that the book does not carry (`_own`), as the layout wrote it, or an element that would
    embed it, or an event handler's name; None if there is none."""
    for element in [*root.itersiblings(preceding=True), *root.iter()]:
        if element.tag is etree.PI:  # <?xml-stylesheet href=…?>
            return f"<?{element.target}?>"
        if not isinstance(element.tag, str):
            continue
        tag = etree.QName(element).localname
        if tag in EMBEDDING or (tag == "meta" and element.get("http-equiv")):
            return f"<{tag}>"
        # Its CSS, between the comments it may hold.
        css = (element.text or "") + "".join(child.tail or "" for child in element)
        if tag == "style" and (found := stylesheet_reference(css, at, carried)):
            return found
        for name, value in element.attrib.items():
            attribute = etree.QName(name).localname
            if attribute.lower().startswith("on"):  # onload, onerror…: a script, in HTML or SVG
                return attribute
            if attribute == "style" and (found := stylesheet_reference(value, at, carried,
                                                                       inline=True)):
                return found
            # SVG's presentation attributes take CSS values: fill="url(…)", filter, mask…
            if (etree.QName(element).namespace == SVG_NS and "(" in value
                    and (found := _css_reference(tinycss2.parse_component_value_list(value),
                                                 at, carried))):
                return found
            if attribute not in REFERENCES:
                continue
            targets = ([part.split()[0] for part in value.split(",") if part.split()]
                       if attribute in SRCSETS else [value])
            for target in targets:
                web_link = (tag == "a" and attribute == "href"
                            and urlsplit(target.strip()).scheme in WEB_SCHEMES)
                if not (web_link or _own(target, at, carried)):
                    return target
    return None


def stylesheet_reference(css: str, at: str, carried: Collection[str], *,
                         inline: bool = False) -> str | None:
    """The first `@import` or `url()` of a stylesheet (or a `style` attribute's declarations),
    in the package's file `at`, that is not a file the book carries (`_own`)."""
    if inline:
        rules = tinycss2.parse_blocks_contents(css)
    else:
        rules = tinycss2.parse_stylesheet(css)
    return _css_reference(rules, at, carried)


def _css_reference(nodes: list, at: str, carried: Collection[str]) -> str | None:
    """The first address in parsed CSS (`stylesheet_reference`) the book does not carry."""
    for token in _tokens(nodes):
        if token.type == "url":
            targets = [token.value]
        elif token.type == "function" and token.lower_name in URL_FUNCTIONS:
            targets = [arg.value for arg in token.arguments if arg.type == "string"]
        elif token.type == "at-rule" and token.lower_at_keyword == "import":
            targets = [t.value for t in token.prelude if t.type == "string"]
        else:
            continue
        if found := next((target for target in targets if not _own(target, at, carried)),
                         None):
            return found
    return None


def _tokens(nodes):
    """Every node, with those inside rules, declarations, blocks and functions."""
    for node in nodes:
        if node.type == "at-rule" and node.lower_at_keyword == "namespace":
            continue  # its URL names the namespace, and is never fetched
        yield node
        for inner in ("prelude", "content", "arguments", "value"):
            if isinstance(found := getattr(node, inner, None), list):
                yield from _tokens(found)
