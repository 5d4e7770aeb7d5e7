"""A meeting's instalments in one sync are stored and posted together, each as loan_repay posts it.

The new instalments of a batch go through ``loan_repay_batch`` in one transaction; refusals are
still held in suspense one by one, and the answers are in the order sent.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core_banking.lending.models import Loan, LoanTransaction
from core_banking.lending.services import loan_payoff_quote
from field.models import FieldRecord
from notifications.models import OutboxMessage
from tests.conftest import ALPHA
from tests.core_banking.lending.conftest import journal_balanced, ledger_balance
from tests.field.conftest import (
    EMI,
    FIRST_INTEREST,
    SECOND_INTEREST,
    business_date,
    device_client,
    instalment,
    register_device,
    sync,
)

pytestmark = pytest.mark.django_db


def test_a_batch_of_instalments_is_posted_together_and_refusals_are_held(
    in_alpha: object, loan: Loan
) -> None:
    _, token = register_device(ALPHA, ALPHA.only_here)
    client = device_client(ALPHA, token)
    today = business_date()
    payoff = loan_payoff_quote(loan_id=loan.pk, on_date=today).total_minor
    cash_before, suspense_before = ledger_balance("1100-HO"), ledger_balance("2300")
    items = [
        instalment(loan.pk, sequence=1),
        instalment(loan.pk, sequence=2),  # the next instalment, after the first
        instalment(10**9, sequence=3),  # no such loan: held in suspense
        {**instalment(loan.pk, sequence=4), "paid_by_member": 10**9},  # brought by nobody we know
        instalment(loan.pk, sequence=5, amount=payoff),  # more than the payoff is by now: held
    ]
    with CaptureQueriesContext(connection) as queries:
        answers = sync(client, *items).json()["items"]
    assert [a["status"] for a in answers] == [
        "created",
        "created",
        "needs_review",
        "needs_review",
        "needs_review",
    ]
    assert [a["client_uuid"] for a in answers] == [i["client_uuid"] for i in items]
    assert [a["reason_code"] for a in answers[2:]] == ["not_found", "not_found", "repayment_above_payoff"]
    assert all(a["flags"] == ["held_in_suspense"] for a in answers[2:])
    # The two instalments: the first pays the first month's interest, the second the next month's.
    first, second = (LoanTransaction.objects.get(pk=a["loan_transaction"]) for a in answers[:2])
    assert (first.interest_minor, first.principal_minor) == (FIRST_INTEREST, EMI - FIRST_INTEREST)
    assert (second.interest_minor, second.principal_minor) == (SECOND_INTEREST, EMI - SECOND_INTEREST)
    assert second.pk == first.pk + 1 and (first.channel, second.channel) == ("field", "field")
    assert first.idempotency_key == f"field:{items[0]['client_uuid']}"
    # Stored together: the records in one INSERT, not one per item.
    inserts = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "field_fieldrecord"')
    ]
    assert len(inserts) == 1
    assert FieldRecord.objects.filter(client_uuid__in=[i["client_uuid"] for i in items]).count() == 5
    held = 2 * EMI + payoff
    assert ledger_balance("2300") - suspense_before == -held
    # The loan's branch cash took all but the unknown loan's money, which came into the
    # collector's own branch's cash (no loan names a branch for it).
    assert ledger_balance("1100-HO") - cash_before == 2 * EMI + EMI + payoff
    unknown = FieldRecord.objects.get(client_uuid=items[2]["client_uuid"])
    assert unknown.entry is not None
    assert sorted(
        (line.debit_minor, line.credit_minor, line.account.code[:4]) for line in unknown.entry.lines.all()
    ) == [
        (0, EMI, "2300"),
        (EMI, 0, "1100"),
    ]
    assert (
        OutboxMessage.objects.filter(source_ref__in=[f"field:{i['client_uuid']}" for i in items[:2]]).count()
        == 2
    )
    assert journal_balanced()

    # The same batch again: every item answers as the first time, nothing more is posted.
    again = sync(client, *items).json()["items"]
    assert [a["status"] for a in again] == ["duplicate"] * 5
    assert [a["loan_transaction"] for a in again] == [a["loan_transaction"] for a in answers]
    assert LoanTransaction.objects.filter(loan=loan, kind="repayment").count() == 2
