"""The denomination tables and count totals (pure Python, no database)."""

from __future__ import annotations

import pytest

from core_banking.cash.denominations import CountError, count_total, denominations_for


def test_each_currency_lists_its_notes_then_coins_largest_first() -> None:
    bdt = denominations_for("BDT")
    assert [d.key for d in bdt if d.kind == "note"] == [
        "note-1000", "note-500", "note-200", "note-100", "note-50", "note-20", "note-10", "note-5", "note-2",
        "note-1",
    ]  # fmt: skip
    assert [(d.key, d.value_minor) for d in bdt if d.kind == "coin"] == [
        ("coin-5", 500), ("coin-2", 200), ("coin-1", 100), ("coin-0.50", 50),
    ]  # fmt: skip
    vnd = denominations_for("VND", exponent=0)
    assert [d.value_minor for d in vnd] == [
        500_000,
        200_000,
        100_000,
        50_000,
        20_000,
        10_000,
        5_000,
        2_000,
        1_000,
    ]
    thb = denominations_for("THB")
    assert [d.value_minor for d in thb] == [
        100_000,
        50_000,
        10_000,
        5_000,
        2_000,
        1_000,
        500,
        200,
        100,
        50,
        25,
    ]
    for table in (bdt, vnd, thb):
        assert len({d.key for d in table}) == len(table)


def test_a_currency_without_a_table_counts_units_and_loose_minor_units() -> None:
    assert [(d.key, d.value_minor) for d in denominations_for("USD", exponent=2)] == [
        ("note-1", 100),
        ("coin-0.01", 1),
    ]
    assert [(d.key, d.value_minor) for d in denominations_for("JPY", exponent=0)] == [("note-1", 1)]
    assert count_total("USD", {"note-1": 12, "coin-0.01": 7}).total_minor == 12_07


def test_totals_are_exact() -> None:
    total = count_total("BDT", {"note-1000": 3, "note-5": 1, "coin-5": 2, "coin-0.50": 3})
    assert total.total_minor == 3_000_00 + 5_00 + 10_00 + 1_50
    assert total.as_counts() == {"note-1000": 3, "note-5": 1, "coin-5": 2, "coin-0.50": 3}
    assert count_total("VND", {"note-500000": 2, "note-1000": 3}, exponent=0).total_minor == 1_003_000
    assert count_total("THB", {"coin-0.25": 3, "note-20": 1}).total_minor == 20_75
    assert count_total("BDT", {}).total_minor == 0


@pytest.mark.parametrize(
    ("counts", "key"),
    [({"note-300": 1}, "note-300"), ({"note-100": -1}, "note-100"), ({"note-100": True}, "note-100"),
     ({"note-100": "2"}, "note-100"), ({"coin-0.25": 1}, "coin-0.25")],
)  # fmt: skip
def test_bad_counts_are_named(counts: dict[str, object], key: str) -> None:
    with pytest.raises(CountError) as refused:
        count_total("BDT", counts)
    assert list(refused.value.problems) == [key]
