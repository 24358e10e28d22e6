"""publisher: a Chinese magazine issue, from Markdown articles to a print PDF and an EPUB 3."""

from publisher.libraries import open_directly

__version__ = "0.1.0"

open_directly()
