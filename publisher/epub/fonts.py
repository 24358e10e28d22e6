"""Embedded fonts: each role's face subset to the characters the book shows in it."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from lxml import etree

from publisher.epub.documents import Document
from publisher.fonts import Role, damaged, role_face

logger = logging.getLogger(__name__)

# One face per role keeps the book small; the stylesheet sets 黑 bold and 宋, 楷 regular.
EMBED_WEIGHTS = {"serif": 400, "sans": 700, "kai": 400}
XHTML_NS = "http://www.w3.org/1999/xhtml"


def role_text(documents: list[Document], css: str, families: dict[str, str]) -> dict[str, str]:
    """The characters each font role shows, found by applying the stylesheet's font-family rules.

    A rule belongs to the role whose first family its font-family list starts with; an element
    takes the role of its most specific matching rule, else its parent's (CSS inheritance).
    """
    import cssselect2
    import tinycss2

    firsts = {stack.split(",")[0].strip(): role for role, stack in families.items()}
    matcher = cssselect2.Matcher()
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            continue
        for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True,
                                                    skip_whitespace=True):
            if decl.type == "declaration" and decl.lower_name == "font-family":
                first = tinycss2.serialize(decl.value).split(",")[0].strip()
                if first in firsts:
                    try:
                        selectors = cssselect2.compile_selector_list(rule.prelude)
                    except cssselect2.SelectorError:
                        continue  # which a reading system ignores, with its declarations
                    for selector in selectors:
                        matcher.add_selector(selector, firsts[first])
    used: dict[str, set[str]] = {role: {" "} for role in families}

    def visit(element: cssselect2.ElementWrapper, inherited: str | None) -> None:
        matches = [m for m in matcher.match(element) if m[2] is None]
        role = max(matches, key=lambda m: (m[0], m[1]))[3] if matches else inherited
        node = element.etree_element
        if role:
            used[role].update(node.text or "")
            for child in node:
                used[role].update(child.tail or "")
        for child in element.iter_children():
            visit(child, role)

    for document in documents:
        root = etree.fromstring(document.xhtml)
        body = root.find(f"{{{XHTML_NS}}}body")
        wrapper = cssselect2.ElementWrapper.from_xml_root(root)
        visit(next(w for w in wrapper.iter_children() if w.etree_element is body), None)
    return {role: "".join(sorted(chars)) for role, chars in used.items()}


def embedded_fonts(roles: dict[str, Role], documents: list[Document],
                    css: str) -> tuple[str, list[tuple[str, str, bytes]]]:
    """Subset each role's face to the characters it shows; return @font-face CSS and the files."""
    logging.getLogger("fontTools.subset").setLevel(logging.WARNING)  # not per-table chatter
    families = {name: role.css_families for name, role in roles.items()}
    rules: list[str] = []
    files: list[tuple[str, str, bytes]] = []
    for role, text in role_text(documents, css, families).items():
        weight = EMBED_WEIGHTS[role]
        path, index = role_face(roles[role], weight)
        try:
            out = _subset(path, index, role, text)
        except Exception as exc:  # fontTools raises any kind of error on a damaged table
            raise damaged(path, "fontTools, embedding it in the EPUB", exc) from None
        name = f"fonts/{role}.woff"
        family = families[role].split(",")[0].strip()
        rules.append(f"@font-face {{ font-family: {family}; font-weight: {weight}; "
                     f'font-style: normal; src: url("../{name}") format("woff"); }}')
        files.append((name, "font/woff", out.getvalue()))
    return "\n".join(rules) + "\n", files


def _subset(path: Path, index: int, role: str, text: str) -> io.BytesIO:
    """The face `index` of the font file at `path`, cut down to `text`, as WOFF."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    with TTFont(str(path), fontNumber=index, recalcTimestamp=False) as font:
        cmap = font.getBestCmap()
        lacking = "".join(ch for ch in text if ord(ch) not in cmap and not ch.isspace())
        if lacking:
            logger.warning("font for role %s (%s) lacks %s; readers will substitute",
                           role, path.name, lacking)
        options = subset.Options()
        options.flavor = "woff"
        options.hinting = False
        # The font's copyright, licence and licence address travel with its subset, as the
        # SIL Open Font License of the CJK fonts asks of a copy passed on.
        options.name_IDs = [*options.name_IDs, 13, 14]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        out = io.BytesIO()
        font.flavor = "woff"
        font.save(out)
    return out
