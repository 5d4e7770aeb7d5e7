"""Apply → eligibility → two-level approval → disburse → repay → prepay → close, against PostgreSQL.

Figures worked by hand: Tk 1,20,000 at 12 % a year, 30/360, monthly: 1 % a month, so the first
instalment's interest is Tk 1,200.00 and the equal instalment 120000 × 0.01 / (1 − 1.01⁻¹²)
= Tk 10,661.85 (to the paisa).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.lending.models import (
    ApplicationStatus,
    LoanInstallment,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
)
from core_banking.lending.services import (
    GuarantorInput,
    loan_application_decide,
    loan_application_resubmit,
    loan_application_submit,
    loan_disburse,
    loan_limit_rule_add,
    loan_payoff_quote,
    loan_repay,
    loan_repayment_reverse,
)
from core_banking.members.models import Member
from core_banking.shares.exit_rules import exit_blockers
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from notifications.models import MessageKind, OutboxMessage
from tests.conftest import PASSWORD
from tests.core_banking.lending.conftest import APPLIED, DISBURSED, journal_balanced, ledger_balance
from tests.core_banking.savings.conftest import make_member

pytestmark = pytest.mark.django_db

PRINCIPAL = 120_000_00
EMI = 10_661_85


def _apply(staff: dict[str, Any], borrower: Member, product: LoanProduct, **extra: Any) -> Any:
    return loan_application_submit(
        actor=staff["officer"],
        member_id=borrower.pk,
        product_id=product.pk,
        amount_minor=extra.pop("amount_minor", PRINCIPAL),
        installments=12,
        applied_on=APPLIED,
        purpose="Rickshaw van",
        **extra,
    )


def _approved(staff: dict[str, Any], borrower: Member, product: LoanProduct) -> Any:
    application = _apply(staff, borrower, product).application
    loan_application_decide(actor=staff["approver1"], application_id=application.pk, decision="approved")
    loan_application_decide(actor=staff["approver2"], application_id=application.pk, decision="approved")
    return application


def test_the_whole_life_of_a_loan(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    applied = _apply(staff, borrower, monthly_product)
    application = applied.application
    assert applied.eligibility.eligible
    assert application.number == "HO-A-000001"
    assert application.required_levels == [1, 2]  # above Tk 1,00,000: two levels
    assert application.annual_rate == Decimal("12")

    # Level 1, then level 2; the officer who made it cannot decide.
    with pytest.raises(BusinessRuleViolation) as refused:
        loan_application_decide(actor=staff["officer"], application_id=application.pk, decision="approved")
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    loan_application_decide(actor=staff["approver1"], application_id=application.pk, decision="approved")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    loan_application_decide(actor=staff["approver2"], application_id=application.pk, decision="approved")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert list(application.decisions.values_list("level", "decided_by_id")) == [
        (1, staff["approver1"].pk),
        (2, staff["approver2"].pk),
    ]

    # Disbursement in cash: the 2 % fee (Tk 2,400.00) is deducted; Tk 1,17,600.00 leaves the cash.
    loan = loan_disburse(
        actor=staff["teller"], application_id=application.pk, disbursed_on=DISBURSED, idempotency_key="disb-1"
    )
    assert loan.number == "HO-L-000001"
    rows = list(LoanInstallment.objects.filter(loan=loan).order_by("number"))
    assert len(rows) == 12
    assert sum(row.principal_minor for row in rows) == PRINCIPAL
    assert (rows[0].due_date, rows[0].interest_minor, rows[0].principal_minor) == (
        dt.date(2026, 3, 5),
        1_200_00,
        EMI - 1_200_00,
    )
    assert all(row.principal_minor + row.interest_minor == EMI for row in rows[:-1])
    assert ledger_balance("1300-GEN") == PRINCIPAL
    assert ledger_balance("4300") == -2_400_00
    assert ledger_balance("1100-HO") == -117_600_00
    assert OutboxMessage.objects.get(kind=MessageKind.LOAN_DISBURSED, source_ref="disb-1").context[
        "net_minor"
    ] == (117_600_00)
    # The same key again: the same loan, nothing posted twice.
    again = loan_disburse(
        actor=staff["teller"], application_id=application.pk, disbursed_on=DISBURSED, idempotency_key="disb-1"
    )
    assert again.pk == loan.pk and ledger_balance("1300-GEN") == PRINCIPAL

    # A member who owes cannot exit; neither can the loan be left by paying too much.
    assert "loans_outstanding" in exit_blockers(borrower)

    # The first instalment, paid late: interest first, then principal.
    payment = loan_repay(
        actor=staff["teller"],
        loan_id=loan.pk,
        amount_minor=EMI,
        value_date=dt.date(2026, 3, 10),
        idempotency_key="r1",
    )
    assert (payment.interest_minor, payment.principal_minor, payment.penalty_minor) == (
        1_200_00,
        EMI - 1_200_00,
        0,
    )
    loan.refresh_from_db()
    assert loan.principal_outstanding_minor == PRINCIPAL - (EMI - 1_200_00)
    assert ledger_balance("1300-GEN") == loan.principal_outstanding_minor
    assert ledger_balance("4100") == -1_200_00
    assert OutboxMessage.objects.filter(kind=MessageKind.INSTALMENT_RECEIVED, source_ref="r1").count() == 1

    # A partial payment (Tk 500.00) covers part of the next instalment's interest only.
    partial = loan_repay(
        actor=staff["teller"],
        loan_id=loan.pk,
        amount_minor=500_00,
        value_date=dt.date(2026, 4, 6),
        idempotency_key="r2",
    )
    assert (partial.interest_minor, partial.principal_minor) == (500_00, 0)

    # Settle on 20 April: the quote is principal + interest earned to date − interest paid.
    quote = loan_payoff_quote(loan_id=loan.pk, on_date=dt.date(2026, 4, 20))
    assert quote.principal_minor == loan.principal_outstanding_minor
    assert quote.interest_minor == quote.interest_accrued_minor - (1_200_00 + 500_00)
    assert quote.fee_minor == 0 and quote.penalty_minor == 0
    with pytest.raises(BusinessRuleViolation) as too_much:
        loan_repay(
            actor=staff["teller"],
            loan_id=loan.pk,
            amount_minor=quote.total_minor + 1,
            value_date=dt.date(2026, 4, 20),
            idempotency_key="r3-too-much",
        )
    assert too_much.value.code == ErrorCode.REPAYMENT_ABOVE_PAYOFF
    settlement = loan_repay(
        actor=staff["teller"],
        loan_id=loan.pk,
        amount_minor=quote.total_minor,
        value_date=dt.date(2026, 4, 20),
        idempotency_key="r3",
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED and loan.closed_on == dt.date(2026, 4, 20)
    assert loan.principal_outstanding_minor == 0
    assert ledger_balance("1300-GEN") == 0
    interest_paid = sum(LoanTransaction.objects.filter(loan=loan).values_list("interest_minor", flat=True))
    assert interest_paid == quote.interest_accrued_minor
    assert ledger_balance("4100") == -interest_paid
    assert ledger_balance("1100-HO") == -117_600_00 + EMI + 500_00 + settlement.amount_minor
    assert journal_balanced()
    # Interest not yet earned is waived, never owed.
    waived = sum(LoanInstallment.objects.filter(loan=loan).values_list("interest_waived_minor", flat=True))
    scheduled = sum(LoanInstallment.objects.filter(loan=loan).values_list("interest_minor", flat=True))
    assert waived == scheduled - interest_paid
    assert "loans_outstanding" not in exit_blockers(borrower)
    with pytest.raises(BusinessRuleViolation) as closed:
        loan_repay(
            actor=staff["teller"],
            loan_id=loan.pk,
            amount_minor=100,
            value_date=dt.date(2026, 4, 21),
            idempotency_key="r4",
        )
    assert closed.value.code == ErrorCode.LOAN_NOT_ACTIVE


def test_nobody_approves_their_own_application(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    from core_banking.organisation.models import Branch

    both = staff_user_create(
        actor=None,
        username="officer-and-approver",
        password=PASSWORD,
        roles=[Role.LOAN_OFFICER.value, Role.APPROVER.value],
        approver_level=3,
        home_branch=Branch.objects.get(is_head_office=True),
    )
    application = loan_application_submit(
        actor=both, member_id=borrower.pk, product_id=monthly_product.pk, amount_minor=50_000_00,
        installments=12, applied_on=APPLIED,
    ).application  # fmt: skip
    with pytest.raises(BusinessRuleViolation) as refused:
        loan_application_decide(actor=both, application_id=application.pk, decision="approved")
    assert refused.value.code == ErrorCode.OWN_APPLICATION


def test_a_level_one_approver_cannot_decide_level_two(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    application = _apply(staff, borrower, monthly_product).application
    loan_application_decide(actor=staff["approver1"], application_id=application.pk, decision="approved")
    with pytest.raises(BusinessRuleViolation) as refused:
        loan_application_decide(actor=staff["approver1"], application_id=application.pk, decision="approved")
    assert refused.value.code == ErrorCode.APPROVER_LEVEL_TOO_LOW


def test_returned_application_restarts_approval_after_the_fix(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    application = _apply(staff, borrower, monthly_product).application
    loan_application_decide(actor=staff["approver1"], application_id=application.pk, decision="approved")
    loan_application_decide(
        actor=staff["approver2"],
        application_id=application.pk,
        decision="returned",
        reason="Salary slip missing",
    )
    application.refresh_from_db()
    assert (application.status, application.return_reasons) == (
        ApplicationStatus.RETURNED,
        "Salary slip missing",
    )
    with pytest.raises(BusinessRuleViolation) as not_waiting:
        loan_application_decide(actor=staff["approver1"], application_id=application.pk, decision="approved")
    assert not_waiting.value.code == ErrorCode.APPLICATION_NOT_PENDING
    loan_application_resubmit(actor=staff["officer"], application_id=application.pk, amount_minor=90_000_00)
    application.refresh_from_db()
    assert (application.status, application.required_levels) == (ApplicationStatus.SUBMITTED, [1])
    loan_application_decide(actor=staff["approver1"], application_id=application.pk, decision="approved")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_eligibility_lists_every_reason_with_its_arithmetic(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member, guarantor: Member
) -> None:
    monthly_product.minimum_guarantors = 2
    monthly_product.guarantor_minimum_salary_minor = 20_000_00
    monthly_product.save()
    loan_limit_rule_add(actor=None, product=monthly_product, basis="salary", factor=Decimal("5"))
    borrower.status = "suspended_from_borrowing"
    borrower.save(update_fields=["status"])
    with pytest.raises(BusinessRuleViolation) as refused:
        _apply(
            staff,
            borrower,
            monthly_product,
            monthly_salary_minor=20_000_00,
            guarantors=[GuarantorInput(guarantor.pk, monthly_salary_minor=15_000_00)],
        )
    error = refused.value
    assert error.code == ErrorCode.LOAN_NOT_ELIGIBLE
    assert set(error.fields) == {"member_status", "limit", "guarantors"}
    checks = {check["key"]: check for check in error.extra["eligibility"]["checks"]}
    # 5 × Tk 20,000.00 = Tk 1,00,000.00 < Tk 1,20,000.00 applied for; the product cap is Tk 5,00,000.00.
    assert checks["limit"]["passed"] is False
    assert any("× 5 = " in line for line in checks["limit"]["working"])
    guarantor_check = error.extra["eligibility"]["guarantors"][0]
    assert guarantor_check["eligible"] is False
    assert {c["key"] for c in guarantor_check["checks"] if not c["passed"]} == {"guarantor_salary"}
    assert not monthly_product.applications.exists()  # nothing stored


def test_refinance_pays_off_the_old_loan_and_pays_out_the_net(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    first = loan_disburse(
        actor=staff["teller"],
        application_id=_approved(staff, borrower, monthly_product).pk,
        disbursed_on=DISBURSED,
        idempotency_key="old",
    )
    payoff = loan_payoff_quote(loan_id=first.pk, on_date=dt.date(2026, 3, 1))
    top_up = _apply(
        staff, borrower, monthly_product, amount_minor=200_000_00, refinances_id=first.pk
    ).application
    loan_application_decide(actor=staff["approver1"], application_id=top_up.pk, decision="approved")
    loan_application_decide(actor=staff["approver2"], application_id=top_up.pk, decision="approved")
    cash_before = ledger_balance("1100-HO")
    second = loan_disburse(
        actor=staff["teller"],
        application_id=top_up.pk,
        disbursed_on=dt.date(2026, 3, 1),
        idempotency_key="new",
    )
    first.refresh_from_db()
    assert first.status == LoanStatus.CLOSED and first.principal_outstanding_minor == 0
    fee = 4_000_00  # 2 % of Tk 2,00,000
    assert ledger_balance("1100-HO") - cash_before == -(200_000_00 - fee - payoff.total_minor)
    assert ledger_balance("1300-GEN") == second.principal_minor
    assert journal_balanced()


def test_reversing_a_repayment_reapplies_the_later_ones(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    loan = loan_disburse(
        actor=staff["teller"],
        application_id=_approved(staff, borrower, monthly_product).pk,
        disbursed_on=DISBURSED,
        idempotency_key="disb",
    )
    first = loan_repay(
        actor=staff["teller"],
        loan_id=loan.pk,
        amount_minor=EMI,
        value_date=dt.date(2026, 3, 5),
        idempotency_key="a",
    )
    second = loan_repay(
        actor=staff["teller"],
        loan_id=loan.pk,
        amount_minor=EMI,
        value_date=dt.date(2026, 4, 6),
        idempotency_key="b",
    )
    # The first payment bounces: the second now pays instalment 1 (Tk 1,200.00 interest first).
    reversal = loan_repayment_reverse(
        actor=staff["teller"],
        transaction_id=first.pk,
        reason="Cheque bounced",
        idempotency_key="undo-a",
        value_date=dt.date(2026, 4, 7),
    )
    assert reversal.reverses_id == first.pk
    again = LoanTransaction.objects.get(idempotency_key="b:again:undo-a")
    assert (again.interest_minor, again.principal_minor) == (1_200_00, EMI - 1_200_00)
    assert LoanTransaction.objects.filter(reverses=second).exists()
    loan.refresh_from_db()
    assert loan.principal_outstanding_minor == PRINCIPAL - (EMI - 1_200_00)
    assert ledger_balance("1300-GEN") == loan.principal_outstanding_minor
    assert ledger_balance("4100") == -1_200_00
    rows = list(LoanInstallment.objects.filter(loan=loan).order_by("number"))
    assert rows[0].paid_minor == EMI and rows[1].paid_minor == 0
    assert journal_balanced()
    # The same key again: the same reversal, nothing posted twice.
    assert (
        loan_repayment_reverse(
            actor=staff["teller"],
            transaction_id=first.pk,
            reason="Cheque bounced",
            idempotency_key="undo-a",
            value_date=dt.date(2026, 4, 7),
        ).pk
        == reversal.pk
    )
    with pytest.raises(BusinessRuleViolation) as twice:
        loan_repayment_reverse(
            actor=staff["teller"],
            transaction_id=first.pk,
            reason="again",
            idempotency_key="undo-a-2",
            value_date=dt.date(2026, 4, 7),
        )
    assert twice.value.code == ErrorCode.LOAN_TRANSACTION_NOT_REVERSIBLE


def test_prepayment_reducing_the_term_recomputes_the_rest(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    monthly_product.prepayment_strategy = "reduce_term"
    monthly_product.save()
    loan = loan_disburse(
        actor=staff["teller"],
        application_id=_approved(staff, borrower, monthly_product).pk,
        disbursed_on=DISBURSED,
        idempotency_key="disb",
    )
    # Instalment 1 plus Tk 30,000.00 extra principal, paid on its due date.
    payment = loan_repay(
        actor=staff["teller"],
        loan_id=loan.pk,
        amount_minor=EMI + 30_000_00,
        value_date=dt.date(2026, 3, 5),
        idempotency_key="pre",
    )
    assert (payment.interest_minor, payment.principal_minor) == (1_200_00, EMI - 1_200_00 + 30_000_00)
    rows = list(LoanInstallment.objects.filter(loan=loan).order_by("number"))
    assert len(rows) < 12  # fewer instalments of the same size
    assert sum(row.principal_minor for row in rows) == PRINCIPAL
    loan.refresh_from_db()
    assert loan.principal_outstanding_minor == sum(r.principal_minor - r.principal_paid_minor for r in rows)
    assert ledger_balance("1300-GEN") == loan.principal_outstanding_minor


def test_repaying_from_savings_posts_one_entry_and_moves_the_balance(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    from core_banking.savings.services import savings_account_open, savings_deposit, savings_product_create

    product = savings_product_create(
        actor=None,
        code="VOL",
        name="Voluntary savings",
        kind="voluntary",
        annual_rate=Decimal("6"),
        rate_effective_from=dt.date(2025, 1, 1),
    )
    account = savings_account_open(
        actor=None, member=borrower, product=product, opened_on=dt.date(2026, 1, 5)
    )
    savings_deposit(
        account_id=account.pk, amount_minor=20_000_00, value_date=dt.date(2026, 1, 5), idempotency_key="s"
    )
    loan = loan_disburse(
        actor=staff["teller"],
        application_id=_approved(staff, borrower, monthly_product).pk,
        disbursed_on=DISBURSED,
        idempotency_key="disb",
    )
    payment = loan_repay(
        actor=staff["teller"],
        loan_id=loan.pk,
        amount_minor=EMI,
        value_date=dt.date(2026, 3, 5),
        idempotency_key="from-savings",
        source="savings",
        savings_account_id=account.pk,
    )
    account.refresh_from_db()
    assert account.balance_minor == 20_000_00 - EMI
    assert payment.savings_transaction is not None and payment.savings_transaction.amount_minor == -EMI
    lines = sorted(
        (line.account.code, line.debit_minor, line.credit_minor)
        for line in payment.entry.lines.select_related("account")
    )
    assert lines == sorted([("2100-VOL", EMI, 0), ("1300-GEN", 0, EMI - 1_200_00), ("4100", 0, 1_200_00)])
    assert journal_balanced()
    # Someone else's savings cannot pay this loan.
    other = make_member("HO-000199", phone="+8801711000199")
    theirs = savings_account_open(actor=None, member=other, product=product, opened_on=dt.date(2026, 1, 5))
    with pytest.raises(BusinessRuleViolation) as refused:
        loan_repay(
            actor=staff["teller"],
            loan_id=loan.pk,
            amount_minor=100,
            value_date=dt.date(2026, 3, 6),
            idempotency_key="not-theirs",
            source="savings",
            savings_account_id=theirs.pk,
        )
    assert refused.value.code == ErrorCode.VALIDATION_ERROR


def test_a_closed_branch_day_refuses_counter_repayments_but_not_field_collections(
    staff: dict[str, Any], ladder: None, monthly_product: LoanProduct, borrower: Member
) -> None:
    from core_banking.accounting.services import branch_day_close

    loan = loan_disburse(
        actor=staff["teller"],
        application_id=_approved(staff, borrower, monthly_product).pk,
        disbursed_on=DISBURSED,
        idempotency_key="disb",
    )
    branch_day_close(actor=None, branch=loan.branch, day=dt.date(2026, 3, 5))
    with pytest.raises(BusinessRuleViolation) as closed:
        loan_repay(
            actor=staff["teller"],
            loan_id=loan.pk,
            amount_minor=EMI,
            value_date=dt.date(2026, 3, 5),
            idempotency_key="c",
        )
    assert closed.value.code == ErrorCode.DAY_CLOSED
    assert not LoanTransaction.objects.filter(idempotency_key="c").exists()
    field = loan_repay(
        actor=staff["teller"],
        loan_id=loan.pk,
        amount_minor=EMI,
        value_date=dt.date(2026, 3, 5),
        idempotency_key="f",
        channel="field",
    )
    assert field.interest_minor == 1_200_00
