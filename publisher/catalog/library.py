"""Issue folders of a library, and the fingerprint that says whether an issue needs a rebuild."""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import version
from pathlib import Path

from publisher import cache, fonts, templates
from publisher.build import source_entries

MANIFEST = "issue.yaml"
SITE_LAYOUTS = "catalog"  # layouts/catalog/: the templates of the site's pages


def find_issues(library: Path) -> list[Path]:
    """Every folder under `library` that holds an issue.yaml, in path order."""
    return sorted(manifest.parent for manifest in library.rglob(MANIFEST)
                  if not templates.hidden(manifest, library))


def fingerprint(root: Path) -> str:
    """A hash of what an issue's outputs are made from: the tool's version, the issue folder,
    its layout folders and fonts.yaml's, and every font file its roles use. Raises a
    PublisherError if fonts.yaml is broken, a font is not installed or a file cannot be read."""
    digest = hashlib.sha256(f"publisher {version('publisher')}\n".encode())
    root = root.resolve()
    # The site's own pages are made anew on every run: their templates are no issue's input.
    site_pages = tuple(folder.resolve() / SITE_LAYOUTS for folder in templates.search_path(root))
    for _, relative, content in source_entries(
            root, lambda path: any(map(path.is_relative_to, site_pages))):
        digest.update(f"{relative}\n".encode())
        digest.update(content)
    _add_fonts(digest, fonts.load_roles(root))
    return digest.hexdigest()


def annual_fingerprint(library: Path) -> str:
    """A hash of what every annual index is set in besides its issues (whose fingerprints hold
    the project's layouts): the library's own layouts, but the site pages', and the project's
    fonts."""
    digest = hashlib.sha256()
    own = library.resolve() / "layouts"
    site_pages = own / SITE_LAYOUTS
    for relative, content in cache.folder_entries(own, lambda path: path == site_pages) \
            if own.is_dir() else ():
        digest.update(f"{relative.as_posix()}\n".encode())
        digest.update(content)
    _add_fonts(digest, fonts.load_roles())
    return digest.hexdigest()


def _add_fonts(digest, roles: dict[str, fonts.Role]) -> None:
    """Every font file the `roles` use, in `digest`."""
    font_files = {str(face).partition("#")[0]
                  for faces in fonts.family_files(roles).values() for face in faces}
    for file in sorted(font_files):
        digest.update(_font_digest(Path(file)))


@functools.cache
def _font_digest(file: Path) -> bytes:
    """Font files are large and shared by every issue: hashed once per process."""
    return cache.file_digest(file)
