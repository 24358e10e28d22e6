"""Errors that point at the source: every one carries a path and, where known, a line."""

from __future__ import annotations

from pathlib import Path


class PublisherError(Exception):
    """A problem in the user's input or environment; the CLI prints it without a traceback."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.message}"


class SourceError(PublisherError):
    """A problem in an issue's sources (manifest, front matter, body, images)."""


class IssueErrors(PublisherError):
    """Every problem found in one issue, reported together."""

    def __init__(self, errors: list[PublisherError]):
        self.errors = sorted(errors, key=lambda e: (str(e.path or ""), e.line or 0))
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return self.message


class BuildError(PublisherError):
    """A build that cannot produce a correct file (missing glyph, missing tool, bad layout)."""
