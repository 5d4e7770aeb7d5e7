"""The savings interest job against the real database: periodic posting and accrual, maturity, closure.

Every amount is worked out by hand in the comments: ``balance x rate / 100 x days / denominator``
summed over the period, rounded once (half to even unless said otherwise).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import Account, JournalEntry, LedgerState
from core_banking.ledger.services import ledger_verify
from core_banking.members.models import Member
from core_banking.savings.interest_posting import (
    last_month_end_before,
    savings_deposit_close_early,
    savings_interest_daily_run,
    savings_interest_post,
    savings_maturity_process,
)
from core_banking.savings.models import (
    InterestPosting,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
)
from core_banking.savings.services import (
    savings_account_open,
    savings_deposit,
    savings_product_create,
    savings_rate_schedule,
    savings_withdraw,
)
from core_banking.savings.tasks import savings_interest_daily
from frontend.formatting import format_money
from notifications.models import OutboxMessage
from tests.core_banking.savings.conftest import make_member

RATES_FROM = dt.date(2026, 1, 1)


def _product(code: str, *, rate: str = "6", kind: str = "voluntary", **settings: Any) -> SavingsProduct:
    return savings_product_create(
        actor=None,
        code=code,
        name=f"Product {code}",
        kind=kind,
        annual_rate=Decimal(rate),
        rate_effective_from=RATES_FROM,
        **settings,
    )


def _open(product: SavingsProduct, member: Member, opened_on: dt.date) -> SavingsAccount:
    return savings_account_open(actor=None, member=member, product=product, opened_on=opened_on)


def _deposit(account: SavingsAccount, amount_minor: int, on: dt.date) -> None:
    savings_deposit(
        account_id=account.pk,
        amount_minor=amount_minor,
        value_date=on,
        idempotency_key=f"dep-{account.pk}-{on.isoformat()}-{amount_minor}",
    )


def _lines(entry: JournalEntry) -> list[tuple[str, int, int]]:
    return [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")]


def _interest_posted(account: SavingsAccount) -> InterestPosting:
    return InterestPosting.objects.get(account=account)


# --- Periodic posting ----------------------------------------------------------------------------


def test_one_account_per_method_over_a_month_with_a_31st(in_alpha: object) -> None:
    daily = _product("DB")  # daily balance, actual/365
    minimum = _product("MIN", interest_method="monthly_minimum_balance", day_count="actual_360")
    month_end = _product("END", interest_method="month_end_balance", day_count="actual_actual")
    accounts = {}
    for number, product in enumerate((daily, minimum, month_end), start=1):
        account = _open(product, make_member(f"HO-00000{number}"), dt.date(2027, 2, 15))
        _deposit(account, 10_000_00, dt.date(2027, 2, 15))
        _deposit(account, 5_000_00, dt.date(2027, 3, 16))
        savings_withdraw(
            account_id=account.pk,
            amount_minor=2_000_00,
            value_date=dt.date(2027, 3, 31),
            idempotency_key=f"w{number}",
        )
        accounts[product.code] = account

    summary = savings_interest_post(period_end=dt.date(2027, 3, 31))

    # The job posts from the period's first day (1 March); nothing was posted for February.
    # Closing balances in March: 1-15 10 000.00, 16-30 15 000.00, 31st 13 000.00.
    # DB, actual/365: (15 x 1 000 000 + 15 x 1 500 000 + 1 x 1 300 000) x 6 / 100 / 365
    #     = 38 800 000 x 0.06 / 365 = 2 328 000 / 365 = 6 378.08 -> 6 378
    # MIN, actual/360: lowest balance 1 000 000 (carried in) x 0.06 x 31 / 360 = 1 860 000 / 360
    #     = 5 166.67 -> 5 167
    # END, actual/actual (2027 has 365 days): 31st's closing 1 300 000 x 0.06 x 31 / 365
    #     = 2 418 000 / 365 = 6 624.66 -> 6 625
    expected = {"DB": 6_378, "MIN": 5_167, "END": 6_625}
    assert summary.failures == [] and summary.already_done == 0
    assert {booking.number.split("-")[2]: booking.credited_minor for booking in summary.booked} == expected
    assert summary.credited_minor == 6_378 + 5_167 + 6_625
    for code, interest in expected.items():
        account = accounts[code]
        account.refresh_from_db()
        assert account.balance_minor == 13_000_00 + interest
        assert account.interest_posted_through == dt.date(2027, 3, 31)
        posting = _interest_posted(account)
        assert (posting.kind, posting.period_start, posting.period_end) == (
            "posting",
            dt.date(2027, 3, 1),
            dt.date(2027, 3, 31),
        )
        assert (posting.interest_minor, posting.credited_minor, posting.payable_change_minor) == (
            interest,
            interest,
            0,
        )
        # One balanced entry: interest expense Dr, the product's savings control account Cr.
        assert posting.entry is not None
        assert _lines(posting.entry) == [("5100", interest, 0), (f"2100-{code}", 0, interest)]
        movement = posting.savings_transaction
        assert movement is not None
        assert (movement.kind, movement.amount_minor, movement.balance_after_minor, movement.value_date) == (
            "interest",
            interest,
            13_000_00 + interest,
            dt.date(2027, 3, 31),
        )
        # The member's SMS, in the same transaction, keyed like the entry.
        message = OutboxMessage.objects.get(kind="savings_interest", member_id=account.member_id)
        assert message.source_ref == posting.entry.idempotency_key == movement.idempotency_key
        assert message.context["amount_minor"] == interest
        assert message.context["balance_minor"] == 13_000_00 + interest
    daily_posting = _interest_posted(accounts["DB"])
    assert daily_posting.breakdown_json["unrounded"] == "6378.0821917808"
    assert [segment["days"] for segment in daily_posting.breakdown_json["segments"]] == [15, 15, 1]
    assert ledger_verify().reason == ""


def test_february_of_a_leap_year_counts_29_days(in_alpha: object) -> None:
    actual = _product("AA", day_count="actual_actual")
    fixed_year = _product("A365")
    accounts = []
    for number, product in enumerate((actual, fixed_year), start=1):
        account = _open(product, make_member(f"HO-00001{number}"), dt.date(2028, 1, 10))
        _deposit(account, 10_000_00, dt.date(2028, 1, 10))
        _deposit(account, 3_660_00, dt.date(2028, 2, 29))
        accounts.append(account)

    summary = savings_interest_post(period_end=dt.date(2028, 2, 29))

    # 28 days at 1 000 000 and the 29th at 1 366 000: 29 366 000 balance-days x 0.06 = 1 761 960.
    # actual/actual, 2028 has 366 days: 1 761 960 / 366 = 4 814.10 -> 4 814
    # actual/365:                       1 761 960 / 365 = 4 827.29 -> 4 827
    assert [booking.credited_minor for booking in summary.booked] == [4_814, 4_827]
    assert [booking.period_start for booking in summary.booked] == [dt.date(2028, 2, 1)] * 2
    segments = _interest_posted(accounts[0]).breakdown_json["segments"]
    assert [(segment["days"], segment["denominator"]) for segment in segments] == [(28, 366), (1, 366)]


def test_a_rate_change_in_the_middle_of_a_period_splits_it(in_alpha: object) -> None:
    product = _product("RC")
    account = _open(product, make_member("HO-000021"), dt.date(2027, 3, 20))
    _deposit(account, 10_000_00, dt.date(2027, 3, 20))
    savings_rate_schedule(
        actor=None, product=product, effective_from=dt.date(2027, 4, 16), annual_rate=Decimal("4.5")
    )

    summary = savings_interest_post(period_end=dt.date(2027, 4, 30))

    # 1-15 April at 6 %: 15 x 1 000 000 x 0.06 = 900 000; 16-30 April at 4.5 %: 15 x 1 000 000 x 0.045
    # = 675 000; (900 000 + 675 000) / 365 = 4 315.07 -> 4 315
    assert [booking.credited_minor for booking in summary.booked] == [4_315]
    segments = _interest_posted(account).breakdown_json["segments"]
    assert [(segment["days"], segment["annual_rate_percent"]) for segment in segments] == [
        (15, "6.0000"),
        (15, "4.5000"),
    ]


def test_vnd_interest_is_rounded_to_whole_dong(in_beta: object) -> None:
    product = _product("VN", rate="7")
    account = _open(product, make_member("HO-000031", phone="+84912345678"), dt.date(2027, 2, 20))
    _deposit(account, 10_000_000, dt.date(2027, 2, 20))

    summary = savings_interest_post(period_end=dt.date(2027, 3, 31))

    # VND has no minor unit: 10 000 000 dong x 0.07 x 31 / 365 = 21 700 000 / 365 = 59 452.05 -> 59 452 dong
    assert [booking.credited_minor for booking in summary.booked] == [59_452]
    posting = _interest_posted(account)
    assert posting.breakdown_json["currency_exponent"] == 0
    assert _lines(posting.entry) == [("5100", 59_452, 0), ("2100-VN", 0, 59_452)]
    assert OutboxMessage.objects.get(kind="savings_interest").context["currency"] == "VND"


def test_monthly_accrual_and_quarterly_posting_go_through_interest_payable(in_alpha: object) -> None:
    product = _product("QTR", posting_period="quarterly", accrual_period="monthly")
    account = _open(product, make_member("HO-000041"), dt.date(2026, 12, 20))
    _deposit(account, 10_000_00, dt.date(2026, 12, 20))
    december = savings_interest_post(period_end=dt.date(2026, 12, 31))

    january = savings_interest_post(period_end=dt.date(2027, 1, 31))
    february = savings_interest_post(period_end=dt.date(2027, 2, 28))
    march = savings_interest_post(period_end=dt.date(2027, 3, 31))

    # December 2026 ends a quarter: 20-31 December, 12 x 1 000 000 x 0.06 / 365 = 720 000 / 365
    # = 1 972.60 -> 1 973 credited; from then on the balance is 1 001 973.
    assert december.credited_minor == 1_973
    # Accrual is cumulative from 1 January, rounded once, less what was accrued already:
    # 31 January: 31 x 1 001 973 x 0.06 / 365 = 1 863 669.78 / 365 = 5 105.95 -> 5 106 accrued
    # 28 February: 59 days: 3 546 984.42 / 365 = 9 717.77 -> 9 718; 9 718 - 5 106 = 4 612 accrued
    # 31 March: 90 days: 5 410 654.2 / 365 = 14 823.71 -> 14 824 credited; 9 718 released from 2200.
    assert (january.accrued_minor, january.credited_minor) == (5_106, 0)
    assert (february.accrued_minor, february.credited_minor) == (4_612, 0)
    assert (march.accrued_minor, march.credited_minor) == (0, 14_824)
    rows = list(InterestPosting.objects.filter(account=account).order_by("period_end"))
    assert [(row.kind, row.credited_minor, row.payable_change_minor) for row in rows] == [
        ("posting", 1_973, 0),
        ("accrual", 0, 5_106),
        ("accrual", 0, 4_612),
        ("posting", 14_824, -9_718),
    ]
    assert sum(row.payable_change_minor for row in rows) == 0
    assert _lines(rows[1].entry) == [("5100", 5_106, 0), ("2200", 0, 5_106)]
    # At posting: Dr 5100 the rest (14 824 - 9 718 = 5 106), Dr 2200 the accrual, Cr the member.
    assert _lines(rows[3].entry) == [
        ("5100", 5_106, 0),
        ("2200", 9_718, 0),
        ("2100-QTR", 0, 14_824),
    ]
    account.refresh_from_db()
    assert account.balance_minor == 10_000_00 + 1_973 + 14_824
    # The member hears of the postings only, not of the accruals.
    assert OutboxMessage.objects.filter(kind="savings_interest").count() == 2
    assert ledger_verify().reason == ""


def test_an_account_closed_before_the_posting_date_gives_its_accrual_back(in_alpha: object) -> None:
    product = _product("QCL", posting_period="quarterly", accrual_period="monthly")
    account = _open(product, make_member("HO-000045"), dt.date(2027, 1, 1))
    _deposit(account, 10_000_00, dt.date(2027, 1, 1))
    # 31 January: 31 x 1 000 000 x 0.06 / 365 = 5 095.89 -> 5 096 accrued
    assert savings_interest_post(period_end=dt.date(2027, 1, 31)).accrued_minor == 5_096
    # The member leaves in February (the share exit closes the account); nothing accrues any more.
    SavingsAccount.objects.filter(pk=account.pk).update(status="closed", closed_on=dt.date(2027, 2, 10))
    assert savings_interest_post(period_end=dt.date(2027, 2, 28)).booked == []

    march = savings_interest_post(period_end=dt.date(2027, 3, 31))

    # The broken quarter earns nothing: the 5 096 accrued goes back, Dr 2200 / Cr 5100.
    assert [(booking.credited_minor, booking.payable_change_minor) for booking in march.booked] == [
        (0, -5_096)
    ]
    reversal = InterestPosting.objects.get(account=account, period_end=dt.date(2027, 3, 31))
    assert reversal.breakdown_json == {"reason": "account closed"}
    assert _lines(reversal.entry) == [("2200", 5_096, 0), ("5100", 0, 5_096)]
    assert reversal.savings_transaction is None
    assert not OutboxMessage.objects.filter(kind="savings_interest").exists()
    # Nothing is left accrued, so the next quarter leaves the account alone.
    assert savings_interest_post(period_end=dt.date(2027, 6, 30)).booked == []


def test_running_a_period_twice_posts_once(in_alpha: object) -> None:
    product = _product("TW")
    account = _open(product, make_member("HO-000051"), dt.date(2027, 3, 1))
    _deposit(account, 10_000_00, dt.date(2027, 3, 1))
    first = savings_interest_post(period_end=dt.date(2027, 3, 31))
    counts = (
        JournalEntry.objects.count(),
        SavingsTransaction.objects.count(),
        OutboxMessage.objects.count(),
        InterestPosting.objects.count(),
    )

    again = savings_interest_post(period_end=dt.date(2027, 3, 31))
    # The daily run on any later day of April posts for 31 March too: nothing new either.
    daily = savings_interest_daily_run(business_date=dt.date(2027, 4, 17))

    # 31 x 1 000 000 x 0.06 / 365 = 1 860 000 / 365 = 5 095.89 -> 5 096
    assert first.credited_minor == 5_096
    assert again.booked == [] and again.failures == []
    assert daily.interest.booked == [] and daily.interest.on == dt.date(2027, 3, 31)
    assert (
        JournalEntry.objects.count(),
        SavingsTransaction.objects.count(),
        OutboxMessage.objects.count(),
        InterestPosting.objects.count(),
    ) == counts
    account.refresh_from_db()
    assert account.balance_minor == 10_000_00 + 5_096


def test_a_month_no_run_posted_is_caught_up_by_the_next_posting(in_alpha: object) -> None:
    product = _product("GAP")
    account = _open(product, make_member("HO-000055"), dt.date(2027, 1, 1))
    _deposit(account, 10_000_00, dt.date(2027, 1, 1))
    # January: 31 x 1 000 000 x 0.06 / 365 = 5 095.89 -> 5 096
    assert savings_interest_post(period_end=dt.date(2027, 1, 31)).credited_minor == 5_096

    # No run in February or March; the first one in April posts for 31 March.
    run = savings_interest_daily_run(business_date=dt.date(2027, 4, 2))

    # February and March, 59 days on 1 005 096: 59 x 1 005 096 x 0.06 / 365 = 9 748.05 -> 9 748
    assert [(booking.period_start, booking.credited_minor) for booking in run.interest.booked] == [
        (dt.date(2027, 2, 1), 9_748)
    ]
    account.refresh_from_db()
    assert (account.balance_minor, account.interest_posted_through) == (
        10_000_00 + 5_096 + 9_748,
        dt.date(2027, 3, 31),
    )


def test_the_database_and_the_ledger_key_each_refuse_a_second_posting(in_alpha: object) -> None:
    product = _product("DK")
    account = _open(product, make_member("HO-000061"), dt.date(2027, 3, 1))
    _deposit(account, 10_000_00, dt.date(2027, 3, 1))
    savings_interest_post(period_end=dt.date(2027, 3, 31))
    posting = _interest_posted(account)

    # The unique constraint: a second row for the account and day cannot be written.
    with pytest.raises(IntegrityError), transaction.atomic():
        InterestPosting.objects.create(
            account=account,
            kind="posting",
            period_start=posting.period_start,
            period_end=posting.period_end,
            interest_minor=1,
            calculation="daily_balance",
            created_at=timezone.now(),
        )
    # Even with the row gone (and the account's marker wound back) the ledger key stops a second entry.
    InterestPosting.objects.filter(pk=posting.pk).delete()
    SavingsAccount.objects.filter(pk=account.pk).update(interest_posted_through=None)
    summary = savings_interest_post(period_end=dt.date(2027, 3, 31))
    assert summary.booked == []
    assert [(failure.number, failure.code) for failure in summary.failures] == [
        (account.number, ErrorCode.IDEMPOTENCY_KEY_REUSED)
    ]
    assert JournalEntry.objects.filter(idempotency_key__startswith="savings-posting:").count() == 1
    account.refresh_from_db()
    assert account.balance_minor == 10_000_00 + 5_096


def test_one_account_that_cannot_be_booked_does_not_stop_the_others(in_alpha: object) -> None:
    good, broken = _product("OK"), _product("BRK")
    first = _open(good, make_member("HO-000071"), dt.date(2027, 3, 1))
    second = _open(broken, make_member("HO-000072"), dt.date(2027, 3, 1))
    third = _open(good, make_member("HO-000073"), dt.date(2027, 3, 1))
    for account in (first, second, third):
        _deposit(account, 10_000_00, dt.date(2027, 3, 1))
    Account.objects.filter(code="2100-BRK").update(is_active=False)

    summary = savings_interest_post(period_end=dt.date(2027, 3, 31))

    # 5 096 each (31 days of 1 000 000 at 6 %, as above); the broken product's account is reported.
    assert [(booking.number, booking.credited_minor) for booking in summary.booked] == [
        (first.number, 5_096),
        (third.number, 5_096),
    ]
    assert [(failure.number, failure.code) for failure in summary.failures] == [
        (second.number, ErrorCode.ACCOUNT_UNKNOWN)
    ]
    assert not InterestPosting.objects.filter(account=second).exists()
    assert not OutboxMessage.objects.filter(kind="savings_interest", member_id=second.member_id).exists()

    # Once fixed, the next run books it and leaves the others alone.
    Account.objects.filter(code="2100-BRK").update(is_active=True)
    retry = savings_interest_post(period_end=dt.date(2027, 3, 31))
    assert [(booking.number, booking.credited_minor) for booking in retry.booked] == [(second.number, 5_096)]


def test_a_closed_ledger_period_is_reported_not_booked(in_alpha: object) -> None:
    product = _product("CL")
    account = _open(product, make_member("HO-000081"), dt.date(2027, 3, 1))
    _deposit(account, 10_000_00, dt.date(2027, 3, 1))
    LedgerState.objects.update(closed_through=dt.date(2027, 3, 31))

    summary = savings_interest_post(period_end=dt.date(2027, 3, 31))

    assert [(failure.number, failure.code) for failure in summary.failures] == [
        (account.number, ErrorCode.PERIOD_CLOSED)
    ]
    assert not InterestPosting.objects.exists()
    account.refresh_from_db()
    assert (account.balance_minor, account.interest_posted_through) == (10_000_00, None)


# --- Term deposits -------------------------------------------------------------------------------


def _fixed_deposit(in_product: SavingsProduct, number: str, principal: int) -> SavingsAccount:
    account = _open(in_product, make_member(number), dt.date(2027, 1, 15))
    _deposit(account, principal, dt.date(2027, 1, 15))
    return account


def test_a_fixed_deposit_matures_once(fdr: SavingsProduct) -> None:
    account = _fixed_deposit(fdr, "HO-000091", 50_000_00)
    assert account.maturity_date == dt.date(2028, 1, 15)
    # Periodic posting leaves term deposits alone; the day before maturity, nothing matures.
    assert savings_interest_post(period_end=dt.date(2027, 3, 31)).booked == []
    assert savings_maturity_process(on=dt.date(2028, 1, 14)).booked == []

    summary = savings_maturity_process(on=dt.date(2028, 1, 15))
    again = savings_maturity_process(on=dt.date(2028, 1, 20))

    # 8 % a year is 2 % a quarter, credited to the deposit each quarter:
    # 5 000 000 x 1.02^4 = 5 000 000 x 1.08243216 = 5 412 160.8 -> interest 412 160.8 -> 412 161
    assert [(booking.kind, booking.credited_minor) for booking in summary.booked] == [("maturity", 412_161)]
    assert again.booked == [] and again.failures == []
    account.refresh_from_db()
    assert (account.status, account.balance_minor, account.interest_posted_through) == (
        "matured",
        50_000_00 + 412_161,
        dt.date(2028, 1, 15),
    )
    posting = _interest_posted(account)
    assert posting.calculation == "fixed_deposit"
    assert [block["interest"] for block in posting.breakdown_json["blocks"]] == [
        "100000.0000000000",  # 5 000 000 x 0.02
        "102000.0000000000",  # 5 100 000 x 0.02
        "104040.0000000000",  # 5 202 000 x 0.02
        "106120.8000000000",  # 5 306 040 x 0.02
    ]
    assert _lines(posting.entry) == [("5100", 412_161, 0), ("2100-FDR", 0, 412_161)]
    assert OutboxMessage.objects.filter(kind="savings_interest").count() == 1


def test_a_fixed_deposit_closed_early_earns_the_completed_months_at_the_reduced_rate(
    fdr: SavingsProduct,
) -> None:
    account = _fixed_deposit(fdr, "HO-000101", 50_000_00)

    closure = savings_deposit_close_early(
        account_id=account.pk, on=dt.date(2027, 8, 20), idempotency_key="fdr-close"
    )

    # 15 January to 20 August: 7 whole months. 8 % - 2 points = 6 % a year, 0.5 % a month, credited
    # quarterly: months 1-3 5 000 000 x 0.015 = 75 000; months 4-6 5 075 000 x 0.015 = 76 125;
    # month 7 5 151 125 x 0.005 = 25 755.625; 176 880.625 -> 176 881
    assert (closure.interest_minor, closure.paid_out_minor) == (176_881, 50_000_00 + 176_881)
    assert closure.posting.calculation == "fixed_deposit_premature"
    assert closure.posting.breakdown_json["annual_rate_percent"] == "6.0000"
    assert closure.posting.breakdown_json["months"] == 7
    account.refresh_from_db()
    assert (account.status, account.balance_minor, account.closed_on) == ("closed", 0, dt.date(2027, 8, 20))
    interest_entry = JournalEntry.objects.get(idempotency_key="fdr-close:interest")
    assert _lines(interest_entry) == [("5100", 176_881, 0), ("2100-FDR", 0, 176_881)]
    payout_entry = JournalEntry.objects.get(idempotency_key="fdr-close:payout")
    assert _lines(payout_entry) == [("2100-FDR", 5_176_881, 0), ("1100-HO", 0, 5_176_881)]
    assert sorted(OutboxMessage.objects.values_list("kind", flat=True)) == [
        "savings_deposit",
        "savings_interest",
        "savings_withdrawal",
    ]

    # The same request again answers with the first closure; another one is refused.
    replay = savings_deposit_close_early(
        account_id=account.pk, on=dt.date(2027, 8, 20), idempotency_key="fdr-close"
    )
    assert (replay.posting.pk, replay.paid_out_minor) == (closure.posting.pk, 5_176_881)
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_deposit_close_early(account_id=account.pk, on=dt.date(2027, 8, 21), idempotency_key="other")
    assert raised.value.code == ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE
    assert JournalEntry.objects.count() == 3  # the deposit, the interest, the payout
    # A closed deposit does not mature.
    assert savings_maturity_process(on=dt.date(2028, 1, 15)).booked == []


def test_a_fixed_deposit_closed_within_its_first_month_pays_back_the_principal_only(
    fdr: SavingsProduct,
) -> None:
    account = _fixed_deposit(fdr, "HO-000111", 20_000_00)
    with pytest.raises(BusinessRuleViolation) as raised:
        savings_deposit_close_early(account_id=account.pk, on=dt.date(2028, 1, 15), idempotency_key="late")
    assert raised.value.code == ErrorCode.VALIDATION_ERROR  # on the maturity date it matures instead

    closure = savings_deposit_close_early(
        account_id=account.pk, on=dt.date(2027, 2, 14), idempotency_key="soon"
    )

    # 15 January to 14 February is not a whole month: no interest.
    assert (closure.interest_minor, closure.paid_out_minor, closure.interest_transaction) == (
        0,
        20_000_00,
        None,
    )
    assert not JournalEntry.objects.filter(idempotency_key="soon:interest").exists()
    assert closure.posting.breakdown_json["reason"] == "nothing earned"


def test_a_recurring_deposit_matures_on_its_rate_sheet_or_on_its_real_balances(in_alpha: object) -> None:
    dps = _product(
        "DPS",
        kind="recurring",
        term_months=6,
        installment_minor=1_000_00,
        posting_period="quarterly",
        withdrawals_allowed=False,
    )
    opened = dt.date(2027, 1, 10)
    regular = _open(dps, make_member("HO-000121"), opened)
    for month in range(1, 7):  # 10 January to 10 June, each instalment on its day
        _deposit(regular, 1_000_00, dt.date(2027, month, 10))
    missed = _open(dps, make_member("HO-000122"), opened)
    _deposit(missed, 1_000_00, opened)  # the first instalment only

    summary = savings_maturity_process(on=dt.date(2027, 7, 10))

    # On contract, 0.5 % a month on the running balance, credited quarterly:
    # months 1-3: 100 000, 200 000, 300 000 -> 500 + 1 000 + 1 500 = 3 000, balance 303 000;
    # months 4-6: 403 000, 503 000, 603 000 -> 2 015 + 2 515 + 3 015 = 7 545; 3 000 + 7 545 = 10 545
    # Off contract, daily balance at 6 %, actual/365, 10 January to 9 July (181 days) on 100 000:
    # 181 x 100 000 x 0.06 / 365 = 1 086 000 / 365 = 2 975.34 -> 2 975
    assert [(booking.number, booking.credited_minor) for booking in summary.booked] == [
        (regular.number, 10_545),
        (missed.number, 2_975),
    ]
    assert _interest_posted(regular).calculation == "recurring_deposit"
    assert _interest_posted(missed).calculation == "recurring_deposit_daily"
    regular.refresh_from_db()
    assert (regular.status, regular.balance_minor) == ("matured", 6_000_00 + 10_545)
    assert savings_maturity_process(on=dt.date(2027, 7, 11)).booked == []


def test_a_recurring_deposit_closed_early_earns_its_paid_months_at_the_reduced_rate(in_alpha: object) -> None:
    dps = _product(
        "DPC",
        kind="recurring",
        term_months=12,
        installment_minor=1_000_00,
        posting_period="quarterly",
        premature_rate_reduction=Decimal("1"),
    )
    account = _open(dps, make_member("HO-000125"), dt.date(2027, 1, 10))
    for month in (1, 2, 3, 4):
        _deposit(account, 1_000_00, dt.date(2027, month, 10))

    closure = savings_deposit_close_early(
        account_id=account.pk, on=dt.date(2027, 4, 25), idempotency_key="dps-close"
    )

    # 10 January to 25 April: 3 whole months, at 6 - 1 = 5 % (5 / 1200 a month) on the running balance
    # of those months' instalments: (100 000 + 200 000 + 300 000) x 5 / 1200 = 2 500; the fourth
    # instalment, paid in a month not completed, earns nothing. Paid out: 400 000 + 2 500.
    assert (closure.interest_minor, closure.paid_out_minor) == (2_500, 4_025_00)
    assert closure.posting.calculation == "recurring_deposit_premature"
    account.refresh_from_db()
    assert (account.status, account.balance_minor) == ("closed", 0)


def test_a_deposit_that_cannot_mature_does_not_stop_the_others(fdr: SavingsProduct) -> None:
    healthy = _fixed_deposit(fdr, "HO-000131", 10_000_00)
    late_rate = _product("LATE", kind="fixed", term_months=12, posting_period="yearly")
    orphan = _open(
        late_rate, make_member("HO-000132"), dt.date(2025, 6, 1)
    )  # before the product's first rate
    _deposit(orphan, 10_000_00, dt.date(2025, 6, 1))

    summary = savings_maturity_process(on=dt.date(2028, 1, 15))

    # The healthy one: 1 000 000 x 1.02^4 - 1 000 000 = 82 432.16 -> 82 432
    assert [(booking.number, booking.credited_minor) for booking in summary.booked] == [
        (healthy.number, 82_432)
    ]
    assert [(failure.number, failure.code) for failure in summary.failures] == [
        (orphan.number, ErrorCode.VALIDATION_ERROR)
    ]
    orphan.refresh_from_db()
    assert orphan.status == "active"


# --- The daily task, in this process (test_interest_worker.py runs it in a real worker) ------------


def test_the_daily_task_posts_the_month_that_ended_and_logs_what_it_could_not(
    in_alpha: Any, caplog: pytest.LogCaptureFixture
) -> None:
    period_end = last_month_end_before(in_alpha.cooperative().business_date())
    first = period_end.replace(day=1)
    good, broken = _product("DAY", rate="5"), _product("OFF", rate="5")
    booked = _open(good, make_member("HO-000161"), first)
    refused = _open(broken, make_member("HO-000162"), first)
    for account in (booked, refused):
        _deposit(account, 73_000_00, first)
    Account.objects.filter(code="2100-OFF").update(is_active=False)

    with caplog.at_level(logging.WARNING):
        result = savings_interest_daily()

    # 7 300 000 x 0.05 / 365 = 1 000 paisa a day, every day of the month that ended.
    assert result["interest"]["credited_minor"] == period_end.day * 1_000
    assert result["interest"]["failures"] == [
        {"account": refused.number, "code": "account_unknown", "message": "Unknown or inactive accounts."}
    ]
    assert result["maturities"]["booked"] == 0
    (record,) = [record for record in caplog.records if "savings_interest_not_booked" in str(record.msg)]
    assert refused.number in str(record.msg)


# --- The management command ----------------------------------------------------------------------


def _command(*arguments: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("post_savings_interest", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_posts_a_month_and_says_what_it_did(in_alpha: Any) -> None:
    product = _product("CMD")
    account = _open(product, make_member("HO-000141"), dt.date(2026, 10, 1))
    _deposit(account, 10_000_00, dt.date(2026, 10, 1))
    today = in_alpha.cooperative().business_date()

    out, err = _command("alpha", "--period-end", "2026-10-31")

    # 31 x 1 000 000 x 0.06 / 365 = 5 095.89 -> 5 096, shown as 50.96 taka
    taka = format_money(5_096, "BDT", "en")
    zero = format_money(0, "BDT", "en")
    assert out.splitlines() == [
        "Interest for periods ending 2026-10-31 (alpha):",
        f"  {account.number}: credited {taka} (posting, 2026-10-01 to 2026-10-31)",
        f"  1 booked, {taka} credited, {zero} accrued, 0 done before, 0 failed.",
        f"Deposits matured by {today.isoformat()} (alpha):",
        f"  0 booked, {zero} credited, {zero} accrued, 0 done before, 0 failed.",
    ]
    assert err == ""
    again, _err = _command("alpha", "--period-end", "2026-10-31")
    assert f"  0 booked, {zero} credited, {zero} accrued, 0 done before, 0 failed." in again.splitlines()
    account.refresh_from_db()
    assert account.balance_minor == 10_000_00 + 5_096


def test_the_command_defaults_to_the_last_month_end_before_the_business_date(in_alpha: Any) -> None:
    period_end = last_month_end_before(in_alpha.cooperative().business_date())
    out, _err = _command("alpha")
    assert out.splitlines()[0] == f"Interest for periods ending {period_end.isoformat()} (alpha):"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("nowhere",), "No cooperative 'nowhere'."),
        (("alpha", "--period-end", "2026-10-30"), "2026-10-30 is not the last day of a month"),
        (("alpha", "--period-end", "31/10/2026"), "'31/10/2026' is not a date (YYYY-MM-DD)."),
        (("alpha", "--period-end", "2999-12-31"), "The period ending 2999-12-31 is not over"),
    ],
)
def test_the_command_refuses_bad_input_with_exit_code_1(
    in_alpha: object, arguments: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=re.escape(message)) as raised:
        _command(*arguments)
    assert raised.value.returncode == 1


def test_the_command_fails_with_exit_code_1_after_booking_what_it_could(in_alpha: object) -> None:
    good, broken = _product("GD"), _product("BAD")
    booked = _open(good, make_member("HO-000151"), dt.date(2026, 10, 1))
    refused = _open(broken, make_member("HO-000152"), dt.date(2026, 10, 1))
    for account in (booked, refused):
        _deposit(account, 10_000_00, dt.date(2026, 10, 1))
    Account.objects.filter(code="2100-BAD").update(is_active=False)
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="Some accounts were not booked") as raised:
        call_command("post_savings_interest", "alpha", "--period-end", "2026-10-31", stdout=out, stderr=err)

    assert raised.value.returncode == 1
    assert f"  {booked.number}: credited {format_money(5_096, 'BDT', 'en')}" in out.getvalue()
    assert err.getvalue() == (
        f"  {refused.number}: not booked: account_unknown: Unknown or inactive accounts.\n"
    )
    assert InterestPosting.objects.get().account_id == booked.pk
