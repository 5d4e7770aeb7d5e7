"""The counter repayment reads only the instalments a payment reaches; what it writes is unchanged.

The two-statement path (a committed cash instalment) gets, after the loan's lock, the instalments
due by the value date, those the amount reaches and the next one due, with totals over all the
unpaid ones. These tests pay overdue and in-advance instalments that way and check the SMS's
outstanding amount and next instalment, and the instalments written, against the database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core_banking.lending.models import LoanInstallment, LoanTransaction, PrepaymentStrategy
from core_banking.lending.services import loan_product_update, loan_repay
from notifications.models import OutboxMessage
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.lending.desk import disbursed_loan, lending_desk
from tests.core_banking.savings.conftest import make_member
from tests.core_banking.threads import in_threads

pytestmark = pytest.mark.django_db

EMI = 10_661_85  # Tk 1,20,000 at 1 % a month over 12 months


@pytest.fixture(scope="module")
def loans(django_db_setup: None, django_db_blocker: Any) -> tuple[Cooperative, list[int]]:
    """Two Tk 1,20,000 loans paid out on 5 February 2026, on a product that pays ahead in advance."""
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Counter context", slug=f"ctx-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@context.example"),
        )
        with tenant_context(cooperative):
            desk = lending_desk(password="context-secret-1")
            loan_product_update(
                actor=None, product_id=desk.product.pk, prepayment_strategy=PrepaymentStrategy.ADVANCE
            )
            ids = [
                disbursed_loan(desk, make_member(f"HO-00000{n}"), idempotency_key=f"disb-{n}").pk
                for n in (1, 2)
            ]
        connection.close()
    return cooperative, ids


def _pay_committed(cooperative: Cooperative, loan_id: int, key: str, amount: int, on: dt.date) -> int:
    """Pay outside any transaction (the two-statement path) and check that it was that path."""

    def pay(_n: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            payment = loan_repay(
                actor=None, loan_id=loan_id, amount_minor=amount, value_date=on, idempotency_key=key
            )
        assert len(queries.captured_queries) <= 3, [q["sql"][:60] for q in queries.captured_queries]
        return int(payment.pk)

    (result,) = in_threads(1, pay, cooperative)
    assert isinstance(result, int), result
    return result


def _expected_message(loan_id: int, on: dt.date) -> tuple[int, str | None, int]:
    """Outstanding, next due date and its amount, from every unpaid instalment in the database."""
    open_rows = [
        (row, row.outstanding_minor)
        for row in LoanInstallment.objects.filter(loan_id=loan_id).order_by("number")
        if row.outstanding_minor > 0
    ]
    upcoming = next((item for item in open_rows if item[0].due_date >= on), open_rows[0])
    return sum(owed for _row, owed in open_rows), upcoming[0].due_date.isoformat(), upcoming[1]


def _message(payment_id: int) -> dict[str, Any]:
    payment = LoanTransaction.objects.get(pk=payment_id)
    message = OutboxMessage.objects.get(source_ref=payment.idempotency_key, kind="instalment_received")
    return dict(message.context)


def test_an_overdue_instalment_paid_late_names_the_next_instalment_ahead(
    loans: tuple[Cooperative, list[int]],
) -> None:
    cooperative, (loan_id, _other) = loans
    # On 20 July five instalments are due (March to July) and none is paid: one is paid.
    on = dt.date(2026, 7, 20)
    payment_id = _pay_committed(cooperative, loan_id, "late-one", EMI, on)
    with tenant_context(cooperative):
        payment = LoanTransaction.objects.get(pk=payment_id)
        assert payment.amount_minor == EMI == payment.principal_minor + payment.interest_minor
        paid = list(LoanInstallment.objects.filter(loan_id=loan_id, paid_on__isnull=False))
        assert [row.number for row in paid] == [1]
        outstanding, next_due, next_amount = _expected_message(loan_id, on)
        context = _message(payment_id)
        # Eleven instalments left: ten of EMI and the last one, rounded, Tk 10,661.91.
        assert context["outstanding_minor"] == outstanding == 10 * EMI + 10_661_91
        # The next instalment due on or after the day (August's), not the oldest overdue one.
        assert (context["next_due_date"], context["next_due_minor"]) == (next_due, next_amount)
        assert next_due == "2026-08-05"
    connection.close()


def test_an_advance_payment_reaches_the_instalments_it_pays_and_names_the_next(
    loans: tuple[Cooperative, list[int]],
) -> None:
    cooperative, (_first, loan_id) = loans
    # On 10 March one instalment is due (5 March); two and a half more are paid in advance.
    on = dt.date(2026, 3, 10)
    amount = EMI * 3 + EMI // 2
    payment_id = _pay_committed(cooperative, loan_id, "ahead", amount, on)
    with tenant_context(cooperative):
        rows = list(LoanInstallment.objects.filter(loan_id=loan_id).order_by("number"))
        assert [row.number for row in rows if row.paid_on] == [1, 2, 3]
        assert rows[3].paid_minor == EMI // 2 and rows[3].paid_on is None
        assert sum(row.paid_minor for row in rows) == amount
        outstanding, next_due, next_amount = _expected_message(loan_id, on)
        context = _message(payment_id)
        assert context["outstanding_minor"] == outstanding
        assert (context["next_due_date"], context["next_due_minor"]) == (next_due, next_amount)
        # The fourth instalment, half paid, is the next one, with what it still owes.
        assert next_due == rows[3].due_date.isoformat()
        assert next_amount == rows[3].due_minor - EMI // 2
    connection.close()
