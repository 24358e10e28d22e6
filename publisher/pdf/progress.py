"""Progress of a sectioned layout on a terminal (rich): sections laid out, taken from the cache,
pages composed. Silent when stderr is not a terminal, as in tests and CI."""

from __future__ import annotations

import sys


class Sections:
    def __init__(self):
        self._progress = None
        self.counts = {"laid out": 0, "cached": 0}
        self.pages = 0

    def __enter__(self) -> Sections:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                      console=Console(stderr=True), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self._describe("sections"))
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress.console.print(self._describe(f"{self.pages} pages composed"),
                                         highlight=False)

    def _describe(self, last: str) -> str:
        return (f"publisher: {self.counts['laid out']} section(s) laid out, "
                f"{self.counts['cached']} from the cache; {last}")

    def update(self, how: str, job) -> None:
        """`job` (a sections.Job) was laid out, or found in the cache."""
        self.counts[how] += 1
        if self._progress is not None:
            self._progress.update(self._task, description=self._describe(job.name))

    def composed(self, pages: int) -> None:
        self.pages = pages
