"""The layouts' stylesheets parsed once per process, for WeasyPrint 70.0.

Each section is a WeasyPrint document of its own, and WeasyPrint parses and compiles the author
stylesheets of every document: print.css alone took a second of the sample's layout CPU, in
24 documents. `install()` keeps what parsing a stylesheet made, by its text, URL, base URL and
media type, and gives a later document the same: its selectors' matcher and the @page rules it
adds to the document's. Each document is told what parsing it told the first (the warnings
WeasyPrint logged), and a value with `var()` that turns out invalid is reported in each, as
WeasyPrint reports it once per parse. A stylesheet that makes more than those (fonts, counter
styles, colour profiles, layers, imports) is parsed every time.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import weasyprint
from weasyprint.css.tokens import Pending
from weasyprint.urls import URLFetcher, fetch

from publisher import recent

_original_init = weasyprint.CSS.__init__
# An at-rule other than @page, @media and @page's margin boxes.
_OTHER_AT_RULE = re.compile(rb"@(?!(?:page|media|top-|bottom-|left-|right-))")
_KEPT = 32  # stylesheets (an edited layout makes a new one in `watch`)


@dataclass
class _Parsed:
    base_url: str | None
    matcher: object
    page_rules: list
    told: list[logging.LogRecord]  # what WeasyPrint logged while parsing it
    pending: list[Pending]  # values with var(), which WeasyPrint reports once each


_parsed: dict[tuple, _Parsed] = {}


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _pending(found, seen: set[int] | None = None) -> list[Pending]:
    """The values with `var()` in the containers (tuples, lists, dicts) of `found`."""
    seen = set() if seen is None else seen
    if isinstance(found, Pending):
        return [found]
    if id(found) in seen or not isinstance(found, tuple | list | dict):
        return []
    seen.add(id(found))
    items = found.values() if isinstance(found, dict) else found
    return [pending for item in items for pending in _pending(item, seen)]


def _source(kwargs: dict) -> bytes | None:
    """The text of the stylesheet a `CSS(...)` call reads, if what parsing it makes can be
    given again: one read from `string` or from a `url` that serves CSS, with no matcher or
    layer of its caller's, and no at-rule but @page and @media."""
    if (kwargs.get("matcher") is not None or kwargs.get("layer") is not None
            or any(kwargs.get(name) is not None for name in ("guess", "filename", "file_obj"))):
        return None
    if kwargs.get("string") is not None and kwargs.get("url") is None:
        text = kwargs["string"]
        text = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
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
    known = _parsed.pop(key, None)
    if known is None:
        known = _parse(self, kwargs)
        # WeasyPrint read it again: a layout saved meanwhile (`watch`) is not kept.
        kept = _source(kwargs) == source
    else:
        for record in known.told:
            logging.getLogger(record.name).handle(record)
        for pending in known.pending:
            pending._reported_error = False
        kept = True
    if kept:
        recent.keep(_parsed, key, known, _KEPT)
    self.base_url, self.matcher = known.base_url, known.matcher
    self.page_rules = [] if kwargs.get("page_rules") is None else kwargs["page_rules"]
    self.page_rules.extend(known.page_rules)
    self.layers = [] if kwargs.get("layers") is None else kwargs["layers"]


def _parse(self, kwargs: dict) -> _Parsed:
    """WeasyPrint's parse, into @page rules of its own, with what it logged."""
    recorder = _Recorder()
    weasy_logger = logging.getLogger("weasyprint")
    weasy_logger.addHandler(recorder)
    try:
        _original_init(self, **{**kwargs, "page_rules": []})
    finally:
        weasy_logger.removeHandler(recorder)
    return _Parsed(self.base_url, self.matcher, self.page_rules, recorder.records,
                   _pending([vars(self.matcher), self.page_rules]))


def install():
    """Parse each stylesheet once per process; return what undoes it."""
    weasyprint.CSS.__init__ = _init

    def restore() -> None:
        weasyprint.CSS.__init__ = _original_init

    return restore
