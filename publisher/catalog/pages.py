"""The site's HTML for phone browsers: the covers by year (index.html), a page per issue with
its 目录 and downloads, and a page per annual index; from layouts/catalog/ (a library's own
`layouts/catalog/` first)."""

from __future__ import annotations

import math
from pathlib import Path

from publisher import templates
from publisher.catalog import annual, opds
from publisher.catalog.paths import issue_folder, magazine_key, shelves, year_folder

STYLESHEET = "catalog/site.css"


def site_pages(library: Path, issues: list[dict]) -> dict[str, bytes]:
    """Every page of the site by its path, for `issues` sorted by magazine, year and month."""
    folders = templates.search_path(library)
    env = templates.environment(folders)
    env.filters["size"] = file_size
    out = {"site.css": templates.stylesheet(folders, STYLESHEET).read_bytes()}
    magazines = [{"name": magazine, "key": magazine_key(magazine), "years": [
        {"year": year, "folder": year_folder(magazine, year), "issues": group}
        for year, group in years]} for magazine, years in shelves(issues)]
    out["index.html"] = _render(env, "catalog/index.html.j2", title=opds.TITLE, root="",
                                magazines=magazines, feed=opds.ROOT,
                                feed_type=opds.NAVIGATION, folder=issue_folder)
    for record in issues:
        out[f"{issue_folder(record)}/index.html"] = _render(
            env, "catalog/issue.html.j2", title=f"{record['magazine']} {record['label']}",
            root="../../", issue=record)
    for magazine in magazines:
        for shelf in magazine["years"]:
            out[f"{shelf['folder']}/index.html"] = _render(
                env, "catalog/annual.html.j2", title=f"{magazine['name']} {shelf['year']}年总目录",
                root="../../", issues=shelf["issues"],
                columns=annual.annual_columns(shelf["issues"]), pdf=annual.PDF)
    return out


def _render(env, name: str, **context) -> bytes:
    return templates.render(env, name, **context).encode()


def file_size(size: int) -> str:
    """A download's size as a reader wants it: 145 KB, 1.2 MB."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{math.ceil(size / 1024)} KB"
