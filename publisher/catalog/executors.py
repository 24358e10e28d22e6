"""Where builds run: a local process pool, or an existing Dask distributed cluster. Both are
concurrent.futures executors, so the site submits and gathers the same way."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from publisher import processes
from publisher.errors import PublisherError

CONNECT_TIMEOUT = "30s"


@contextmanager
def executor(jobs: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """A pool of `jobs` processes (default: the machine's cores), or, given a scheduler's
    address (tcp://HOST:PORT), its cluster. Dask itself moves a task whose worker died to
    another worker; `pure=False` because a build is not cached by its arguments' hash."""
    if scheduler is None:
        with ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1,
                                 initializer=processes.end_with_parent) as pool:
            yield pool
        return
    from distributed import Client

    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        raise PublisherError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        yield client.get_executor(pure=False)
