"""Legacy text → issue folder (`publisher import-text`).

Text extracted from a printed PDF carries running heads and folios, hard-wrapped lines, doubled
title characters, and title blocks found away from their text. The importer works in stages on
plain records, one module each: `lines` (lines → tokens), `paragraphs` (paragraphs and title
blocks), `items` (items with their front matter), and `write`, which writes nothing until the
whole text is analysed and the result validates. Where it has to guess, it says so in the item's
`review:` field and in the summary, so an editor knows where to look.
"""

from publisher.importer.write import import_text

__all__ = ["import_text"]
