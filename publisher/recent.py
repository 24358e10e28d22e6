"""Tables of what a process made lately, for the next build in it (`watch`, the warm process):
at most so many entries, the one kept longest ago dropped first."""

from __future__ import annotations

from typing import TypeVar

V = TypeVar("V")


def keep(table: dict, key, value: V, most: int) -> V:
    """`value`, kept in `table` under `key` as its latest entry, the earliest dropped beyond
    `most`."""
    table.pop(key, None)
    table[key] = value
    while len(table) > most:
        del table[next(iter(table))]
    return value
