"""Notes and coins per currency, and the total of a count. Plain Python, no Django.

A count maps a denomination key ("note-500", "coin-5") to how many pieces were counted; keys
rather than values, because a value can exist both as a note and as a coin (BDT 5, 2 and 1).
Values are integer minor units of the currency (BDT and THB have 2 decimals, VND none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

NOTE = "note"
COIN = "coin"

# The largest number of pieces of one denomination a count may name (a sanity bound).
MAX_PIECES = 10_000_000


@dataclass(frozen=True)
class Denomination:
    kind: str  # NOTE or COIN
    value_minor: int
    label: str  # the face value as printed, in major units: "500", "0.50"

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.label}"


def _table(exponent: int, notes: tuple[str, ...], coins: tuple[str, ...]) -> tuple[Denomination, ...]:
    def minor(label: str) -> int:
        whole, _dot, fraction = label.partition(".")
        return int(whole) * 10**exponent + int((fraction or "0").ljust(exponent, "0")[:exponent] or "0")

    return tuple(Denomination(NOTE, minor(label), label) for label in notes) + tuple(
        Denomination(COIN, minor(label), label) for label in coins
    )


TABLES: dict[str, tuple[Denomination, ...]] = {
    "BDT": _table(
        2,
        notes=("1000", "500", "200", "100", "50", "20", "10", "5", "2", "1"),
        coins=("5", "2", "1", "0.50"),
    ),
    "VND": _table(
        0,
        notes=("500000", "200000", "100000", "50000", "20000", "10000", "5000", "2000", "1000"),
        coins=(),
    ),
    "THB": _table(
        2,
        notes=("1000", "500", "100", "50", "20"),
        coins=("10", "5", "2", "1", "0.50", "0.25"),
    ),
}


def denominations_for(currency: str, *, exponent: int = 2) -> tuple[Denomination, ...]:
    """The currency's notes then coins, largest first.

    A currency without a table is counted in whole units and (when it has decimals) loose
    minor units, so a cooperative in any currency can still close its day.
    """
    table = TABLES.get(currency.upper())
    if table is not None:
        return table
    loose = (Denomination(COIN, 1, f"0.{'0' * (exponent - 1)}1"),) if exponent > 0 else ()
    return (Denomination(NOTE, 10**exponent, "1"), *loose)


class CountError(ValueError):
    """A count that cannot be totalled; ``problems`` maps keys to what is wrong with them."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {problem}" for key, problem in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class CountLine:
    denomination: Denomination
    pieces: int

    @property
    def amount_minor(self) -> int:
        return self.denomination.value_minor * self.pieces


@dataclass(frozen=True)
class CountTotal:
    lines: tuple[CountLine, ...]  # every denomination of the currency, in table order
    total_minor: int

    def as_counts(self) -> dict[str, int]:
        """The non-zero pieces by key: what is stored with a day close."""
        return {line.denomination.key: line.pieces for line in self.lines if line.pieces}


def count_total(currency: str, counts: Mapping[str, object], *, exponent: int = 2) -> CountTotal:
    """Total a count; unknown keys and anything but a whole number of pieces (0 or more) are refused."""
    table = denominations_for(currency, exponent=exponent)
    known = {denomination.key: denomination for denomination in table}
    pieces_by_key: dict[str, int] = {}
    problems: dict[str, str] = {}
    for key, pieces in counts.items():
        if key not in known:
            problems[key] = "not a denomination of " + currency
        elif isinstance(pieces, bool) or not isinstance(pieces, int) or not 0 <= pieces <= MAX_PIECES:
            problems[key] = f"a whole number of pieces from 0 to {MAX_PIECES}"
        else:
            pieces_by_key[key] = pieces
    if problems:
        raise CountError(problems)
    lines = tuple(CountLine(item, pieces_by_key.get(item.key, 0)) for item in table)
    return CountTotal(lines=lines, total_minor=sum(line.amount_minor for line in lines))
