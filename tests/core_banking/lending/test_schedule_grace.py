"""Grace on principal, grace on interest payment, interest-free periods, multiples, VND."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from core_banking.lending.schedule import LoanTerms, TermsError, schedule_generate, terms_from_json


def terms(**overrides: object) -> LoanTerms:
    values: dict[str, object] = {
        "principal_minor": 1_200_000,  # 12,000.00 BDT
        "currency": "BDT",
        "annual_rate": Decimal(12),
        "interest_method": "flat",
        "frequency": "monthly",
        "installments": 12,
        "disbursement_date": dt.date(2025, 1, 10),
    }
    values.update(overrides)
    return LoanTerms(**values)  # type: ignore[arg-type]


def rows(loan: LoanTerms) -> list[tuple[int, int]]:
    return [(row.principal_minor, row.interest_minor) for row in schedule_generate(loan).installments]


def level(principal: int, monthly_rate: Decimal, periods: int) -> int:
    value = Decimal(principal) * monthly_rate / (1 - (1 + monthly_rate) ** -periods)
    return int(value.quantize(Decimal(1), ROUND_HALF_EVEN))


def one_percent(balance: int) -> int:
    return int((Decimal(balance) / 100).quantize(Decimal(1), ROUND_HALF_EVEN))


def plain_declining(principal: int = 1_200_000, periods: int = 12) -> list[tuple[int, int]]:
    """By hand: 1 % a month on the balance, the level instalment, the last clearing the balance."""
    payment = level(principal, Decimal("0.01"), periods)
    balance, result = principal, []
    for number in range(1, periods + 1):
        interest = one_percent(balance)
        part = balance if number == periods else payment - interest
        balance -= part
        result.append((part, interest))
    return result


def test_flat_grace_on_principal_pays_interest_only_first() -> None:
    # 12,000 at 12 % flat: 1,440 interest, 120 a month; principal over the 9 months after the grace.
    assert rows(terms(grace_principal=3)) == [(0, 12_000)] * 3 + [(133_333, 12_000)] * 8 + [(133_336, 12_000)]


def test_equal_principal_grace_on_principal() -> None:
    schedule = schedule_generate(
        terms(interest_method="declining", amortization="equal_principal", grace_principal=2)
    )
    got = [(row.principal_minor, row.interest_minor) for row in schedule.installments]
    # Interest only on the full balance for two months, then 1,200 of principal a month.
    assert got[:3] == [(0, 12_000), (0, 12_000), (120_000, 12_000)]
    assert got[3] == (120_000, 10_800)
    assert got[-1] == (120_000, 1_200)


def test_declining_interest_free_periods_repay_more_principal() -> None:
    plain = plain_declining()
    payment = sum(plain[0])
    got = rows(terms(interest_method="declining", interest_free_periods=2))
    # No interest in periods 1 and 2: the whole level instalment goes to principal.
    assert got[:2] == [(payment, 0), (payment, 0)]
    assert got[2][1] == one_percent(1_200_000 - 2 * payment)
    assert sum(part for part, _interest in got) == 1_200_000


def test_flat_interest_free_periods() -> None:
    assert [interest for _part, interest in rows(terms(interest_free_periods=3))] == [0] * 3 + [12_000] * 9


def test_flat_grace_on_interest_payment_with_equal_installments_is_spread() -> None:
    # Deferred, not forgiven: 1,440 over the 9 instalments after the grace = 160 each.
    assert [interest for _part, interest in rows(terms(grace_interest_payment=3))] == [0] * 3 + [16_000] * 9


def test_flat_grace_on_interest_payment_with_equal_principal_is_collected_at_once() -> None:
    got = [
        interest for _part, interest in rows(terms(amortization="equal_principal", grace_interest_payment=3))
    ]
    assert got == [0, 0, 0, 48_000] + [12_000] * 8


def test_flat_interest_free_and_interest_grace_together() -> None:
    # Period 1 is free (1,440 - 120 = 1,320 charged); periods 2-3 deferred: 1,320 over instalments 4-12.
    got = [interest for _part, interest in rows(terms(interest_free_periods=1, grace_interest_payment=3))]
    assert got == [0, 0, 0] + [14_667] * 8 + [132_000 - 8 * 14_667]
    assert sum(got) == 132_000


def test_declining_grace_on_interest_payment_and_free_period() -> None:
    plain = plain_declining()
    payment = sum(plain[0])
    schedule = schedule_generate(
        terms(interest_method="declining", interest_free_periods=1, grace_interest_payment=3)
    )
    got = [
        (row.principal_minor, row.interest_minor, row.earned_interest_minor) for row in schedule.installments
    ]
    # Period 1 free: all principal. Periods 2-3 earn 1 % but pay only principal (as if interest were paid).
    balance = 1_200_000 - payment
    earned_2 = one_percent(balance)
    assert got[0] == (payment, 0, 0)
    assert got[1] == (payment - earned_2, 0, earned_2)
    balance -= payment - earned_2
    earned_3 = one_percent(balance)
    assert got[2] == (payment - earned_3, 0, earned_3)
    balance -= payment - earned_3
    earned_4 = one_percent(balance)
    assert got[3] == (payment - earned_4, earned_4 + earned_2 + earned_3, earned_4)
    assert schedule.total_interest_minor == sum(row.earned_interest_minor for row in schedule.installments)


def test_multiples_of_whole_taka_the_last_absorbing_the_difference() -> None:
    schedule = schedule_generate(terms(interest_method="declining", installment_multiple_minor=100))
    totals = [row.total_minor for row in schedule.installments]
    assert set(totals[:-1]) == {level(1_200_000, Decimal("0.01"), 12) // 100 * 100}
    assert totals[-1] % 100 != 0
    assert schedule.total_principal_minor == 1_200_000


@pytest.mark.parametrize("method", ["equal_principal", "deferred"])
def test_multiples_hold_for_equal_principal_and_deferred_interest_instalments(method: str) -> None:
    overrides: dict[str, object] = {"interest_method": "declining", "installment_multiple_minor": 500}
    if method == "equal_principal":
        overrides["amortization"] = "equal_principal"
    else:
        overrides["grace_interest_payment"] = 2
    schedule = schedule_generate(terms(**overrides))
    assert all(row.total_minor % 500 == 0 for row in schedule.installments[2:-1])
    assert schedule.total_principal_minor == 1_200_000


def test_multiples_with_rounding_up_leave_a_smaller_last_instalment() -> None:
    schedule = schedule_generate(
        terms(interest_method="declining", installment_multiple_minor=1000, rounding="up")
    )
    totals = [row.total_minor for row in schedule.installments]
    assert set(totals[:-1]) == {107_000}  # 1,066.19 rounded up to a multiple of 10 taka
    assert totals[-1] < 107_000


def test_vnd_has_no_decimals_and_multiples_of_a_thousand_dong() -> None:
    loan = terms_from_json(
        {
            "principal": "50000000",
            "currency": "VND",
            "annual_rate": "12",
            "interest_method": "declining",
            "frequency": "monthly",
            "installments": 12,
            "disbursement_date": "2025-01-10",
            "installment_multiple": "1000",
        }
    )
    assert loan.principal_minor == 50_000_000 and loan.installment_multiple_minor == 1000
    schedule = schedule_generate(loan)
    # pmt = 4,442,439.4... dong, rounded half even to a multiple of 1,000: 4,442,000.
    assert {row.total_minor for row in schedule.installments[:-1]} == {4_442_000}
    assert schedule.installments[0].interest_minor == 500_000
    assert schedule.total_principal_minor == 50_000_000
    with pytest.raises(TermsError) as error:
        terms_from_json(
            {
                "principal": "1500000.5",
                "currency": "VND",
                "annual_rate": "12",
                "interest_method": "flat",
                "frequency": "monthly",
                "installments": 12,
                "disbursement_date": "2025-01-10",
                "installment_multiple": "0.5",
            }
        )
    assert error.value.errors == {
        "principal": ["The amount has more decimal places than the currency allows."],
        "installment_multiple": ["The amount has more decimal places than the currency allows."],
    }


def test_vnd_daily_interest_is_exact_to_the_dong() -> None:
    schedule = schedule_generate(
        terms(
            currency="VND",
            principal_minor=30_000_000,
            interest_method="declining",
            amortization="equal_principal",
            interest_period="daily",
            days_in_year=365,
            installments=3,
            rounding="half_up",
        )
    )
    # 30,000,000 x 12 % x 31 / 365 = 305,753.42 -> 305,753; then 20,000,000 x 28 days; 10,000,000 x 31 days.
    assert [row.interest_minor for row in schedule.installments] == [305_753, 184_110, 101_918]
    assert [row.principal_minor for row in schedule.installments] == [10_000_000] * 3
