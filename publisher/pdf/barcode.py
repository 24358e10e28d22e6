"""期刊条码: the EAN-13 of an ISSN (977 + its seven digits + 00 + check digit) and a two-digit
add-on for the issue number, as bars for the back cover (GB/T 16827, after ISO/IEC 15420).

Bars are drawn by the layout as boxes in the ink colour, so the press file stays vector and CMYK.
"""

from __future__ import annotations

from dataclasses import dataclass

# Module patterns of each digit: L (odd parity), G (even parity, left half), R (right half).
L_CODES = ("0001101", "0011001", "0010011", "0111101", "0100011",
           "0110001", "0101111", "0111011", "0110111", "0001011")
R_CODES = tuple("".join("1" if m == "0" else "0" for m in code) for code in L_CODES)
G_CODES = tuple(code[::-1] for code in R_CODES)
# The first digit of an EAN-13 is not drawn: it sets the parities of the left six.
FIRST_DIGIT_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
                      "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL")
# A two-digit add-on's parities follow its value modulo 4.
ADDON_PARITY = ("LL", "LG", "GL", "GG")
QUIET_LEFT, QUIET_RIGHT = 11, 7  # modules of white the standard keeps beside the symbol
ADDON_GAP = 9  # modules between the symbol and its add-on (7 to 12 allowed)
EAN_MODULES, ADDON_MODULES = 95, 20


@dataclass(frozen=True)
class Bar:
    """A dark bar `width` modules wide at `x` modules from the symbol's left edge; guard bars
    run longer, into the digits' line."""

    x: int
    width: int
    guard: bool = False


@dataclass(frozen=True)
class PeriodicalBarcode:
    ean: str  # 13 digits
    addon: str  # 2 digits

    @property
    def main_bars(self) -> list[Bar]:
        return _bars(ean13_modules(self.ean), guards=_EAN_GUARDS)

    @property
    def addon_bars(self) -> list[Bar]:
        return _bars(addon_modules(self.addon), guards=())

    # Where the parts stand, in modules from the left edge of the quiet zone.
    quiet_left = QUIET_LEFT
    addon_x = QUIET_LEFT + EAN_MODULES + ADDON_GAP
    width_modules = addon_x + ADDON_MODULES + QUIET_RIGHT


def ean13_check_digit(twelve: str) -> str:
    return str(-sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(twelve)) % 10)


def periodical_barcode(issn: str, issue_number: int) -> PeriodicalBarcode:
    """The 期刊条码 of issue `issue_number` (its number within the year) of the ISSN."""
    if not 1 <= issue_number <= 99:
        raise ValueError(f"a barcode add-on holds issue numbers 1 to 99, not {issue_number}")
    twelve = "977" + issn.replace("-", "")[:7] + "00"
    return PeriodicalBarcode(twelve + ean13_check_digit(twelve), f"{issue_number:02d}")


def ean13_modules(ean: str) -> str:
    """The 95 modules of an EAN-13, 1 dark and 0 light."""
    parity = FIRST_DIGIT_PARITY[int(ean[0])]
    left = "".join((L_CODES if p == "L" else G_CODES)[int(d)] for p, d in zip(parity, ean[1:7],
                                                                              strict=True))
    right = "".join(R_CODES[int(d)] for d in ean[7:])
    return "101" + left + "01010" + right + "101"


def addon_modules(addon: str) -> str:
    """The 20 modules of a two-digit add-on: start 1011, digit, separator 01, digit."""
    parity = ADDON_PARITY[int(addon) % 4]
    first, second = ((L_CODES if p == "L" else G_CODES)[int(d)] for p, d in zip(parity, addon,
                                                                                 strict=True))
    return "1011" + first + "01" + second


# Start, centre and end guards: modules 0-2, 45-49 and 92-94.
_EAN_GUARDS = (range(0, 3), range(45, 50), range(92, 95))


def _bars(modules: str, guards: tuple[range, ...]) -> list[Bar]:
    bars: list[Bar] = []
    start = None
    for x, module in enumerate(modules + "0"):
        if module == "1" and start is None:
            start = x
        elif module == "0" and start is not None:
            bars.append(Bar(start, x - start, any(start in guard for guard in guards)))
            start = None
    return bars
