"""The layouts' stylesheets parsed once per process, for WeasyPrint 70.0.

Each section is a WeasyPrint document of its own, and WeasyPrint parses and compiles the author
stylesheets of every document: print.css alone took a second of the sample's layout CPU, in
24 documents. `install()` keeps what parsing a stylesheet made, by its text, base URL and media
type, and gives a later document the same: its selectors' matcher, which cascading only reads,
and the @page rules it adds to the document's. A stylesheet that makes more than those (fonts,
counter styles, colour profiles, layers, imports) is parsed every time.
"""

from __future__ import annotations

import re

import weasyprint
from weasyprint.urls import URLFetcher, fetch

_original_init = weasyprint.CSS.__init__
# An at-rule other than @page, @media and @page's margin boxes.
_OTHER_AT_RULE = re.compile(rb"@(?!(?:page|media|top-|bottom-|left-|right-))")
_KEPT = 32  # stylesheets (an edited layout makes a new one in `watch`)
_parsed: dict[tuple, tuple] = {}


def _source(kwargs: dict) -> bytes | None:
    """The text of the stylesheet a `CSS(...)` call reads, if what parsing it makes can be
    given again: one read from `string` or from a `url` that serves CSS, with no matcher or
    layer of its caller's, and no at-rule but @page and @media."""
    if (kwargs.get("matcher") is not None or kwargs.get("layer") is not None
            or any(kwargs.get(name) is not None for name in ("guess", "filename", "file_obj"))):
        return None
    if kwargs.get("string") is not None and kwargs.get("url") is None:
        text = kwargs["string"]
        text = text.encode() if isinstance(text, str) else text
    elif kwargs.get("url") is not None and kwargs.get("string") is None:
        with fetch(kwargs.get("url_fetcher") or URLFetcher(), kwargs["url"]) as response:
            if response.content_type != "text/css":
                return None
            text = response.read()
    else:
        return None
    return None if _OTHER_AT_RULE.search(text) else text


def _init(self, *args, **kwargs) -> None:
    source = None if args else _source(kwargs)
    if source is None:
        _original_init(self, *args, **kwargs)
        return
    key = (source, kwargs.get("url"), str(kwargs.get("base_url")), kwargs.get("media_type"))
    known = _parsed.get(key)
    if known is None:
        own_page_rules: list = []
        _original_init(self, **{**kwargs, "page_rules": own_page_rules})
        if len(_parsed) >= _KEPT:
            del _parsed[next(iter(_parsed))]
        known = _parsed[key] = (self.base_url, self.matcher, own_page_rules)
    self.base_url, self.matcher, page_rules = known
    self.page_rules = [] if kwargs.get("page_rules") is None else kwargs["page_rules"]
    self.page_rules.extend(page_rules)
    self.layers = [] if kwargs.get("layers") is None else kwargs["layers"]


def install():
    """Parse each stylesheet once per process; return what undoes it."""
    weasyprint.CSS.__init__ = _init

    def restore() -> None:
        weasyprint.CSS.__init__ = _original_init

    return restore
