"""The text block in whole characters and lines, and the page margins derived from it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from publisher.errors import BuildError
from publisher.source.model import Trim

MM = 72 / 25.4  # points per millimetre


@dataclass(frozen=True)
class Grid:
    """The text block in whole characters (typesetting rule 4), and page margins derived from it.

    Two columns of `column_em` characters plus a hair (WeasyPrint 70 fits only 20 characters
    in exactly 21 em) and a gutter of `gutter_em`, so full width sets 2 × 21 + 3 = 45 a line.
    """

    trim: Trim
    press: bool = False
    body_pt: float = 10.5  # 五号
    line_pt: float = 17.5  # 5/3 of the body size
    column_em: int = 21
    gutter_em: int = 3
    hair_pt: float = 0.01
    min_top_mm: float = 22.0  # room for the running head
    min_bottom_mm: float = 18.0  # room for the folio
    bleed_mm: float = 3.0  # the printer's BleedBox
    marks_mm: float = 12.0  # CSS bleed: the slug, room for the crop marks beyond the bleed

    @property
    def column_pt(self) -> float:
        return self.column_em * self.body_pt + self.hair_pt

    @property
    def measure_pt(self) -> float:
        return 2 * self.column_pt + self.gutter_em * self.body_pt

    @property
    def lines(self) -> int:
        room = (self.trim.height - self.min_top_mm - self.min_bottom_mm) * MM
        return math.floor(room / self.line_pt)

    def margins(self) -> tuple[float, float, float, float]:
        """(top, bottom, inner, outer) in points; the inner margin is the narrower."""
        slack_x = self.trim.width * MM - self.measure_pt
        slack_y = self.trim.height * MM - self.lines * self.line_pt
        if slack_x < 20 * MM:
            raise BuildError(f"trim {self.trim.width:g} mm is too narrow for a text block of "
                             f"{2 * self.column_em + self.gutter_em} characters")
        inner = round(slack_x * 0.44, 2)
        top = round(self.min_top_mm * MM + (slack_y - (self.min_top_mm + self.min_bottom_mm)
                                            * MM) / 2, 2)
        return top, slack_y - top, inner, slack_x - inner

    def css(self) -> str:
        top, bottom, inner, outer = self.margins()
        page = f"size: {self.trim.width}mm {self.trim.height}mm;"
        if self.press:
            page += f" bleed: {self.marks_mm}mm;"  # marks: `pages.mark_for_press`
        return (
            f"@page {{ {page} margin: {top}pt {outer}pt {bottom}pt {inner}pt; }}\n"
            f"@page :left {{ margin-left: {outer}pt; margin-right: {inner}pt; }}\n"
            f"@page :right {{ margin-left: {inner}pt; margin-right: {outer}pt; }}\n"
            f":root {{ --body-size: {self.body_pt}pt; --line: {self.line_pt}pt; "
            f"--column: {self.column_pt}pt; --gutter: {self.gutter_em * self.body_pt}pt; "
            f"--measure: {self.measure_pt}pt; --block-height: {self.lines * self.line_pt}pt; "
            f"--margin-top: {top}pt; --margin-bottom: {bottom}pt; "
            f"--margin-side: {(inner + outer) / 2:g}pt; }}\n"
        )

