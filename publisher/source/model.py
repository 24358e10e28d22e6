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
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# Numbers as YAML writes them: pydantic would take `true` for 1 and `10.0` for 10.
WholeNumber = Annotated[int, Strict()]
Number = Annotated[float, Strict()]


def _lines(value: object) -> object:
    """A title may be one line or a list of lines; both become a tuple of lines. YAML reads
    `title: 2015` as a number: it is still a line of text."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
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
    # The title on one line, where its printed lines do not join with a space between phrases.
    toc_title: OneLine | None = None
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
    toc_title: str | None
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

    width: Number = Field(gt=50, lt=1000)
    height: Number = Field(gt=50, lt=1000)


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

    per_thousand: Number = Field(gt=0)


def issn_check_digit(seven: str) -> str:
    """ISSN's check character (ISO 3297): weights 8…2, modulo 11, 10 written X."""
    check = -sum(int(d) * w for d, w in zip(seven, range(8, 1, -1), strict=True)) % 11
    return "X" if check == 10 else str(check)


class Publication(StrEnum):
    """What the law makes of the magazine: which marks it must print (see `Imprint`)."""

    periodical = "periodical"  # 正式期刊, with a CN number (《期刊出版形式规范》)
    internal = "internal"  # 内部资料性出版物, with a 准印证 (《内部资料性出版物管理办法》)


class ImprintPlace(StrEnum):
    """Where the 版权页 prints."""

    inside_front_cover = "inside-front-cover"  # 封二
    inside_back_cover = "inside-back-cover"  # 封三
    toc = "toc"  # under the 目录


class Imprint(Record):
    """The 版权页's facts; which of them a publication's kind requires is `missing_marks`'s."""

    # A licence number or a date written bare in YAML is still the text to print.
    model_config = ConfigDict(**Record.model_config, coerce_numbers_to_str=True)

    place: ImprintPlace = ImprintPlace.inside_front_cover
    supervisor: str | None = Field(default=None, description="主管单位")
    sponsor: str | None = Field(default=None, description="主办单位")
    publisher: str | None = Field(default=None, description="出版单位")
    editor_in_chief: str | None = Field(default=None, description="总编辑 (主编)")
    compiler: str | None = Field(default=None, description="编印单位 (internal)")
    address: str | None = None
    printer: str | None = Field(default=None, description="印刷单位")
    distributor: str | None = Field(default=None, description="发行单位")
    distribution: str | None = Field(default=None, description="发行范围")
    recipients: str | None = Field(default=None, description="发送对象 (internal)")
    published: str | None = Field(default=None, description="出版日期, as printed")
    printed: str | None = Field(default=None, description="印刷日期, as printed (internal)")
    copies: WholeNumber | None = Field(default=None, gt=0, description="印数 (internal)")
    price: str | None = Field(default=None, description="定价, as printed: 8.00元")
    cn: str | None = Field(default=None, pattern=r"^CN ?\d{2}-\d{4}/[A-Z0-9]{1,3}$",
                           description="国内统一连续出版物号, e.g. CN64-1001/D")
    issn: str | None = Field(default=None, description="ISSN, e.g. 1004-0951")
    ad_licence: str | None = Field(default=None, description="广告经营许可证号")
    retail: bool = Field(default=True, description="sold at retail: the back cover has 期刊条码")

    @field_validator("issn")
    @classmethod
    def _issn_checks(cls, value: str | None) -> str | None:
        if value is None:
            return value
        digits = value.replace("-", "").upper()
        if not re.fullmatch(r"\d{4}-?\d{3}[\dX]", value.upper()) or \
                issn_check_digit(digits[:7]) != digits[7]:
            raise ValueError("an ISSN is NNNN-NNNC with C its check digit (0-9 or X), "
                             "e.g. 1004-0951")
        return value.upper()


# The marks each kind must print: 《期刊出版形式规范》 and 《期刊出版管理规定》 for a periodical
# (ISSN and 广告经营许可证号 only where it has them), 《内部资料性出版物管理办法》 art. 14 for an
# internal publication (its issue number is the issue's label).
MARKS = {
    Publication.periodical: {
        "supervisor": "主管单位", "sponsor": "主办单位", "publisher": "出版单位",
        "editor_in_chief": "总编辑", "address": "地址", "printer": "印刷单位",
        "distributor": "发行单位", "distribution": "发行范围", "published": "出版日期",
        "price": "定价", "cn": "国内统一连续出版物号"},
    Publication.internal: {
        "permit": "准印证号", "compiler": "编印单位", "recipients": "发送对象",
        "printer": "印刷单位", "printed": "印刷日期", "copies": "印数"},
}


class PressProfile(Record):
    """The printer's output condition: their ICC profile and how the PDF/X names it."""

    profile: Path = Field(description="the ICC file, relative to the issue folder")
    condition: str = Field(min_length=1, description="OutputConditionIdentifier, e.g. JC200103")
    info: str | None = Field(default=None, description="what the condition is, in words")
    registry: str | None = Field(default=None, description="where `condition` is registered, "
                                 "e.g. http://www.color.org")


class Manifest(Record):
    """Everything `issue.yaml` may hold."""

    magazine: str = Field(min_length=1)
    label: str = Field(min_length=1, description="the issue label as printed, e.g. 2015·10")
    year: WholeNumber = Field(ge=1900, le=2200)
    month: WholeNumber = Field(ge=1, le=12)
    number: WholeNumber | None = Field(default=None, description="running number (总第…期), if any")
    trim: Annotated[Trim, BeforeValidator(_trim)] = Trim.model_validate(_trim("大16开"))
    columns: tuple[Column, ...] = Field(min_length=1)
    cover_lines: tuple[str, ...] = ()
    back_cover: str | None = Field(default=None, description="title of the back-cover feature")
    permit: str | None = Field(default=None, description="准印证 number (internal publications)")
    publication: Publication | None = None
    imprint: Imprint = Imprint()
    press: PressProfile | None = None
    language: str = "zh-CN"
    lint: LintSettings = LintSettings()
    fees: Fees | None = None
    # For the EPUB's metadata (the publisher and the print edition's numbers are the imprint's).
    rights: str | None = Field(default=None, description="e.g. 版权所有 © 2015 某某杂志社")
    description: str | None = None
    revised: Annotated[dt.date, Strict()] | None = Field(
        default=None, description="the day a published issue was last corrected")

    @field_validator("columns")
    @classmethod
    def _unique_columns(cls, columns: tuple[Column, ...]) -> tuple[Column, ...]:
        for attr in ("id", "name"):
            seen = [getattr(c, attr) for c in columns]
            twice = sorted({v for v in seen if seen.count(v) > 1})
            if twice:
                raise ValueError(f"column {attr} listed twice: {', '.join(twice)}")
        return columns

    @field_validator("revised")
    @classmethod
    def _revised_after_issue(cls, revised: dt.date | None, info: ValidationInfo):
        year, month = info.data.get("year"), info.data.get("month")
        if revised and year and month and revised < dt.date(year, month, 1):
            raise ValueError(f"{revised} comes before the issue's month: write the day of the "
                             "correction, as 2015-10-20")
        return revised


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
    publication: Publication | None
    imprint: Imprint
    press: PressProfile | None
    language: str
    lint: LintSettings
    fees: Fees | None
    rights: str | None
    description: str | None
    revised: dt.date | None
    articles: tuple[Article, ...]

    @property
    def uuid(self) -> uuid.UUID:
        """A stable identifier of this issue of this magazine, for the EPUB and the PDF/X."""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"publisher:{self.magazine}:{self.label}")

    @property
    def date(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def missing_marks(self) -> list[str]:
        """What the law asks this kind of publication to print and issue.yaml does not give;
        nothing for an issue that does not say its kind (as before `publication:` existed)."""
        if self.publication is None:
            return []
        imprint = self.imprint
        required = MARKS[self.publication]
        missing = [f"`{key}` ({label})" for key, label in required.items()
                   if (self.permit if key == "permit" else getattr(imprint, key)) is None]
        kind = {Publication.periodical: "a periodical",
                Publication.internal: "an internal publication"}[self.publication]
        where = "`imprint:` (the 准印证 is `permit:`)" if "permit" in str(missing) else "`imprint:`"
        messages = [f"{kind} must print {', '.join(missing)}: add to {where}"] if missing else []
        if self.publication == Publication.periodical and imprint.retail and not imprint.issn:
            messages.append("a periodical sold at retail prints the 期刊条码, made from its "
                            "ISSN: add `imprint.issn`, or `imprint.retail: false`")
        if self.publication == Publication.internal:
            given = [key for key in ("price", "cn", "issn") if getattr(imprint, key)]
            if given:
                messages.append(f"an internal publication prints no {', '.join(given)} and "
                                "carries no barcode: remove them from `imprint:`")
        return messages

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
