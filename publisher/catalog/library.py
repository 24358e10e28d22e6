"""Issue folders of a library, and the fingerprint that says whether an issue needs a rebuild."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from functools import cache
from importlib.metadata import version
from pathlib import Path

from publisher import fonts, templates
from publisher.errors import SourceError

MANIFEST = "issue.yaml"
SITE_LAYOUTS = "catalog"  # layouts/catalog/: the templates of the site's pages
# A file larger than this is hashed by its size and time: read whole, it would fill the memory.
LARGE_FILE = 64 * 2**20


def find_issues(library: Path) -> list[Path]:
    """Every folder under `library` that holds an issue.yaml, in path order."""
    return sorted(manifest.parent for manifest in library.rglob(MANIFEST)
                  if not _hidden(manifest.relative_to(library)))


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def fingerprint(root: Path) -> str:
    """A hash of what an issue's outputs are made from: the tool's version, the issue folder,
    its layout folders and fonts.yaml's, and every font file its roles use. Raises a
    PublisherError if fonts.yaml is broken, a font is not installed or a file cannot be read."""
    digest = hashlib.sha256(f"publisher {version('publisher')}\n".encode())
    layouts = templates.search_path(root)
    # The site's own pages are made anew on every run: their templates are no issue's input.
    site_pages = tuple(folder / SITE_LAYOUTS for folder in layouts)
    for folder in (root, *layouts, templates.shipped("fonts")):
        for relative, content in folder_entries(folder):
            if not any(map((folder / relative).is_relative_to, site_pages)):
                digest.update(f"{relative}\n".encode())
                digest.update(content)
    font_files = {str(face).partition("#")[0]
                  for faces in fonts.family_files(fonts.load_roles(root)).values()
                  for face in faces}
    for file in sorted(font_files):
        digest.update(_font_digest(Path(file)))
    return digest.hexdigest()


def folder_entries(folder: Path) -> Iterator[tuple[Path, bytes]]:
    """Each file under `folder` (hidden ones left out), in path order, by its path in the folder
    and what stands for its contents. A link is not followed: its target's path stands for it,
    so a link to a device or a folder outside is never read. What is neither a regular file nor
    a link (a pipe, a device) is left out. A SourceError names what cannot be read."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", folder) from None
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            yield Path(entry.name), f"link to {os.readlink(path)}".encode()
        elif entry.is_dir(follow_symlinks=False):
            yield from ((entry.name / relative, content)
                        for relative, content in folder_entries(path))
        elif entry.is_file(follow_symlinks=False):
            yield Path(entry.name), _file_digest(path)


def _file_digest(path: Path) -> bytes:
    """The hash of a file's contents, or, for a large one, its size and time; a SourceError
    naming the file if it cannot be read (the error of a failed read names no file)."""
    try:
        info = path.stat()
        if info.st_size > LARGE_FILE:
            return f"{info.st_size} bytes, modified {info.st_mtime_ns}".encode()
        with path.open("rb") as data:
            return hashlib.file_digest(data, "sha256").digest()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", path) from None


@cache
def _font_digest(file: Path) -> bytes:
    """Font files are large and shared by every issue: hashed once per process."""
    return _file_digest(file)
