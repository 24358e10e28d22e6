"""The build's helper processes (section workers and their server, jieba's process): how many,
how they start, and their end."""

from __future__ import annotations

import multiprocessing
import os
import threading

# Peak memory (resident, `make bench`) of a build with its workers' forkserver, jieba's process
# ended, and what each worker laying out the longest section adds: the pool is as large as the
# memory budget allows.
BUILD_MB = 150
WORKER_MB = 150


def workers() -> int:
    """How many processes lay sections out: one in a process that may not start any (a
    daemon, as a Dask worker is), else $PUBLISHER_WORKERS, else as many as the machine's cores
    and the memory budget ($PUBLISHER_MEMORY_MB, default 500) allow, at least one. With one,
    the build does everything in its own process, jieba included."""
    if multiprocessing.current_process().daemon:
        return 1
    try:
        return max(1, int(os.environ.get("PUBLISHER_WORKERS", "")))
    except ValueError:
        pass
    try:
        budget = int(os.environ.get("PUBLISHER_MEMORY_MB", "500"))
    except ValueError:
        budget = 500
    return max(1, min(os.cpu_count() or 1, (budget - BUILD_MB) // WORKER_MB))


def layout_server():
    """The multiprocessing context whose workers lay out sections: they fork from a lean server
    that has imported WeasyPrint, never from a build's process, which may hold jieba's
    dictionary and the threads of `watch` or `preview`."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["publisher.layout_server", "publisher.pdf.sections",
                                    "weasyprint"])
    return context


def start_layout_server() -> None:
    """Start the workers' server now, rather than when the first worker is wanted."""
    from multiprocessing import forkserver

    layout_server()
    forkserver.ensure_running()


def end_with_parent() -> None:
    """End this helper process when the build (or catalogue) that started it ends: one that is
    killed cannot end its helpers, which would wait for work forever and hold its terminal
    open. multiprocessing's sentinel for the parent is ready as soon as it has ended, even
    before whoever started it has collected it (until then it answers `kill`, and that
    reader may be waiting for the end of the output the helpers share)."""
    from multiprocessing.connection import wait

    build = multiprocessing.parent_process()

    def watch() -> None:
        wait([build.sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="ends-with-the-build").start()
