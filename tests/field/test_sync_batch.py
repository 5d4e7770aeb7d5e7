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
    # Stored together: the records in one COPY, no INSERT per item.
    inserts = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "field_fieldrecord"')
    ]
    assert inserts == []
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


def test_a_well_formed_instalment_is_read_as_its_serializer_reads_it() -> None:
    """The sync reads most instalments without the serializer; what it reads must be the
    serializer's reading exactly (the content hash of a record depends on it), and anything it is
    unsure of goes to the serializer."""
    from django.utils import timezone

    from field.api import InstalmentItemSerializer, _instalment_quick, _item

    zone = timezone.get_current_timezone()

    base = {
        "client_uuid": "0b9f3c8e-5d0a-4e59-9d0f-6a1f2e3d4c5b",
        "device_sequence": 7,
        "device_time": "2026-05-05T09:15:00+06:00",
        "kind": "instalment",
        "loan": 12,
        "amount_minor": 10_661_85,
        "value_date": "2026-05-05",
    }
    read_the_same = [
        base,
        {**base, "device_time": "2026-05-05T03:15:00Z", "paid_by_member": 4},
        {**base, "client_uuid": "0B9F3C8E5D0A4E599D0F6A1F2E3D4C5B", "paid_by_member": None, "note": "extra"},
    ]
    for raw in read_the_same:
        quick = _instalment_quick(raw, zone)
        serializer = InstalmentItemSerializer(data=raw)
        assert serializer.is_valid(), serializer.errors
        assert quick == _item(serializer), raw
        assert quick is not None and quick.content_hash() == _item(serializer).content_hash()
    left_to_the_serializer = [
        {**base, "kind": "savings_deposit"},
        {**base, "loan": "12"},
        {**base, "amount_minor": 0},
        {**base, "amount_minor": True},
        {**base, "device_sequence": -1},
        {**base, "device_time": "2026-05-05T09:15:00"},  # naive: read in the workspace's zone
        {**base, "value_date": "05/05/2026"},
        {**base, "value_date": "2026-02-30"},
        {**base, "client_uuid": "not-a-uuid"},
        {key: value for key, value in base.items() if key != "loan"},
        {**base, "paid_by_member": 0},
    ]
    for raw in left_to_the_serializer:
        assert _instalment_quick(raw, zone) is None, raw
