"""Repayments racing each other on one loan, each thread with its own committed transaction.

The same key sent twice at once is one repayment; different repayments at once are applied one
after the other (the loan row is locked), so the instalments and the ledger always agree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django_tenants.utils import tenant_context

from core_banking.ledger.models import JournalLine
from core_banking.lending.models import Loan, LoanInstallment, LoanTransaction
from core_banking.lending.services import loan_repay
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.lending.desk import disbursed_loan, lending_desk
from tests.core_banking.savings.conftest import make_member
from tests.core_banking.threads import in_threads

pytestmark = pytest.mark.django_db

EMI = 10_661_85  # Tk 1,20,000 at 1 % a month over 12 months


@pytest.fixture(scope="module")
def book(django_db_setup: None, django_db_blocker: Any) -> tuple[Cooperative, int]:
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Repayment races", slug=f"race-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@races.example"),
        )
        with tenant_context(cooperative):
            loan = disbursed_loan(lending_desk(password="race-secret-1"), make_member("HO-000001"))
        connection.close()
    return cooperative, loan.pk


def _repay(loan_id: int, key: str, amount: int = EMI, on: dt.date = dt.date(2026, 6, 1)) -> Any:
    return loan_repay(actor=None, loan_id=loan_id, amount_minor=amount, value_date=on, idempotency_key=key)


def test_the_same_key_at_once_is_one_repayment(book: tuple[Cooperative, int]) -> None:
    cooperative, loan_id = book
    results = in_threads(4, lambda _n: _repay(loan_id, "same-key"), cooperative)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    with tenant_context(cooperative):
        assert LoanTransaction.objects.filter(idempotency_key="same-key").count() == 1
        assert JournalLine.objects.filter(entry__idempotency_key="same-key").count() == 3
    connection.close()


def test_repayments_at_once_are_applied_one_after_the_other(book: tuple[Cooperative, int]) -> None:
    cooperative, loan_id = book
    results = in_threads(3, lambda n: _repay(loan_id, f"at-once-{n}"), cooperative)
    assert not [r for r in results if isinstance(r, Exception)], results
    with tenant_context(cooperative):
        rows = LoanInstallment.objects.filter(loan_id=loan_id)
        paid = rows.aggregate(p=Sum("principal_paid_minor"), i=Sum("interest_paid_minor"))
        repaid = LoanTransaction.objects.filter(loan_id=loan_id, kind="repayment").aggregate(
            p=Sum("principal_minor"), i=Sum("interest_minor"), a=Sum("amount_minor")
        )
        assert (paid["p"], paid["i"]) == (repaid["p"], repaid["i"])
        assert repaid["a"] == paid["p"] + paid["i"]
        lines = JournalLine.objects.filter(account__code="1300-GEN").aggregate(
            d=Sum("debit_minor"), c=Sum("credit_minor")
        )
        assert lines["d"] - lines["c"] == 120_000_00 - paid["p"]
        # Whole instalments, oldest first: every paid instalment is paid in full.
        assert [row.paid_minor for row in rows.order_by("number") if row.paid_minor] == [EMI] * (
            LoanTransaction.objects.filter(loan_id=loan_id, kind="repayment").count()
        )
    connection.close()


def test_the_counter_repayment_in_two_statements_writes_what_the_step_by_step_path_writes(
    book: tuple[Cooperative, int],
) -> None:
    """A committed cash instalment (outside any transaction: the two-statement path) leaves the
    entry, the instalments, the loan, the repayment row and the SMS exactly as the service's
    step-by-step path does for the next instalment inside a transaction."""
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from notifications.models import OutboxMessage

    cooperative, loan_id = book

    def pay(key: str, inside_a_transaction: bool) -> int:
        # Late in the loan, so that what is due covers an instalment whatever the tests before paid.
        on = dt.date(2027, 1, 31)
        if inside_a_transaction:
            with transaction.atomic():
                return int(_repay(loan_id, key, on=on).pk)
        with CaptureQueriesContext(connection) as queries:
            paid = int(_repay(loan_id, key, on=on).pk)
        # The reads after the lock in one statement; the posting statement runs on psycopg's own
        # prepared cursor; then the commit. The step-by-step path would take a dozen statements.
        assert len(queries.captured_queries) <= 3, [q["sql"][:60] for q in queries.captured_queries]
        return paid

    (fast,) = in_threads(1, lambda _n: pay("two-statements", False), cooperative)
    (slow,) = in_threads(1, lambda _n: pay("step-by-step", True), cooperative)
    assert isinstance(fast, int) and isinstance(slow, int), (fast, slow)
    with tenant_context(cooperative):
        first, second = (LoanTransaction.objects.select_related("entry").get(pk=pk) for pk in (fast, slow))
        for payment in (first, second):
            lines = sorted(
                (line.account.code, line.debit_minor > 0)
                for line in JournalLine.objects.filter(entry=payment.entry).select_related("account")
            )
            assert lines == [("1100-HO", True), ("1300-GEN", False), ("4100", False)]
            assert payment.principal_minor + payment.interest_minor == EMI == payment.amount_minor
            assert (
                OutboxMessage.objects.filter(
                    source_ref=payment.idempotency_key, kind="instalment_received"
                ).count()
                == 1
            )
            assert payment.entry.idempotency_key == payment.idempotency_key
        loan = Loan.objects.get(pk=loan_id)
        paid = LoanInstallment.objects.filter(loan_id=loan_id).aggregate(p=Sum("principal_paid_minor"))["p"]
        assert loan.principal_outstanding_minor == 120_000_00 - paid
        rows = LoanInstallment.objects.filter(loan_id=loan_id, paid_on__isnull=False)
        assert all(row.paid_minor == EMI for row in rows)
    connection.close()
