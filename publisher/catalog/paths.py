"""Where an issue and a year go in the site: a folder per magazine, in it one per issue and one
per year's annual index."""

from __future__ import annotations

import uuid
from itertools import groupby


def magazine_key(magazine: str) -> str:
    """The magazine's folder in the site: stable, and plain ASCII for any web server."""
    return "m-" + uuid.uuid5(uuid.NAMESPACE_URL, f"publisher:{magazine}").hex[:10]


def issue_folder(record: dict) -> str:
    return f"{magazine_key(record['magazine'])}/{record['stem']}"


def year_folder(magazine: str, year: int) -> str:
    return f"{magazine_key(magazine)}/{year}"


def shelves(issues: list[dict]) -> list[tuple[str, list[tuple[int, list[dict]]]]]:
    """`issues` (sorted by magazine, year and month) by magazine, then by year, newest first:
    the order of the index page and of the catalogue's navigation."""
    return [(magazine, sorted(((year, list(group)) for year, group in
                               groupby(of_magazine, key=lambda r: r["year"])), reverse=True,
                              key=lambda shelf: shelf[0]))
            for magazine, of_magazine in groupby(issues, key=lambda r: r["magazine"])]
