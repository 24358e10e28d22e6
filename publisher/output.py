"""Writing outputs safely and reproducibly: temp file then rename, fixed build time."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from publisher.errors import BuildError
from publisher.source.model import Issue


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds.

    A failed build therefore never leaves a half-written PDF or EPUB, nor removes a good one.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise BuildError(f"cannot write here: {exc.strerror}", path.parent) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.chmod(0o644)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def build_time(issue: Issue) -> dt.datetime:
    """The time stamped into outputs: SOURCE_DATE_EPOCH if set, else the issue's first day (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime(issue.year, issue.month, 1, tzinfo=dt.UTC)


def output_stem(issue: Issue) -> str:
    """File name stem for an issue's outputs: its year and month (`2015-10`), which sort in
    publication order whatever the printed label looks like."""
    return f"{issue.year}-{issue.month:02d}"
