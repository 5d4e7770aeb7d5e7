"""How a payment splits over a loan's instalments: plain Python, no Django, exact integers.

Instalments are paid oldest first; within one instalment the parts are paid in the product's
allocation order (by default penalty → fee → interest → principal). ``allocate`` only decides the
split; the lending services write it, and a reversal re-runs it over the payments that remain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

COMPONENTS = ("penalty", "fee", "interest", "principal")


@dataclass(frozen=True)
class Owed:
    """What is still unpaid of one instalment, part by part (minor units)."""

    number: int
    penalty: int = 0
    fee: int = 0
    interest: int = 0
    principal: int = 0

    @property
    def total(self) -> int:
        return self.penalty + self.fee + self.interest + self.principal

    def part(self, component: str) -> int:
        return int(getattr(self, component))


@dataclass
class Split:
    """What one payment paid of each instalment, and in total per part."""

    by_installment: dict[int, dict[str, int]] = field(default_factory=dict)
    unapplied: int = 0

    def total(self, component: str) -> int:
        return sum(parts.get(component, 0) for parts in self.by_installment.values())

    @property
    def applied(self) -> int:
        return sum(sum(parts.values()) for parts in self.by_installment.values())


def check_order(order: Sequence[str]) -> list[str]:
    """The problems with an allocation order; empty when it names each part exactly once."""
    problems = []
    unknown = [part for part in order if part not in COMPONENTS]
    if unknown:
        problems.append(f"Unknown parts: {', '.join(unknown)}.")
    if sorted(order) != sorted(COMPONENTS):
        problems.append(f"Name each of {', '.join(COMPONENTS)} exactly once.")
    return problems


def allocate(amount: int, owed: Iterable[Owed], order: Sequence[str]) -> Split:
    """Pay ``amount`` over ``owed`` (in the order given: oldest instalment first).

    Whatever is left after every instalment is paid in full is returned as ``unapplied``.
    """
    if amount < 0:
        raise ValueError("A payment cannot be negative.")
    if check_order(order):
        raise ValueError(f"Bad allocation order: {list(order)}")
    split = Split()
    remaining = amount
    for installment in owed:
        if remaining == 0:
            break
        for component in order:
            take = min(remaining, installment.part(component))
            if take > 0:
                split.by_installment.setdefault(installment.number, {})[component] = take
                remaining -= take
    split.unapplied = remaining
    return split


def after(owed: Owed, parts: dict[str, int]) -> Owed:
    """``owed`` less what a split paid of it."""
    return replace(
        owed, **{component: owed.part(component) - parts.get(component, 0) for component in COMPONENTS}
    )
