"""A batch of cash repayments writes exactly what ``loan_repay`` writes for each, one by one.

Twin loans (same terms, same day) get the same requests: one twin through ``loan_repay_batch`` in
one transaction, the other through ``loan_repay`` request by request. Instalments, loan totals,
repayment rows, ledger lines and the members' SMS must be the same, and every refusal the same
error. The batch mixes the common instalment (worked out set-based) with what goes through
``loan_repay`` itself: a replayed key, a settlement, a payment above the payoff, an unknown loan, a
loan closed earlier in the batch and a zero amount.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django_tenants.utils import tenant_context

from control_plane.errors import BusinessRuleViolation
from core_banking.ledger.models import JournalLine
from core_banking.lending.models import Loan, LoanInstallment, LoanTransaction
from core_banking.lending.services import (
    RepaymentRequest,
    loan_payoff_quote,
    loan_repay,
    loan_repay_batch,
)
from notifications.models import OutboxMessage
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.lending.desk import disbursed_loan, lending_desk
from tests.core_banking.savings.conftest import make_member

pytestmark = pytest.mark.django_db

EMI = 10_661_85  # Tk 1,20,000 at 1 % a month over 12 months
MARCH = dt.date(2026, 3, 10)
JULY = dt.date(2026, 7, 20)
LOANS = 5


@pytest.fixture(scope="module")
def twins(django_db_setup: None, django_db_blocker: Any) -> tuple[Cooperative, list[int], list[int]]:
    """Five loans for the batch and five twins for loan_repay, Tk 1,20,000 each, paid out on 5 February."""
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Batch repayments", slug=f"rb-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@batch.example"),
        )
        with tenant_context(cooperative):
            desk = lending_desk(password="batch-secret-1")
            ids = [
                disbursed_loan(desk, make_member(f"HO-{n:06d}"), idempotency_key=f"disb-{n}").pk
                for n in range(2 * LOANS)
            ]
        connection.close()
    return cooperative, ids[:LOANS], ids[LOANS:]


def _requests(loans: list[int], prefix: str, settle_minor: int) -> list[RepaymentRequest]:
    first, second, third, fourth, fifth = loans
    return [
        RepaymentRequest(first, EMI, MARCH, f"{prefix}-1"),
        RepaymentRequest(first, EMI, MARCH, f"{prefix}-2"),  # the next instalment, in advance
        RepaymentRequest(second, EMI * 2 + EMI // 2, MARCH, f"{prefix}-3"),  # two and a half ahead
        RepaymentRequest(third, EMI * 20, MARCH, f"{prefix}-4"),  # above the payoff: refused
        RepaymentRequest(fourth, settle_minor, MARCH, f"{prefix}-5"),  # settles and closes the loan
        RepaymentRequest(fourth, EMI, MARCH, f"{prefix}-6"),  # the loan is closed by now: refused
        RepaymentRequest(fifth, EMI, JULY, f"{prefix}-7"),  # the oldest of five overdue instalments
        RepaymentRequest(10**9, EMI, MARCH, f"{prefix}-8"),  # no such loan
        RepaymentRequest(first, EMI, MARCH, f"{prefix}-1"),  # the first request again: a replay
        RepaymentRequest(second, 0, MARCH, f"{prefix}-9"),  # nothing paid: refused
        RepaymentRequest(third, EMI // 3, MARCH, f"{prefix}-10"),  # a part of what is due
    ]


def _one_by_one(requests: list[RepaymentRequest]) -> list[Any]:
    answers: list[Any] = []
    for request in requests:
        try:
            with transaction.atomic():
                payment = loan_repay(
                    actor=None, loan_id=request.loan_id, amount_minor=request.amount_minor,
                    value_date=request.value_date, idempotency_key=request.idempotency_key, channel="field",
                )  # fmt: skip
        except BusinessRuleViolation as error:
            answers.append(error.code)
        else:
            answers.append(payment.pk)
    return answers


def _state_of(loan_id: int) -> dict[str, Any]:
    loan = Loan.objects.get(pk=loan_id)
    payments = list(LoanTransaction.objects.filter(loan_id=loan_id, kind="repayment").order_by("id"))
    messages = [
        {key: value for key, value in OutboxMessage.objects.get(source_ref=p.idempotency_key).context.items()
         if key != "loan"}
        for p in payments
    ]  # fmt: skip
    lines = [
        sorted(
            (line.account.code, line.debit_minor, line.credit_minor)
            for line in JournalLine.objects.filter(entry_id=p.entry_id).select_related("account")
        )
        for p in payments
    ]
    return {
        "loan": (
            loan.status,
            loan.closed_on,
            loan.principal_outstanding_minor,
            loan.interest_receivable_minor,
        ),
        "instalments": list(
            LoanInstallment.objects.filter(loan_id=loan_id)
            .order_by("number")
            .values_list(
                "number",
                "principal_minor",
                "principal_paid_minor",
                "interest_paid_minor",
                "fee_paid_minor",
                "penalty_paid_minor",
                "paid_on",
            )
        ),
        "payments": [
            (
                p.amount_minor,
                p.principal_minor,
                p.interest_minor,
                p.fee_minor,
                p.penalty_minor,
                p.interest_from_receivable_minor,
                p.value_date,
                p.channel,
                p.source,
            )
            for p in payments
        ],
        "lines": lines,
        "messages": messages,
    }


def test_a_batch_writes_what_loan_repay_writes_one_by_one(
    twins: tuple[Cooperative, list[int], list[int]],
) -> None:
    cooperative, batch_loans, single_loans = twins
    with tenant_context(cooperative):
        settle = loan_payoff_quote(loan_id=batch_loans[3], on_date=MARCH).total_minor
        assert settle == loan_payoff_quote(loan_id=single_loans[3], on_date=MARCH).total_minor

        answers = loan_repay_batch(repayments=_requests(batch_loans, "b", settle))
        expected = _one_by_one(_requests(single_loans, "s", settle))

        codes = [answer.error.code if answer.error else "paid" for answer in answers]
        assert codes == [
            "paid", "paid", "paid", "repayment_above_payoff", "paid", "loan_not_active", "paid",
            "not_found", "paid", "amount_invalid", "paid",
        ]  # fmt: skip
        assert codes == [code if isinstance(code, str) else "paid" for code in expected]
        # The common instalments were written together, set-based, before the settlement that went
        # through loan_repay: their repayment ids are one consecutive block. (The last request went
        # through loan_repay too: its loan had a request refused earlier in the batch.)
        common = [int(answers[n].loan_transaction_id or 0) for n in (0, 1, 2, 6)]
        assert common == list(range(common[0], common[0] + 4))
        assert (
            common[-1] < int(answers[4].loan_transaction_id or 0) < int(answers[10].loan_transaction_id or 0)
        )
        # The replayed key answers with the first payment and posts nothing more.
        assert answers[8].loan_transaction_id == answers[0].loan_transaction_id
        assert answers[8].entry_id == answers[0].entry_id
        assert LoanTransaction.objects.filter(idempotency_key="b-1").count() == 1
        for batch_loan, single_loan in zip(batch_loans, single_loans, strict=True):
            assert _state_of(batch_loan) == _state_of(single_loan), batch_loan
        # Exact amounts where it matters: the first loan's two instalments, the settled loan.
        first = _state_of(batch_loans[0])
        assert [row[6] is not None for row in first["instalments"][:3]] == [True, True, False]
        assert sum(payment[0] for payment in first["payments"]) == 2 * EMI
        assert _state_of(batch_loans[3])["loan"][:3] == ("closed", MARCH, 0)
        # Every entry balances, and the cash came into the head office's till.
        batch_lines = JournalLine.objects.filter(entry__loan_transactions__loan_id__in=batch_loans)
        totals = batch_lines.aggregate(d=Sum("debit_minor"), c=Sum("credit_minor"))
        assert totals["d"] == totals["c"]
        paid = sum(
            LoanTransaction.objects.filter(loan_id__in=batch_loans, kind="repayment").values_list(
                "amount_minor", flat=True
            )
        )
        assert batch_lines.filter(account__code="1100-HO").aggregate(d=Sum("debit_minor"))["d"] == paid
