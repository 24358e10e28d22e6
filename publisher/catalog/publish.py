"""One issue's publication, built where the executor runs it: the EPUB, the screen PDF, the
cover and its thumbnail, and the record the site's pages are made from. Everything returns as
bytes, so a worker needs the sources (at the same path) but not the site."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from publisher.errors import BuildError, PublisherError

THUMBNAIL_WIDTH = 360  # two covers side by side on a phone, at twice the CSS pixels
# The cover is drawn in three colours and their anti-aliased edges: a palette of this many keeps
# its look, at a third of the bytes of full colour, for a phone that lists a year of covers.
THUMBNAIL_COLOURS = 64
MEDIA_TYPES = {"epub": "application/epub+zip", "pdf": "application/pdf", "cover": "image/png",
               "thumbnail": "image/png"}


@dataclass(frozen=True)
class Published:
    """What a build sends back: the record and files on success, else the error's text."""

    record: dict | None
    files: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def publish_issue(root: str, expected: str) -> Published:
    """Build the issue at `root`, whose fingerprint the site computed as `expected`. A problem
    in the sources comes back as the error's text (IssueErrors do not survive pickling)."""
    from publisher.catalog.library import fingerprint

    # The catalogue builds an issue on each core already: each build does all in its process.
    os.environ["PUBLISHER_WORKERS"] = "1"
    started = time.monotonic()
    try:
        if fingerprint(Path(root)) != expected:
            raise BuildError("this machine sees other sources, layouts or fonts than the one "
                             "that asked for the build", root)
        with _kept_for_the_command() as warnings:
            record, files = _build(Path(root), expected)
    except PublisherError as exc:
        return Published(None, error=str(exc), seconds=time.monotonic() - started)
    return Published({**record, "warnings": warnings}, files,
                     seconds=time.monotonic() - started)


@contextmanager
def _kept_for_the_command():
    """The build's warnings, collected and not logged here: the command prints them under the
    issue's line (a Dask worker's log is on another machine, a pool process's would mix with
    other issues'), and again whenever it reuses the issue."""
    from publisher.build import collected_warnings

    root = logging.getLogger()
    own = list(root.handlers)
    for handler in own:
        root.removeHandler(handler)
    try:
        with collected_warnings() as given:
            yield given
    finally:
        for handler in own:
            root.addHandler(handler)


def _build(root: Path, fingerprint: str) -> tuple[dict, dict[str, bytes]]:
    from PIL import Image

    from publisher.context import resolve
    from publisher.epub import write_epub
    from publisher.epub.cover import cover_png
    from publisher.epub.package import publisher_name
    from publisher.output import build_time, output_stem
    from publisher.pdf import write_pdf
    from publisher.source.load import load_issue

    issue = load_issue(root)
    context = resolve(issue)
    stem = output_stem(issue)
    names = {"epub": f"{stem}.epub", "pdf": f"{stem}-screen.pdf", "cover": "cover.png",
             "thumbnail": "thumbnail.png"}
    with tempfile.TemporaryDirectory(prefix="publisher-") as tmp:
        write_epub(context, Path(tmp) / names["epub"])
        write_pdf(context, Path(tmp) / names["pdf"], screen=True)
        files = {names[kind]: (Path(tmp) / names[kind]).read_bytes() for kind in ("epub", "pdf")}
    files[names["cover"]] = cover_png(issue, context.roles)
    cover = Image.open(io.BytesIO(files[names["cover"]]))
    height = round(cover.height * THUMBNAIL_WIDTH / cover.width)
    thumbnail = io.BytesIO()
    cover.resize((THUMBNAIL_WIDTH, height), Image.LANCZOS).quantize(
        THUMBNAIL_COLOURS, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        thumbnail, "PNG", optimize=True)
    files[names["thumbnail"]] = thumbnail.getvalue()
    record = {
        "fingerprint": fingerprint,
        "id": issue.uuid.urn,
        "magazine": issue.magazine,
        "label": issue.label,
        "year": issue.year,
        "month": issue.month,
        "number": issue.number,
        "language": issue.language,
        "publisher": publisher_name(issue),
        "rights": issue.rights,
        "description": issue.description,
        "keywords": list(context.keywords),
        "cover_lines": list(issue.cover_lines),
        "stem": stem,
        "updated": build_time(issue).isoformat().replace("+00:00", "Z"),
        "files": {kind: {"name": names[kind], "type": MEDIA_TYPES[kind],
                         "size": len(files[names[kind]]),
                         "sha256": hashlib.sha256(files[names[kind]]).hexdigest()}
                  for kind in names},
        "contents": contents(issue, files[names["pdf"]]),
        # The importer's `review:` notes it was published with (`publisher validate` lists them).
        "to_review": sum(len(article.review) for article in issue.articles),
    }
    return record, files


def contents(issue, pdf: bytes) -> list[dict]:
    """The 目录 as the printed one lists it (boxes left out; an untitled item by its column and
    first sentence), column by column, each item with its authors and first folio: the page
    label of the PDF page its anchor is on."""
    from pypdf import PdfReader

    from publisher.epub.nav import issue_outline, nav_label
    from publisher.source.model import Kind

    reader = PdfReader(io.BytesIO(pdf))
    labels = reader.page_labels
    folios = {name: labels[reader.get_destination_page_number(dest)]
              for name, dest in reader.named_destinations.items()}

    def entry(item, level: int) -> dict:
        return {"title": nav_label(item, issue), "level": level,
                "authors": [person.name or person.organisation for person in item.byline],
                "folio": folios.get(item.anchor)}

    columns = []
    for column, entries in issue_outline(issue):
        listed = []
        for item, speeches in entries:
            if item.kind != Kind.box:
                rows = ((item, 1), *((speech, 2) for speech in speeches))
                listed += [entry(row, level) for row, level in rows]
        if listed:
            columns.append({"column": column.name, "order": issue.columns.index(column),
                            "items": listed})
    return columns
