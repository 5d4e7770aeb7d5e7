"""Interest accrual for products that accrue: the close of business books interest as it is earned
(Dr 1400 / Cr 4100), repayments clear the receivable instead of crediting income again.

Tk 1,20,000 at 12 % a year, 30/360, monthly: instalment 1 earns Tk 1,200.00 over 5 Feb – 5 Mar
(28 days), instalment 2 earns 1 % of the Tk 1,10,538.15 left, Tk 1,105.38, over 5 Mar – 5 Apr
(31 days). Between due dates an instalment's interest is earned day by day: by 20 Feb, 15 of 28
days, 1,200.00 × 15/28 = 642.857… → Tk 642.86; by 20 Mar, 1,105.38 × 15/31 = 534.861… → Tk 534.86
(half to even, as the engine's own accrual).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core_banking.lending.close_of_business import close_of_business_run
from core_banking.lending.models import Loan, LoanProduct, LoanStatus
from core_banking.lending.services import loan_disburse, loan_payoff_quote, loan_repay, loan_write_off
from core_banking.members.models import Member
from tests.core_banking.lending.conftest import DISBURSED, journal_balanced, ledger_balance
from tests.core_banking.lending.test_workflow import EMI, _approved

pytestmark = pytest.mark.django_db


@pytest.fixture
def accruing(monthly_product: LoanProduct) -> LoanProduct:
    monthly_product.accrues_interest = True
    monthly_product.fee_kind = ""
    monthly_product.penalty_kind = "none"
    monthly_product.save()
    return monthly_product


def _loan(staff: dict[str, Any], borrower: Member, product: LoanProduct) -> Loan:
    return loan_disburse(
        actor=None,
        application_id=_approved(staff, borrower, product).pk,
        disbursed_on=DISBURSED,
        idempotency_key="d",
    )


def test_interest_is_booked_as_earned_and_cleared_when_paid(
    staff: dict[str, Any], ladder: None, accruing: LoanProduct, borrower: Member
) -> None:
    loan = _loan(staff, borrower, accruing)
    close_of_business_run(business_date=dt.date(2026, 2, 20))  # 15 of 28 days: Tk 642.86
    assert (ledger_balance("1400"), ledger_balance("4100")) == (642_86, -642_86)
    close_of_business_run(business_date=dt.date(2026, 3, 5))  # the whole first period: Tk 1,200.00
    assert (ledger_balance("1400"), ledger_balance("4100")) == (1_200_00, -1_200_00)
    loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=EMI, value_date=dt.date(2026, 3, 5), idempotency_key="r1"
    )
    # The interest paid clears the receivable; income is not credited twice.
    assert (ledger_balance("1400"), ledger_balance("4100")) == (0, -1_200_00)
    loan.refresh_from_db()
    assert (loan.interest_accrued_minor, loan.interest_receivable_minor) == (1_200_00, 0)
    close_of_business_run(business_date=dt.date(2026, 3, 20))  # 15/31 of Tk 1,105.38: Tk 534.86
    assert (ledger_balance("1400"), ledger_balance("4100")) == (534_86, -1_734_86)
    quote = loan_payoff_quote(loan_id=loan.pk, on_date=dt.date(2026, 3, 20))
    assert quote.interest_minor == 534_86
    loan_repay(
        actor=None,
        loan_id=loan.pk,
        amount_minor=quote.total_minor,
        value_date=dt.date(2026, 3, 20),
        idempotency_key="r2",
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED
    assert (ledger_balance("1400"), ledger_balance("4100"), ledger_balance("1300-GEN")) == (0, -1_734_86, 0)
    assert journal_balanced()
    # A close after the loan closed books nothing more for it.
    close_of_business_run(business_date=dt.date(2026, 3, 31))
    assert ledger_balance("4100") == -1_734_86


def test_interest_paid_before_it_is_booked_is_not_booked_again(
    staff: dict[str, Any], ladder: None, accruing: LoanProduct, borrower: Member
) -> None:
    loan = _loan(staff, borrower, accruing)
    # Instalment 1 paid on its date with no close run since disbursement: income straight away.
    loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=EMI, value_date=dt.date(2026, 3, 5), idempotency_key="r1"
    )
    assert (ledger_balance("1400"), ledger_balance("4100")) == (0, -1_200_00)
    close_of_business_run(business_date=dt.date(2026, 3, 5))
    assert (ledger_balance("1400"), ledger_balance("4100")) == (0, -1_200_00)


def test_a_cash_basis_product_accrues_nothing(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    _loan(staff, borrower, monthly_product)
    run = close_of_business_run(business_date=dt.date(2026, 2, 20))
    assert run.counts["interest_accrued_minor"] == 0
    assert ledger_balance("1400") == 0


def test_a_write_off_takes_unreceived_interest_back_out_of_income(
    staff: dict[str, Any], ladder: None, accruing: LoanProduct, borrower: Member
) -> None:
    loan = _loan(staff, borrower, accruing)
    close_of_business_run(business_date=dt.date(2026, 2, 20))
    assert ledger_balance("1400") == 642_86
    loan_write_off(
        actor=None, loan_id=loan.pk, on_date=dt.date(2026, 2, 21), reason="Absconded", idempotency_key="w"
    )
    assert (ledger_balance("1400"), ledger_balance("4100")) == (0, 0)
    assert ledger_balance("1300-GEN") == 0
    assert journal_balanced()


def test_a_reversed_repayment_puts_the_interest_back_in_the_receivable(
    staff: dict[str, Any], ladder: None, accruing: LoanProduct, borrower: Member
) -> None:
    from core_banking.lending.services import loan_repayment_reverse

    loan = _loan(staff, borrower, accruing)
    close_of_business_run(business_date=dt.date(2026, 3, 5))
    paid = loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=EMI, value_date=dt.date(2026, 3, 5), idempotency_key="r1"
    )
    assert paid.interest_from_receivable_minor == 1_200_00
    loan_repayment_reverse(
        actor=None,
        transaction_id=paid.pk,
        reason="Cheque bounced",
        idempotency_key="undo",
        value_date=dt.date(2026, 3, 6),
    )
    loan.refresh_from_db()
    assert loan.interest_receivable_minor == 1_200_00 == ledger_balance("1400")
    assert ledger_balance("4100") == -1_200_00
    assert journal_balanced()
