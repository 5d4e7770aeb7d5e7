"""Two identical batches at the same moment, each thread with its own committed transactions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from core_banking.lending.models import Loan, LoanTransaction
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from field.models import FieldDevice, FieldRecord
from field.services import SyncItem, field_device_register, field_sync, instalment_payload
from notifications.models import OutboxMessage
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.lending.conftest import journal_balanced, ledger_balance
from tests.core_banking.lending.desk import disbursed_loan, lending_desk
from tests.core_banking.savings.conftest import make_member
from tests.core_banking.threads import in_threads

pytestmark = pytest.mark.django_db

EMI = 10_661_85
# Interest of instalments 1..3 on a declining Tk 1,20,000 at 1 % a month with an EMI of 10,661.85.
INTEREST = [1_200_00, 1_105_38, 1_009_82]


@pytest.fixture(scope="module")
def book(django_db_setup: None, django_db_blocker: Any) -> tuple[Cooperative, int, int]:
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Field races", slug=f"field-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@field-races.example"),
        )
        with tenant_context(cooperative):
            desk = lending_desk(password="race-secret-1")
            collector = staff_user_create(
                actor=None,
                username="collector",
                password="race-secret-1",
                roles=[Role.FIELD_OFFICER.value],
                home_branch=desk.head_office,
            )
            loan = disbursed_loan(desk, make_member("HO-000001"))
            device, _token = field_device_register(actor=collector, label="race phone")
        connection.close()
    return cooperative, loan.pk, device.pk


def test_two_identical_batches_at_once_post_each_item_once(book: tuple[Cooperative, int, int]) -> None:
    cooperative, loan_id, device_id = book
    now = dt.datetime.now(dt.UTC)
    batch = [
        SyncItem(
            client_uuid=uuid.uuid4(),
            device_sequence=number,
            device_time=now,
            kind="instalment",
            payload=instalment_payload(
                loan_id=loan_id, amount_minor=EMI, value_date=dt.date(2026, 3 + number, 5)
            ),
        )
        for number in range(3)
    ]

    def upload(_number: int) -> list[tuple[str, int | None]]:
        device = FieldDevice.objects.select_related("user").get(pk=device_id)
        return [(a.status, a.loan_transaction) for a in field_sync(device=device, items=batch)]

    first, second = in_threads(2, upload, cooperative)
    assert not isinstance(first, Exception), first
    assert not isinstance(second, Exception), second
    # Item by item, one thread posted and the other was told it is a duplicate of the same posting.
    for mine, theirs in zip(first, second, strict=True):
        assert sorted((mine[0], theirs[0])) == ["created", "duplicate"]
        assert mine[1] == theirs[1] is not None
    with tenant_context(cooperative):
        assert FieldRecord.objects.filter(status="created").count() == 3
        keys = [f"field:{item.client_uuid}" for item in batch]
        assert LoanTransaction.objects.filter(idempotency_key__in=keys).count() == 3
        assert OutboxMessage.objects.filter(source_ref__in=keys).count() == 3
        principal_paid = 3 * EMI - sum(INTEREST)
        assert Loan.objects.get(pk=loan_id).principal_outstanding_minor == 120_000_00 - principal_paid
        assert ledger_balance("1300-GEN") == 120_000_00 - principal_paid
        assert journal_balanced()
    connection.close()
