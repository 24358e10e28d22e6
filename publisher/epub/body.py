"""An item's body as the EPUB shows it: the Markdown's HTML with the printed pages' breaks at
the characters where they fall, and each 微书摘 a labelled quotation; titles with their word
breaks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from html import escape

from lxml import etree
from markupsafe import Markup

from publisher.cjk import CLOSING, OPENING
from publisher.keywords import word_boundaries
from publisher.pdf.page_map import counted, text_blocks

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
_WRAPPER = f'<div xmlns="{XHTML_NS}" xmlns:epub="{EPUB_NS}">'
# No break beside these: a word break next to a mark would start a line with a closing mark
# or end one with an opening mark, or part a mark from its word.
_NOT_BESIDE = CLOSING | OPENING | frozenset("·—…-/.%:")


@dataclass(frozen=True)
class PageBreak:
    """A printed page's start in the EPUB: its folio, and the id of its marker."""

    folio: str
    id: str


def pagebreak(page: PageBreak) -> etree._Element:
    """The marker of a printed page's start (DPUB-ARIA doc-pagebreak; EPUB's pagebreak)."""
    marker = etree.Element(f"{{{XHTML_NS}}}span", nsmap={None: XHTML_NS, "epub": EPUB_NS})
    marker.set(f"{{{EPUB_NS}}}type", "pagebreak")
    marker.set("role", "doc-pagebreak")
    marker.set("id", page.id)
    marker.set("aria-label", page.folio)
    return marker


def marker_html(page: PageBreak) -> Markup:
    """The marker as the templates write it, where a page begins outside a body."""
    return Markup(f'<span epub:type="pagebreak" role="doc-pagebreak" id="{escape(page.id)}" '
                  f'aria-label="{escape(page.folio)}"></span>')


def body_xhtml(html: str, breaks: list[tuple[int, int, PageBreak]], label_id: str) -> Markup:
    """The body fragment with a marker `offset` characters into its text block `block` for each
    (block, offset, page) of `breaks` (in page order: of two at one place, the later goes
    after), and each 微书摘 an <aside> labelled by
    its label (ids from `label_id`) that holds a <blockquote> and its <cite>."""
    root = etree.fromstring(f"{_WRAPPER}{html}</div>")
    blocks = text_blocks(root)
    for block, offset, page in breaks:  # markers count no characters: offsets stay true
        _insert_at(blocks[block], offset, pagebreak(page))
    for number, aside in enumerate(root.iterfind(f".//{{{XHTML_NS}}}aside[@class='excerpt']")):
        _quotation(aside, f"{label_id}-{number + 1}")
    _close_heading_gaps(root)
    text = etree.tostring(root, encoding="unicode")
    return Markup(text[text.index(">") + 1:text.rindex("<")])


def _close_heading_gaps(root: etree._Element) -> None:
    """Under the item's title (h1), each heading one level below the one it comes under: an
    article with （一） headings (###) and no 一、 ones (##) would go from h1 to h3, which a
    screen reader's outline, and Ace, take for a missing level. A heading moved up keeps its
    Markdown level as its class, so that it looks as it prints."""
    above: list[tuple[int, int]] = []  # (Markdown level, level shown) of the headings it is under
    for heading in root.iter(*(f"{{{XHTML_NS}}}h{level}" for level in range(2, 7))):
        level = int(etree.QName(heading).localname[1])
        while above and above[-1][0] >= level:
            above.pop()
        shown = above[-1][1] + 1 if above else 2
        if shown != level:
            heading.tag = f"{{{XHTML_NS}}}h{shown}"
            heading.set("class", " ".join(filter(None, (heading.get("class"), f"h{level}"))))
        above.append((level, shown))


def _insert_at(block: etree._Element, offset: int, marker: etree._Element) -> None:
    """Put `marker` in `block` before its character number `offset` (as `counted` counts)."""
    for node, attr in _segments(block):
        text = getattr(node, attr) or ""
        if counted(text) <= offset:
            offset -= counted(text)
            continue
        shown = itertools.accumulate(counted(ch) for ch in text)
        cut = next(i for i, count in enumerate(shown) if count > offset)
        if attr == "text":
            node.insert(0, marker)
            node.text, marker.tail = text[:cut], text[cut:]
        else:
            node.addnext(marker)
            node.tail, marker.tail = text[:cut], text[cut:]
        return
    block.append(marker)  # the page begins after the block's text


def _segments(element: etree._Element):
    """(node, "text" or "tail") for each run of text in `element`, in reading order."""
    yield element, "text"
    for child in element:
        yield from _segments(child)
        yield child, "tail"


def _quotation(aside: etree._Element, label_id: str) -> None:
    """label, quoted paragraphs, attribution → label, <blockquote>, attribution with <cite>."""
    label, *quoted = list(aside)
    label.set("id", label_id)
    aside.set("aria-labelledby", label_id)
    attribution = quoted.pop() if quoted and quoted[-1].get("class") == "attribution" else None
    quote = etree.SubElement(aside, f"{{{XHTML_NS}}}blockquote")
    quote.extend(quoted)
    if attribution is not None:
        cite = etree.Element(f"{{{XHTML_NS}}}cite")
        cite.text, attribution.text = attribution.text, None
        cite.extend(list(attribution))
        attribution.append(cite)
        aside.append(attribution)


def with_word_breaks(text: str) -> Markup:
    """`text` with <wbr/> between its words (jieba), never beside a mark, a space or a Latin
    letter or digit (a <wbr/> there stops text-autospace): with `word-break: keep-all`, a title
    breaks between words only."""
    cuts = sorted(at for at in word_boundaries(text)
                  if not {text[at - 1], text[at]} & _NOT_BESIDE
                  and not text[at - 1].isspace() and not text[at].isspace()
                  and not (text[at - 1].isascii() or text[at].isascii()))
    parts = [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return Markup("<wbr/>").join(parts)  # escapes each part
