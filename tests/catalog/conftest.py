"""A small library made from the sample: two magazines, two years, a few items per issue (so an
issue builds in seconds), and one broken issue. Its site is built once per session."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLE

# (folder, magazine, year, month, items): each issue takes the sample's 卷首语 and back cover
# and a different handful of items between.
ISSUES = (
    ("gcdr-2015-11", "共产党人", 2015, 11, ("020", "030", "410")),
    ("gcdr-2015-12", "共产党人", 2015, 12, ("040", "270", "300", "310")),
    ("gcdr-2016-01", "共产党人", 2016, 1, ("050", "420", "490")),
    ("zbsh-2016-01", "支部生活", 2016, 1, ("060", "470")),
)
BROKEN = "gcdr-2016-02"
CROWDED = "zbsh-2016-01"


def make_issue(dest: Path, magazine: str, year: int, month: int, items: tuple[str, ...]) -> Path:
    """An issue folder with the sample's manifest, retitled, and the chosen items."""
    manifest = (SAMPLE / "issue.yaml").read_text(encoding="utf-8")
    for key, value in (("magazine", magazine), ("label", f"{year}·{month:02d}"),
                       ("year", year), ("month", month)):
        manifest = re.sub(rf"(?m)^{key}: .*$", f"{key}: {value}", manifest)
    (dest / "articles").mkdir(parents=True)
    (dest / "issue.yaml").write_text(manifest, encoding="utf-8")
    for number in ("010", *items, "500"):
        (source,) = (SAMPLE / "articles").glob(f"{number}-*.md")
        shutil.copy(source, dest / "articles" / source.name)
    return dest


def make_library(dest: Path) -> Path:
    for folder, magazine, year, month, items in ISSUES:
        make_issue(dest / folder, magazine, year, month, items)
    # More cover lines than the EPUB's cover has room for: a warning of the issue's build.
    crowded = dest / CROWDED / "issue.yaml"
    more = "".join(f"  - 第{n}条要目：把严守纪律当作为人处事从政的重要底线\n" for n in range(1, 21))
    crowded.write_text(crowded.read_text(encoding="utf-8").replace(
        "cover_lines:\n", "cover_lines:\n" + more) + "rights: 版权所有 © 2016 支部生活杂志社\n"
        "description: 本期聚焦基层党建\n",
        encoding="utf-8")
    broken = make_issue(dest / BROKEN, "共产党人", 2016, 2, ("060",))
    article = broken / "articles" / "060-ganbu-duiwu.md"
    article.write_text(article.read_text(encoding="utf-8").replace("column: yaowen",
                                                                   "column: nowhere"),
                       encoding="utf-8")
    return dest


@pytest.fixture(scope="session")
def library(tmp_path_factory) -> Path:
    return make_library(tmp_path_factory.mktemp("library"))


@pytest.fixture(scope="session")
def built(library, tmp_path_factory):
    """The library's site, built in a local pool of two processes: (site folder, summary)."""
    from publisher.catalog.site import build_catalog

    site = tmp_path_factory.mktemp("site")
    summary = build_catalog(library, site, jobs=2)
    # Every test of the site needs the good issues: say at once if one failed.
    assert [name for name, _ in summary.failed] == [BROKEN], summary.lines()
    return site, summary


@pytest.fixture(scope="session")
def site(built) -> Path:
    return built[0]


def site_files(site: Path) -> dict[str, bytes]:
    """Every file of a site by its path in the site."""
    return {path.relative_to(site).as_posix(): path.read_bytes()
            for path in sorted(site.rglob("*")) if path.is_file()}
