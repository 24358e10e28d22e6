"""The one boundary between `publisher` and WeasyPrint's private code.

Everything here reaches into WeasyPrint 70.0 internals, so nothing is imported from them before
`require_pinned()` has checked the installed version, which it reads from the package's metadata:
importing this package does not import WeasyPrint (a second), which composing cached sections
does not need. The patches (`justify`, `balance`, `linegrid` with `lines`, `stylesheets`,
`page_styles`, `pictures`, `resume`, `drawn`, `deflated`, the stable document id) are installed
by `patched()` for one layout and write, and removed after, so that a bare WeasyPrint run in the
same process is untouched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata

from publisher.errors import BuildError

PINNED_VERSION = "70.0"
# (scope, WeasyPrint FontConfiguration) of this process's layouts: `font_configuration`.
_fonts: tuple[str, object] | None = None

logger = logging.getLogger(__name__)


def require_pinned() -> None:
    """Refuse to touch a WeasyPrint other than the one the patches were written for."""
    if _installed_version() != PINNED_VERSION:
        raise BuildError(
            f"publisher patches WeasyPrint {PINNED_VERSION}, but {_installed_version()} is "
            f"installed: install weasyprint=={PINNED_VERSION}")


@lru_cache(maxsize=1)
def _installed_version() -> str:
    return metadata.version("weasyprint")


@contextmanager
def patched(document_id: uuid.UUID) -> Iterator[None]:
    """Inter-character justification, balanced columns, the line grid (each line laid out once),
    font files read in place, stylesheets parsed once, each kind of page styled once, pictures
    named by their contents and `document_id` as the PDF/X's XMP DocumentID, for the layout and
    the writing done inside the block."""
    require_pinned()
    from weasyprint.pdf import metadata as pdf_metadata

    from publisher.pdf.weasyprint import (
        balance,
        deflated,
        drawn,
        fontfile,
        justify,
        linegrid,
        page_styles,
        pictures,
        resume,
        stylesheets,
    )

    warn_without_harfbuzz_subset()
    saved = [justify.install(), balance.install(), linegrid.install(), fontfile.install(),
             stylesheets.install(), page_styles.install(), pictures.install(), resume.install(),
             drawn.install(), deflated.install()]
    # WeasyPrint 70 stamps a PDF/X with a random DocumentID (uuid4), from which the file's /ID
    # is hashed too; the issue's own identifier keeps the same sources, same bytes.
    random_id = pdf_metadata.uuid4
    pdf_metadata.uuid4 = lambda: document_id
    try:
        yield
    finally:
        pdf_metadata.uuid4 = random_id
        for restore in reversed(saved):
            restore()


def font_configuration(scope: str):
    """The font configuration of this process's layouts whose fonts `scope` names (the font
    files, by path, size and time). WeasyPrint makes one for each document, and loads every
    font again for each section: a tenth of a serial build's CPU. A new scope (a font file
    changed under `watch`) gets a new one."""
    global _fonts
    if _fonts is None or _fonts[0] != scope:
        from weasyprint.text.fonts import FontConfiguration

        _fonts = (scope, FontConfiguration())
    return _fonts[1]


def warn_without_harfbuzz_subset() -> None:
    from weasyprint.text.ffi import harfbuzz_subset

    if harfbuzz_subset is None:
        logger.warning("libharfbuzz-subset0 is not installed: WeasyPrint subsets the CJK fonts "
                       "with fontTools instead, which makes a build take minutes, not seconds")
