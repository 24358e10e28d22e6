"""Writing outputs safely and reproducibly: temp file then rename, fixed build time."""

from __future__ import annotations

import datetime as dt
import errno
import glob
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.errors import BuildError

if TYPE_CHECKING:  # pydantic takes a second to import: a build from the cache needs none of it
    from publisher.source.model import Issue

# Ghostscript's CMYK profile (Debian libgs-common): a press PDF's output intent unless the
# issue names its printer's. It characterises a US web-offset press (SWOP), a registered
# condition of no Chinese printer, so the PDF/X calls it what it is: a custom condition.
GHOSTSCRIPT_CMYK = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")

# Errors of the disk, not of the program: a full disk, a quota, a read-only or failing one.
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO, errno.EACCES}


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds.

    A failed build therefore never leaves a half-written PDF or EPUB, nor removes a good one.
    The block creates the temporary file itself, once its bytes are ready (a build killed while
    rendering leaves nothing); one left by a killed build is removed by the next. A path that
    is already a temporary one (a build staging several outputs) is written in place.
    """
    if _owner(path) is not None:
        yield path
        return
    if path.is_dir():
        raise BuildError("is a folder: the output cannot be written here", path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(path)
    except OSError as exc:
        raise BuildError(f"cannot write here: {exc.strerror}", path.parent) from exc
    if not os.access(path.parent, os.W_OK):  # say so now, not after rendering
        raise BuildError(f"cannot write here: {os.strerror(errno.EACCES)}", path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    try:
        yield tmp
        tmp.chmod(0o644)
        tmp.replace(path)
    except OSError as exc:
        if exc.errno not in DISK_ERRORS or exc.filename not in (None, str(tmp)):
            raise
        raise BuildError(f"cannot write here: {exc.strerror}", path.parent) from None
    finally:
        tmp.unlink(missing_ok=True)


def _owner(path: Path) -> int | None:
    """The process id in a temporary file's name (`.2015-10.pdf.4242-9f3a.part`), else None."""
    match = re.fullmatch(r"\..+\.(\d+)-[0-9a-f]+\.part", path.name)
    return int(match[1]) if match else None


def _remove_stale(path: Path) -> None:
    """Remove the temporary files of `path` left by builds that were killed (`kill -9`)."""
    for part in path.parent.glob(f".{glob.escape(path.name)}.*.part"):
        pid = _owner(part)
        if pid is not None and not _alive(pid):
            part.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def build_time(issue: Issue) -> dt.datetime:
    """The time stamped into outputs: SOURCE_DATE_EPOCH if set, else the day issue.yaml says the
    issue was `revised`, else its first day (UTC). A corrected EPUB is a new release of the
    same book (dcterms:modified), and the catalogue's feed announces it (its entry's update)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    day = issue.revised or dt.date(issue.year, issue.month, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def output_stem(issue: Issue) -> str:
    """File name stem for an issue's outputs: its year and month (`2015-10`), which sort in
    publication order whatever the printed label looks like."""
    return f"{issue.year}-{issue.month:02d}"
