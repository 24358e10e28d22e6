"""Each stream of a PDF deflated once, for WeasyPrint 70.0 and pydyf.

pydyf deflates a stream (at level 9) every time its bytes are asked for, and WeasyPrint asks
twice for each: to write it and, with `pdf_identifier`, to hash the file for its /ID. A page's
stream took 1-3 ms each time, a third of writing a section. `install()` keeps what pydyf made of
each stream under a digest of what it is made from (its content and its dictionary), so the
second asking, and the next layout's page drawn as before (`drawn`), take the same bytes.
"""

from __future__ import annotations

import hashlib

import pydyf

from publisher import recent

_original_data = pydyf.Stream.data
# digest → a compressed stream's bytes as pydyf writes it; the sample's sections have 60-odd.
_made: dict[bytes, bytes] = {}
_MOST = 512


def _data(self) -> bytes:
    if not self.compress:  # nothing costly to keep
        return _original_data.fget(self)
    extra = pydyf.Dictionary(self.extra).data
    made_from = hashlib.blake2b(len(extra).to_bytes(8, "big") + extra, digest_size=20)
    for item in self.stream:
        made_from.update(pydyf._to_bytes(item))
        made_from.update(b"\n")
    key = made_from.digest()
    made = _made.get(key)
    if made is None:
        made = recent.keep(_made, key, _original_data.fget(self), _MOST)
    return made


def install():
    """Patch pydyf's `Stream.data` to deflate a stream once; return what undoes it."""
    pydyf.Stream.data = property(_data)

    def restore() -> None:
        pydyf.Stream.data = _original_data

    return restore
