"""Each kind of page styled once per document, for WeasyPrint 70.0.

WeasyPrint computes the styles of every page and of its margin boxes afresh, because a page's
type holds its index (for `:nth()` selectors), and then computes their properties one by one as
the layout asks for them: the furniture document, 63 pages of margin boxes and little else,
spent a third of its layout there. Where no @page rule of a document selects by `:nth()`, the
rules that match a page depend only on its side, whether it is blank, whether it is the first
and its name: `install()` gives a page the computed styles of the first page of the document
that agrees in all four. What WeasyPrint writes into a page's style while laying it out (the
page counter's increment, the root's overflow) comes out the same for every page.
"""

from __future__ import annotations

from weasyprint.layout import page as layout_page

_original = layout_page.set_page_type_computed_styles
# On a document's StyleFor: each kind of page → its first page's (pseudo-type, computed style)
# pairs, or None where the document's @page rules select by index.
_KINDS = "_publisher_page_kinds"


def _kinds(style_for) -> dict | None:
    if not hasattr(style_for, _KINDS):
        by_index = any(selector[2].index is not None
                       for sheet, _, _ in style_for._sheets
                       for _, selectors, _ in sheet.page_rules for selector in selectors)
        setattr(style_for, _KINDS, None if by_index else {})
    return getattr(style_for, _KINDS)


def _set_page_type_computed_styles(page_type, html, style_for) -> None:
    kinds = _kinds(style_for)
    if kinds is None:
        _original(page_type, html, style_for)
        return
    kind = (page_type.side, page_type.blank, page_type.index == 0, page_type.name)
    computed = style_for.get_computed_styles()
    if kind not in kinds:
        _original(page_type, html, style_for)
        kinds[kind] = [(None, computed[page_type, None])] + [
            (pseudo_type, computed[page_type, pseudo_type])
            for element, pseudo_type in style_for.get_cascaded_styles()
            if pseudo_type and element == page_type]
    for pseudo_type, style in kinds[kind]:
        computed[page_type, pseudo_type] = style


def install():
    """Style each kind of page once per document; return what undoes it."""
    layout_page.set_page_type_computed_styles = _set_page_type_computed_styles

    def restore() -> None:
        layout_page.set_page_type_computed_styles = _original

    return restore
