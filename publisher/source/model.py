"""Frozen records of one issue, validated by pydantic; later stages read them and never mutate.

The `*Source` models describe exactly what a file may say (unknown keys are errors); the loader
turns them into the records the renderers use.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _lines(value: object) -> object:
    """A title may be one line or a list of lines; both become a tuple of lines. YAML reads
    `title: 2015` as a number: it is still a line of text."""
    if isinstance(value, (str, int, float)):
        value = [value]
    if not isinstance(value, list):
        raise ValueError("write one line of text, or a list of lines")
    return tuple(str(line) if isinstance(line, (int, float)) else line for line in value)


def _people(value: object) -> object:
    """`byline: 本刊评论员` and `byline: [董亚飞, 马占锋]` are shorthands for name entries."""
    if isinstance(value, (str, dict)):
        value = [value]
    if isinstance(value, list):
        return [{"name": v} if isinstance(v, str) else v for v in value]
    return value


OneLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Lines = Annotated[tuple[OneLine, ...], BeforeValidator(_lines)]


class Kind(StrEnum):
    """What an item is; each kind has its own title block and place in the layout."""

    article = "article"
    brief = "brief"
    editorial = "editorial"
    editor_note = "editor_note"
    box = "box"
    back_cover = "back_cover"


class Span(StrEnum):
    """Whether an item's body runs in the two columns or across the text block."""

    two_column = "two-column"
    full_width = "full-width"


class Byline(Record):
    """One author: a person (`name`, optionally `position`) or an `organisation`."""

    name: str | None = None
    position: str | None = None
    organisation: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Byline:
        if bool(self.name) == bool(self.organisation):
            raise ValueError("a byline entry needs either `name` or `organisation`")
        if self.organisation and self.position:
            raise ValueError("an organisation byline takes no `position`")
        return self


EndNoteKind = Literal["执笔", "执笔人", "作者系", "作者单位", "来源"]
END_NOTE_KINDS = get_args(EndNoteKind)


class EndNote(Record):
    """The note set flush right after the body: （执笔：…）, （作者系…）, （来源：…）…"""

    kind: EndNoteKind
    text: str = Field(min_length=1)

    @property
    def printed(self) -> str:
        joiner = "" if self.kind == "作者系" else "："
        return f"（{self.kind}{joiner}{self.text}）"


class FrontMatter(Record):
    """Everything an article's YAML front matter may hold."""

    kind: Kind = Kind.article
    column: str
    title: Lines = ()
    subtitle: str | None = None
    kicker: str | None = None
    byline: Annotated[tuple[Byline, ...], BeforeValidator(_people)] = ()
    dateline: str | None = None
    editor_note: str | None = None
    end_note: EndNote | None = None
    series: str | None = None
    keywords: tuple[str, ...] | None = None
    span: Span | None = None
    review: tuple[str, ...] = ()

    @field_validator("subtitle")
    @classmethod
    def _no_typed_dash(cls, value: str | None) -> str | None:
        # The layout prints the ——; a typed one would print twice.
        return value.lstrip("—").strip() if value else value

    @model_validator(mode="after")
    def _brief_has_headline(self) -> FrontMatter:
        # Other items may lack a printed title (an editorial, a graphic title lost in print).
        if self.kind == Kind.brief and not self.title:
            raise ValueError("a brief needs a `title`: its headline")
        return self


class Article(Record):
    """One item of the issue, in issue order."""

    path: Path
    order: int
    slug: str
    kind: Kind
    column: str
    title: tuple[str, ...]
    subtitle: str | None
    kicker: str | None
    byline: tuple[Byline, ...]
    dateline: str | None
    editor_note: str | None
    end_note: EndNote | None
    series: str | None
    keywords: tuple[str, ...] | None
    span: Span
    review: tuple[str, ...]
    # Kept exactly as written, so that Markdown line numbers plus body_line - 1 are file lines.
    body: Annotated[str, StringConstraints(strip_whitespace=False)]
    body_line: int = Field(description="1-based line of the file where the Markdown body starts")

    @property
    def anchor(self) -> str:
        return anchor(self.order)


def anchor(order: int) -> str:
    """The id of an item's element in the print HTML and its EPUB document; links use it."""
    return f"item-{order:03d}"


class Column(Record):
    """A 栏目: `id` is how front matter names it, `name` what the page prints."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)


TRIM_SIZES = {"A4": (210.0, 297.0), "大16开": (210.0, 285.0)}


class Trim(Record):
    """Trimmed page size in millimetres."""

    width: float = Field(gt=50, lt=1000)
    height: float = Field(gt=50, lt=1000)


def _trim(value: object) -> object:
    if isinstance(value, str):
        if value in TRIM_SIZES:
            width, height = TRIM_SIZES[value]
            return {"width": width, "height": height}
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(mm)?\s*", value)
        if not match:
            raise ValueError("trim is `A4`, `大16开` or `WIDTHxHEIGHT` in mm, e.g. `210x285`")
        return {"width": float(match[1]), "height": float(match[2])}
    return value


RuleName = Annotated[str, StringConstraints(pattern=r"^[a-z-]+$")]


class LintSettings(Record):
    """`lint:` in issue.yaml: the `publisher lint` rules this issue switches off."""

    disable: tuple[RuleName, ...] = ()


class Fees(Record):
    """`fees:` in issue.yaml: the rate `publisher stats` pays authors, in 元 per thousand
    characters of 版面字数."""

    per_thousand: float = Field(gt=0)


class Manifest(Record):
    """Everything `issue.yaml` may hold."""

    magazine: str = Field(min_length=1)
    label: str = Field(min_length=1, description="the issue label as printed, e.g. 2015·10")
    year: int = Field(ge=1900, le=2200)
    month: int = Field(ge=1, le=12)
    number: int | None = Field(default=None, description="running number (总第…期), if any")
    trim: Annotated[Trim, BeforeValidator(_trim)] = Trim.model_validate(_trim("大16开"))
    columns: tuple[Column, ...] = Field(min_length=1)
    cover_lines: tuple[str, ...] = ()
    back_cover: str | None = Field(default=None, description="title of the back-cover feature")
    permit: str | None = Field(default=None, description="publication permit line")
    language: str = "zh-CN"
    lint: LintSettings = LintSettings()
    fees: Fees | None = None
    # The imprint, for the EPUB's metadata: each is left out when not given.
    publisher: str | None = None
    rights: str | None = Field(default=None, description="e.g. 版权所有 © 2015 某某杂志社")
    description: str | None = None
    issn: str | None = Field(default=None, pattern=r"^\d{4}-\d{3}[\dX]$")
    cn: str | None = Field(default=None, description="国内统一连续出版物号, e.g. 64-1012/D")

    @field_validator("columns")
    @classmethod
    def _unique_columns(cls, columns: tuple[Column, ...]) -> tuple[Column, ...]:
        for attr in ("id", "name"):
            seen = [getattr(c, attr) for c in columns]
            twice = sorted({v for v in seen if seen.count(v) > 1})
            if twice:
                raise ValueError(f"column {attr} listed twice: {', '.join(twice)}")
        return columns


class Issue(Record):
    """One issue: the manifest, its folder and its items in order."""

    root: Path
    magazine: str
    label: str
    year: int
    month: int
    number: int | None
    trim: Trim
    columns: tuple[Column, ...]
    cover_lines: tuple[str, ...]
    back_cover: str | None
    permit: str | None
    language: str
    lint: LintSettings
    fees: Fees | None
    publisher: str | None
    rights: str | None
    description: str | None
    issn: str | None
    cn: str | None
    articles: tuple[Article, ...]

    @property
    def uuid(self) -> uuid.UUID:
        """A stable identifier of this issue of this magazine, for the EPUB and the PDF/X."""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"publisher:{self.magazine}:{self.label}")

    @property
    def date(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def column(self, column_id: str) -> Column:
        return next(c for c in self.columns if c.id == column_id)

    def by_column(self) -> list[tuple[Column, list[Article]]]:
        """Runs of consecutive items that share a column, in issue order."""
        runs: list[tuple[Column, list[Article]]] = []
        for article in self.articles:
            if runs and runs[-1][0].id == article.column:
                runs[-1][1].append(article)
            else:
                runs.append((self.column(article.column), [article]))
        return runs
