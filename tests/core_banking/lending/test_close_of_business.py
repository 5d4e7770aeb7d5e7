"""The close of business against PostgreSQL: penalties, ageing, provision, month-end snapshot, write-off.

Figures worked by hand. Each loan is Tk 1,00,000.00 at 12 % a year, 30/360, 12 monthly
instalments from 5 March 2026: 1 % a month, so the equal instalment is
100000 × 0.01 / (1 − 1.01⁻¹²) = Tk 8,884.88 (8,884.8788…), the first one Tk 1,000.00 interest and
Tk 7,884.88 principal. The default provision: not late 1 %, 1–30 days 5 %, 31–90 days 25 %,
91–180 days 50 %, 181 days or more 100 %.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import Account, JournalEntry
from core_banking.lending.close_of_business import close_of_business_run, rounded_sql
from core_banking.lending.models import (
    CloseOfBusinessRun,
    Loan,
    LoanInstallment,
    LoanMonthEndSnapshot,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    ProvisionRate,
)
from core_banking.lending.reports import portfolio_at_risk
from core_banking.lending.services import (
    ProvisionBucket,
    loan_application_decide,
    loan_application_submit,
    loan_disburse,
    loan_payoff_quote,
    loan_product_create,
    loan_recovery,
    loan_repay,
    loan_write_off,
    provision_rates_set,
)
from core_banking.lending.tasks import CATCH_UP_DAYS, days_to_close
from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from notifications.models import MessageKind, OutboxMessage
from tests.core_banking.lending.conftest import APPLIED, DISBURSED, journal_balanced, ledger_balance
from tests.core_banking.savings.conftest import make_member

pytestmark = pytest.mark.django_db

PRINCIPAL = 100_000_00
EMI = 8_884_88
FIRST_PRINCIPAL = EMI - 1_000_00  # 7,884.88
MARCH_5, APRIL_5 = dt.date(2026, 3, 5), dt.date(2026, 4, 5)


def _loan(staff: dict[str, Any], member: Member, product: LoanProduct, key: str) -> Loan:
    application = loan_application_submit(
        actor=staff["officer"],
        member_id=member.pk,
        product_id=product.pk,
        amount_minor=PRINCIPAL,
        installments=12,
        applied_on=APPLIED,
    ).application
    loan_application_decide(actor=staff["approver1"], application_id=application.pk, decision="approved")
    return loan_disburse(
        actor=staff["teller"], application_id=application.pk, disbursed_on=DISBURSED, idempotency_key=key
    )


def _first(loan: Loan) -> LoanInstallment:
    return LoanInstallment.objects.get(loan=loan, number=1)


def _aged(loan: Loan) -> tuple[int, int, dt.date | None]:
    loan.refresh_from_db()
    return loan.days_past_due, loan.overdue_minor, loan.arrears_as_of


def _provision_lines(day: dt.date, branch: str = "HO") -> list[tuple[str, int, int]]:
    entry = JournalEntry.objects.get(idempotency_key=f"cob:{day.isoformat()}:provision:{branch}")
    return [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")]


@pytest.fixture
def members(in_alpha: object) -> tuple[Member, Member]:
    return make_member("HO-000201", phone="+8801711000201"), make_member("HO-000202", phone="+8801711000202")


@pytest.fixture
def percent_product(in_alpha: object) -> LoanProduct:
    """As the general loan, but the penalty is 2.5 % of what the instalment still owes, from the day after."""
    return loan_product_create(
        actor=None,
        code="PCT",
        name="Percent penalty loan",
        product_type="ordinary",
        annual_rate=Decimal("12"),
        rate_effective_from=dt.date(2025, 1, 1),
        default_installments=12,
        maximum_installments=24,
        interest_method="declining",
        amortization="equal_installments",
        interest_period="same_as_repayment",
        days_in_year="360",
        days_in_month="30",
        frequency="monthly",
        penalty_kind="percent",
        penalty_percent=Decimal("2.5"),
        penalty_grace_days=0,
    )


def test_the_schedule_is_as_worked_by_hand(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, members: tuple[Member, Member]
) -> None:
    loan = _loan(staff, members[0], monthly_product, "d-a")
    rows = list(LoanInstallment.objects.filter(loan=loan).order_by("number")[:2])
    assert [(row.due_date, row.principal_minor, row.interest_minor) for row in rows] == [
        (MARCH_5, FIRST_PRINCIPAL, 1_000_00),
        (APRIL_5, EMI - 921_15, 921_15),  # 1 % of 92,115.12 = 921.1512
    ]


def test_a_flat_penalty_after_the_grace_days_once_and_the_loan_ages(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, members: tuple[Member, Member]
) -> None:
    loan = _loan(staff, members[0], monthly_product, "d-a")
    # On its due date the instalment is not late yet.
    close_of_business_run(business_date=MARCH_5)
    assert _aged(loan) == (0, 0, MARCH_5)
    # Three grace days: 8 March is the last day without a penalty (5 + 3 is not before 8).
    close_of_business_run(business_date=dt.date(2026, 3, 8))
    assert _first(loan).penalty_minor == 0
    assert _aged(loan) == (3, EMI, dt.date(2026, 3, 8))
    run = close_of_business_run(business_date=dt.date(2026, 3, 9))
    assert _first(loan).penalty_minor == 50_00
    assert _aged(loan) == (4, EMI + 50_00, dt.date(2026, 3, 9))
    assert (run.counts["penalties_charged"], run.counts["penalty_minor"]) == (1, 50_00)
    (charge,) = LoanTransaction.objects.filter(loan=loan, kind="penalty")
    assert (charge.value_date, charge.amount_minor, charge.penalty_minor, charge.entry_id) == (
        dt.date(2026, 3, 9),
        50_00,
        50_00,
        None,  # cash basis: income when paid, no entry when charged
    )
    # Charged once: the next close charges nothing more on the same instalment.
    later = close_of_business_run(business_date=dt.date(2026, 3, 20))
    assert later.counts["penalties_charged"] == 0
    assert _first(loan).penalty_minor == 50_00
    assert _aged(loan) == (15, EMI + 50_00, dt.date(2026, 3, 20))
    # A repayment pays the penalty first (penalty income when paid), and the loan is current again.
    payment = loan_repay(
        actor=staff["teller"],
        loan_id=loan.pk,
        amount_minor=EMI + 50_00,
        value_date=dt.date(2026, 3, 21),
        idempotency_key="r-1",
    )
    assert (payment.penalty_minor, payment.interest_minor, payment.principal_minor) == (
        50_00,
        1_000_00,
        FIRST_PRINCIPAL,
    )
    assert ledger_balance("4200") == -50_00
    close_of_business_run(business_date=dt.date(2026, 3, 21))
    assert _aged(loan) == (0, 0, dt.date(2026, 3, 21))
    assert journal_balanced()


def test_two_missed_instalments_age_from_the_oldest(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, members: tuple[Member, Member]
) -> None:
    loan = _loan(staff, members[0], monthly_product, "d-a")
    # Tk 500.00 paid on 1 April covers part of the first instalment's interest only.
    loan_repay(
        actor=staff["teller"], loan_id=loan.pk, amount_minor=500_00, value_date=dt.date(2026, 4, 1),
        idempotency_key="r-part",
    )  # fmt: skip
    close_of_business_run(business_date=dt.date(2026, 4, 10))
    # 36 days since 5 March; both instalments owed, each with its Tk 50.00 penalty (5 April + 3 < 10 April).
    assert _aged(loan) == (36, 2 * EMI - 500_00 + 2 * 50_00, dt.date(2026, 4, 10))


def test_a_percent_penalty_is_rounded_half_to_even(
    staff: dict[str, Any], ladder: None, percent_product: LoanProduct, members: tuple[Member, Member]
) -> None:
    first, second = (_loan(staff, member, percent_product, f"d-{n}") for n, member in enumerate(members))
    # Partial payments leave 8,000.20 and 8,000.60 owed on the first instalments.
    for loan, paid, key in ((first, EMI - 8_000_20, "r-a"), (second, EMI - 8_000_60, "r-b")):
        loan_repay(actor=None, loan_id=loan.pk, amount_minor=paid, value_date=MARCH_5, idempotency_key=key)
    # No grace days: late on 6 March.
    close_of_business_run(business_date=MARCH_5)
    assert _first(first).penalty_minor == 0
    close_of_business_run(business_date=dt.date(2026, 3, 6))
    # 2.5 % of 800,020 paisa = 20,000.5 → 20,000 (even); of 800,060 = 20,001.5 → 20,002 (even).
    assert (_first(first).penalty_minor, _first(second).penalty_minor) == (20_000, 20_002)
    # Instalments not yet due are never charged.
    assert (
        LoanInstallment.objects.filter(loan__in=[first, second], number__gt=1, penalty_minor__gt=0).count()
        == 0
    )


@pytest.mark.parametrize(
    ("mode", "python_rounding"),
    [
        ("half_even", ROUND_HALF_EVEN),
        ("half_up", ROUND_HALF_UP),
        ("down", ROUND_FLOOR),
        ("up", ROUND_CEILING),
    ],
)
def test_the_sql_rounding_agrees_with_decimal(mode: str, python_rounding: str, in_alpha: object) -> None:
    values = [
        Decimal(text) for text in ("0", "0.5", "1.5", "2.5", "2.4999", "2.5001", "7.0", "12345678901.5")
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rounded_sql('x', '%s')} FROM unnest(%s::numeric[]) WITH ORDINALITY v(x, n) ORDER BY n",
            [mode, values],
        )
        got = [row[0] for row in cursor.fetchall()]
    assert got == [int(value.to_integral_value(rounding=python_rounding)) for value in values]


def test_provision_by_bucket_raised_then_released_with_a_month_end_snapshot(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, members: tuple[Member, Member]
) -> None:
    good = _loan(staff, members[0], monthly_product, "d-good")
    late = _loan(staff, members[1], monthly_product, "d-late")
    loan_repay(actor=None, loan_id=good.pk, amount_minor=EMI, value_date=MARCH_5, idempotency_key="r-good")
    outstanding_good = PRINCIPAL - FIRST_PRINCIPAL  # 92,115.12

    # 5 March: nothing late. 1 % of 92,115.12 = 921.1512 → 921.15; 1 % of 1,00,000.00 = 1,000.00.
    run = close_of_business_run(business_date=MARCH_5)
    assert _provision_lines(MARCH_5) == [("5200", 1_921_15, 0), ("1390", 0, 1_921_15)]
    assert run.counts["provision_by_branch"]["HO"]["required_minor"] == 1_921_15
    # 6 March: the late loan is 1 day past due: 5 % of 1,00,000.00 = 5,000.00; up by 4,000.00.
    close_of_business_run(business_date=dt.date(2026, 3, 6))
    assert _provision_lines(dt.date(2026, 3, 6)) == [("5200", 4_000_00, 0), ("1390", 0, 4_000_00)]
    assert ledger_balance("1390") == -5_921_15

    # 31 March, a month end: 26 days past due (still 5 %): no provision entry, a snapshot of both loans.
    month_end = close_of_business_run(business_date=dt.date(2026, 3, 31))
    assert month_end.counts["provision_entries"] == 0 and month_end.counts["month_end_snapshots"] == 2
    assert not JournalEntry.objects.filter(idempotency_key="cob:2026-03-31:provision:HO").exists()
    snapshot = {
        row.loan_id: row for row in LoanMonthEndSnapshot.objects.filter(month_end=dt.date(2026, 3, 31))
    }
    expected = {
        good.pk: (outstanding_good, 0, 0, 0, Decimal("1"), 921_15),
        late.pk: (PRINCIPAL, EMI + 50_00, 26, 1, Decimal("5"), 5_000_00),
    }

    def as_taken(row: LoanMonthEndSnapshot) -> tuple[Any, ...]:
        return (
            row.principal_outstanding_minor,
            row.overdue_minor,
            row.days_past_due,
            row.bucket_days,
            row.provision_rate,
            row.provision_required_minor,
        )

    assert {loan_id: as_taken(row) for loan_id, row in snapshot.items()} == expected
    # PAR at the month end reads the snapshot: 1,00,000.00 of 1,92,115.12 is one day or more late.
    par = portfolio_at_risk(as_of=dt.date(2026, 3, 31), branch_ids=None)
    assert (par.source, par.loans, par.outstanding_minor) == ("snapshot", 2, PRINCIPAL + outstanding_good)
    assert (par.par(1).loans, par.par(1).at_risk_minor, par.par(1).ratio) == (1, PRINCIPAL, Decimal("0.5205"))
    assert (par.par(30).at_risk_minor, par.par(90).at_risk_minor) == (0, 0)

    # 5 April: 31 days past due: 25 % = 25,000.00; up by 20,000.00.
    close_of_business_run(business_date=APRIL_5)
    assert _provision_lines(APRIL_5) == [("5200", 20_000_00, 0), ("1390", 0, 20_000_00)]
    assert ledger_balance("1390") == -(921_15 + 25_000_00)

    # The late loan is settled on 6 April; the good one misses its 5 April instalment (1 day: 5 %).
    quote = loan_payoff_quote(loan_id=late.pk, on_date=dt.date(2026, 4, 6))
    loan_repay(
        actor=None, loan_id=late.pk, amount_minor=quote.total_minor, value_date=dt.date(2026, 4, 6),
        idempotency_key="r-settle",
    )  # fmt: skip
    close_of_business_run(business_date=dt.date(2026, 4, 6))
    # Required: 5 % of 92,115.12 = 4,605.756 → 4,605.76; held 25,921.15: 21,315.39 released.
    assert _provision_lines(dt.date(2026, 4, 6)) == [("1390", 21_315_39, 0), ("5200", 0, 21_315_39)]
    assert ledger_balance("1390") == -4_605_76
    assert ledger_balance("5200") == 4_605_76
    late.refresh_from_db()
    assert (late.status, late.days_past_due, late.overdue_minor) == (LoanStatus.CLOSED, 0, 0)
    assert _aged(good) == (1, EMI, dt.date(2026, 4, 6))
    par = portfolio_at_risk(as_of=dt.date(2026, 4, 6), branch_ids=None)
    assert (par.source, par.outstanding_minor, par.par(1).at_risk_minor, par.par(1).ratio) == (
        "book",
        outstanding_good,
        outstanding_good,
        Decimal("1"),
    )

    # The month end stays as it was, and PostgreSQL refuses to change it.
    assert {
        row.loan_id: as_taken(row)
        for row in LoanMonthEndSnapshot.objects.filter(month_end=dt.date(2026, 3, 31))
    } == expected
    with pytest.raises(DatabaseError, match="written once"), transaction.atomic():
        LoanMonthEndSnapshot.objects.filter(loan=late).update(principal_outstanding_minor=0)
    assert journal_balanced()


def test_par_of_a_branch_set(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, members: tuple[Member, Member]
) -> None:
    _loan(staff, members[0], monthly_product, "d-a")
    head_office, branch_one = Branch.objects.get(code="HO"), Branch.objects.get(code="BR1")
    # 10 May: 66 days past due (from 5 March): in PAR1 and PAR30, not PAR90.
    here = portfolio_at_risk(as_of=dt.date(2026, 5, 10), branch_ids=[head_office.pk])
    assert (here.source, here.loans, here.outstanding_minor) == ("book", 1, PRINCIPAL)
    assert [(line.days, line.loans, line.at_risk_minor) for line in here.at_risk] == [
        (1, 1, PRINCIPAL),
        (30, 1, PRINCIPAL),
        (90, 0, 0),
    ]
    there = portfolio_at_risk(as_of=dt.date(2026, 5, 10), branch_ids=[branch_one.pk])
    assert (there.loans, there.outstanding_minor, there.par(1).ratio) == (0, 0, Decimal(0))
    # Before the disbursement the loan is not in the book.
    assert portfolio_at_risk(as_of=dt.date(2026, 2, 1), branch_ids=None).loans == 0


def test_a_date_closes_once(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, members: tuple[Member, Member]
) -> None:
    loan = _loan(staff, members[0], monthly_product, "d-a")
    first = close_of_business_run(business_date=dt.date(2026, 3, 31))
    entries = JournalEntry.objects.count()
    charged = LoanTransaction.objects.filter(kind="penalty").count()
    # A repayment after the close does not make a second run for the same date do anything.
    loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=EMI, value_date=dt.date(2026, 3, 31), idempotency_key="r"
    )
    again = close_of_business_run(business_date=dt.date(2026, 3, 31))
    assert again.pk == first.pk and again.counts == first.counts
    assert CloseOfBusinessRun.objects.count() == 1
    assert JournalEntry.objects.count() == entries + 1  # the repayment's only
    assert LoanTransaction.objects.filter(kind="penalty").count() == charged == 1
    assert LoanMonthEndSnapshot.objects.get(loan=loan).overdue_minor == EMI + 50_00
    assert _aged(loan)[2] == dt.date(2026, 3, 31)
    # An earlier day after a later one, or a day not begun yet, is refused.
    with pytest.raises(BusinessRuleViolation) as earlier:
        close_of_business_run(business_date=dt.date(2026, 3, 30))
    assert earlier.value.code == ErrorCode.VALIDATION_ERROR and "business_date" in earlier.value.fields
    with pytest.raises(BusinessRuleViolation) as future:
        close_of_business_run(business_date=dt.date.today() + dt.timedelta(days=2))
    assert "business_date" in future.value.fields


def test_write_off_uses_the_provision_and_recovery_is_income(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, members: tuple[Member, Member]
) -> None:
    good = _loan(staff, members[0], monthly_product, "d-good")
    late = _loan(staff, members[1], monthly_product, "d-late")
    loan_repay(actor=None, loan_id=good.pk, amount_minor=EMI, value_date=MARCH_5, idempotency_key="r-good")
    close_of_business_run(business_date=dt.date(2026, 3, 9))
    # Held for the head office: 921.15 + 5 % of 1,00,000.00 = 5,921.15; the late loan owes a Tk 50 penalty.
    assert ledger_balance("1390") == -5_921_15
    quote = loan_payoff_quote(loan_id=late.pk, on_date=dt.date(2026, 3, 10))
    assert (quote.principal_minor, quote.penalty_minor) == (PRINCIPAL, 50_00)

    written = loan_write_off(
        actor=staff["teller"],
        loan_id=late.pk,
        on_date=dt.date(2026, 3, 10),
        reason="Borrower left the district",
        idempotency_key="wo-1",
    )
    assert written.entry is not None
    lines = [
        (line.account.code, line.debit_minor, line.credit_minor)
        for line in written.entry.lines.order_by("id")
    ]
    # The provision covers 5,921.15; the other 94,078.85 is this year's expense.
    assert lines == [("1390", 5_921_15, 0), ("5200", 94_078_85, 0), ("1300-GEN", 0, PRINCIPAL)]
    assert (written.kind, written.amount_minor, written.principal_minor, written.penalty_minor) == (
        "write_off",
        quote.total_minor,
        PRINCIPAL,
        50_00,
    )
    late.refresh_from_db()
    assert (late.status, late.principal_outstanding_minor, late.closed_on) == (
        LoanStatus.WRITTEN_OFF,
        0,
        dt.date(2026, 3, 10),
    )
    good.refresh_from_db()
    assert ledger_balance("1300-GEN") == good.principal_outstanding_minor == PRINCIPAL - FIRST_PRINCIPAL
    assert ledger_balance("1390") == 0
    # The same key again: the same write-off; the loan cannot be written off twice.
    again = loan_write_off(
        actor=staff["teller"],
        loan_id=late.pk,
        on_date=dt.date(2026, 3, 10),
        reason="again",
        idempotency_key="wo-1",
    )
    assert again.pk == written.pk
    with pytest.raises(BusinessRuleViolation) as twice:
        loan_write_off(
            actor=staff["teller"],
            loan_id=late.pk,
            on_date=dt.date(2026, 3, 11),
            reason="x",
            idempotency_key="wo-2",
        )
    assert twice.value.code == ErrorCode.LOAN_NOT_ACTIVE

    # The next close provisions the remaining book only: 921.15 again.
    close_of_business_run(business_date=dt.date(2026, 3, 10))
    assert _provision_lines(dt.date(2026, 3, 10)) == [("5200", 921_15, 0), ("1390", 0, 921_15)]

    # Tk 10,000.00 recovered in cash: Dr cash / Cr 4400, and the member's SMS.
    recovery = loan_recovery(
        actor=staff["teller"],
        loan_id=late.pk,
        amount_minor=10_000_00,
        value_date=dt.date(2026, 3, 20),
        idempotency_key="rec-1",
    )
    assert recovery.entry is not None
    assert [
        (line.account.code, line.debit_minor, line.credit_minor)
        for line in recovery.entry.lines.order_by("id")
    ] == [("1100-HO", 10_000_00, 0), ("4400", 0, 10_000_00)]
    assert Account.objects.get(code="4400").kind == "income"
    message = OutboxMessage.objects.get(kind=MessageKind.INSTALMENT_RECEIVED, source_ref="rec-1")
    assert message.context["outstanding_minor"] == quote.total_minor - 10_000_00
    assert (
        loan_recovery(
            actor=None, loan_id=late.pk, amount_minor=10_000_00, value_date=dt.date(2026, 3, 20),
            idempotency_key="rec-1",
        ).pk
        == recovery.pk
    )  # fmt: skip
    with pytest.raises(BusinessRuleViolation) as too_much:
        loan_recovery(
            actor=None, loan_id=late.pk, amount_minor=quote.total_minor - 10_000_00 + 1,
            value_date=dt.date(2026, 3, 21), idempotency_key="rec-2",
        )  # fmt: skip
    assert too_much.value.code == ErrorCode.REPAYMENT_ABOVE_PAYOFF
    # An active loan takes repayments, not recoveries.
    with pytest.raises(BusinessRuleViolation) as active:
        loan_recovery(
            actor=None,
            loan_id=good.pk,
            amount_minor=100,
            value_date=dt.date(2026, 3, 21),
            idempotency_key="rec-3",
        )
    assert active.value.code == ErrorCode.VALIDATION_ERROR
    assert ledger_balance("4400") == -10_000_00
    assert journal_balanced()


def test_a_write_off_covered_by_the_provision_touches_no_expense(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, members: tuple[Member, Member]
) -> None:
    provision_rates_set(
        actor=None, rates=[ProvisionBucket(0, Decimal("0")), ProvisionBucket(1, Decimal("100"), label="Late")]
    )
    late = _loan(staff, members[0], monthly_product, "d-late")
    close_of_business_run(business_date=dt.date(2026, 3, 6))
    assert ledger_balance("1390") == -PRINCIPAL
    written = loan_write_off(
        actor=None, loan_id=late.pk, on_date=dt.date(2026, 3, 6), reason="Deceased", idempotency_key="wo"
    )
    assert written.entry is not None
    assert [(line.account.code, line.debit_minor) for line in written.entry.lines.order_by("id")] == [
        ("1390", PRINCIPAL),
        ("1300-GEN", 0),
    ]
    assert ledger_balance("5200") == PRINCIPAL  # only what the close of business provided


def test_provision_rates_are_checked_and_named(in_alpha: object) -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        provision_rates_set(
            actor=None, rates=[ProvisionBucket(1, Decimal("5")), ProvisionBucket(1, Decimal("101"))]
        )
    assert set(refused.value.fields) == {"rates", "rates[1].rate_percent"}
    provision_rates_set(
        actor=None,
        rates=[
            ProvisionBucket(90, Decimal("50")),
            ProvisionBucket(0, Decimal("0.5")),
            ProvisionBucket(1, Decimal("10")),
        ],
    )
    assert [(row.min_days_past_due, row.rate_percent) for row in ProvisionRate.objects.all()] == [
        (0, Decimal("0.5")),
        (1, Decimal("10")),
        (90, Decimal("50")),
    ]
    assert ProvisionRate.objects.get(min_days_past_due=1).label  # named from its bounds


def test_the_task_closes_yesterday_and_catches_up_missed_days() -> None:
    today = dt.date(2026, 4, 2)
    assert days_to_close(today=today, last_closed=None) == [dt.date(2026, 4, 1)]
    assert days_to_close(today=today, last_closed=dt.date(2026, 4, 1)) == []
    assert days_to_close(today=today, last_closed=dt.date(2026, 3, 29)) == [
        dt.date(2026, 3, 30),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 1),
    ]
    long_gap = days_to_close(today=today, last_closed=dt.date(2025, 1, 1))
    assert len(long_gap) == CATCH_UP_DAYS and long_gap[-1] == dt.date(2026, 4, 1)
