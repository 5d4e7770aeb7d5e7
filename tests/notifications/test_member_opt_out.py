"""A member who asked for no SMS: every path that writes an outbox row writes it "opted out".

The paths are the posting services' own statements (the one-statement deposit, the step-by-step
deposit and withdrawal, the batch's COPY, the two-statement repayment and its step-by-step
fallback) and ``outbox_enqueue``; the relay also settles a row whose member opted out after it was
written. Rows are committed in a workspace of this module's own, as a teller's request commits them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from core_banking.lending.services import (
    loan_repay,
)
from core_banking.members.models import Member
from core_banking.savings import services as savings_services
from core_banking.savings.batch import DepositRequest, savings_deposit_batch
from core_banking.savings.models import SavingsProduct
from core_banking.savings.services import savings_account_open, savings_deposit, savings_withdraw
from notifications.models import MessageKind, OutboxMessage, OutboxStatus
from notifications.services import outbox_enqueue
from notifications.twilio_fake import FakeTwilio
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.lending.desk import disbursed_loan, lending_desk
from tests.core_banking.savings.conftest import OPENED, make_member
from tests.core_banking.threads import in_threads
from tests.notifications.conftest import committed, phone, relay, rows

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 23)
EMI = 10_661_85  # Tk 1,20,000 at 1 % a month over 12 months


@pytest.fixture(scope="module")
def book(django_db_setup: None, django_db_blocker: Any) -> Cooperative:
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Opted out", slug=f"optout-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@optout.example"),
        )
        with tenant_context(cooperative):
            savings_services.savings_product_create(
                actor=None,
                code="VOL",
                name="Voluntary savings",
                kind="voluntary",
                annual_rate=Decimal("6"),
                rate_effective_from=OPENED,
            )
        connection.close()
    return cooperative


def _one(book: Cooperative, work: Any) -> Any:
    (result,) = in_threads(1, lambda _number: work(), book)
    if isinstance(result, BaseException):
        raise result
    return result


def _member(number: str, *, opted_out: bool) -> Member:
    member = make_member(number)
    Member.objects.filter(pk=member.pk).update(sms_opt_out=opted_out)
    member.refresh_from_db()
    return member


def _account(book: Cooperative, number: str, *, opted_out: bool) -> int:
    def open_account() -> int:
        product = SavingsProduct.objects.get(code="VOL")
        member = _member(number, opted_out=opted_out)
        return savings_account_open(actor=None, member=member, product=product, opened_on=OPENED).pk

    return int(_one(book, open_account))


def _status(book: Cooperative, source_ref: str) -> str:
    with tenant_context(book):
        return str(OutboxMessage.objects.get(source_ref=source_ref).status)


def test_the_one_statement_deposit_writes_opted_out_for_a_member_who_asked(book: Cooperative) -> None:
    quiet = _account(book, "HO-200001", opted_out=True)
    loud = _account(book, "HO-200002", opted_out=False)

    def deposit_fast(account_id: int, key: str) -> Any:
        return savings_services._deposit_in_one_statement(
            account_id=account_id,
            amount_minor=500_00,
            value_date=DAY,
            idempotency_key=key,
            actor=None,
            channel="office",
            memo="",
            counter_account_code="",
        )

    # Not None: the one statement wrote the deposit (not the step-by-step fallback).
    assert _one(book, lambda: deposit_fast(quiet, "fast-quiet")) is not None
    assert _one(book, lambda: deposit_fast(loud, "fast-loud")) is not None
    assert _status(book, "fast-quiet") == OutboxStatus.OPTED_OUT
    assert _status(book, "fast-loud") == OutboxStatus.PENDING


def test_the_step_by_step_deposit_and_a_withdrawal_write_opted_out(book: Cooperative) -> None:
    quiet = _account(book, "HO-200003", opted_out=True)

    def in_a_transaction() -> None:
        with transaction.atomic():  # inside a transaction: the step-by-step path
            savings_deposit(account_id=quiet, amount_minor=900_00, value_date=DAY, idempotency_key="slow-in")
        savings_withdraw(account_id=quiet, amount_minor=100_00, value_date=DAY, idempotency_key="slow-out")

    _one(book, in_a_transaction)
    assert _status(book, "slow-in") == OutboxStatus.OPTED_OUT
    assert _status(book, "slow-out") == OutboxStatus.OPTED_OUT


def test_a_batch_writes_opted_out_only_for_the_member_who_asked(book: Cooperative) -> None:
    quiet = _account(book, "HO-200004", opted_out=True)
    loud = _account(book, "HO-200005", opted_out=False)
    _one(
        book,
        lambda: savings_deposit_batch(
            deposits=[
                DepositRequest(quiet, 250_00, DAY, "batch-quiet"),
                DepositRequest(loud, 99, DAY, "batch-loud"),
            ]
        ),
    )
    assert _status(book, "batch-quiet") == OutboxStatus.OPTED_OUT
    assert _status(book, "batch-loud") == OutboxStatus.PENDING


def test_outbox_enqueue_writes_opted_out_and_no_recipient_as_the_member_is(book: Cooperative) -> None:
    def enqueue() -> None:
        with transaction.atomic():
            quiet = _member("HO-200006", opted_out=True)
            silent = make_member("HO-200007", phone="")
            loud = _member("HO-200008", opted_out=False)
            for key, member in (("enq-quiet", quiet), ("enq-silent", silent), ("enq-loud", loud)):
                outbox_enqueue(kind=MessageKind.SHARE_PURCHASE, source_ref=key, member=member, context={})

    _one(book, enqueue)
    assert [_status(book, key) for key in ("enq-quiet", "enq-silent", "enq-loud")] == [
        OutboxStatus.OPTED_OUT,
        OutboxStatus.NO_RECIPIENT,
        OutboxStatus.PENDING,
    ]


@pytest.fixture(scope="module")
def loans(book: Cooperative, django_db_blocker: Any) -> dict[str, int]:
    """Two disbursed loans, one to a member who asked for no SMS: loan ids by who."""
    with django_db_blocker.unblock(), tenant_context(book):
        desk = lending_desk(password="optout-secret-1")
        ids: dict[str, int] = {}
        for who, number, opted_out in (("quiet", "HO-300001", True), ("loud", "HO-300002", False)):
            ids[who] = disbursed_loan(
                desk, _member(number, opted_out=opted_out), idempotency_key=f"disb-{who}"
            ).pk
        connection.close()
    return ids


def _repay(loan_id: int, key: str, *, in_transaction: bool) -> Any:
    def pay() -> Any:
        return loan_repay(
            actor=None, loan_id=loan_id, amount_minor=EMI, value_date=dt.date(2026, 3, 5), idempotency_key=key
        )

    if in_transaction:
        with transaction.atomic():  # the step-by-step path
            return pay()
    return pay()


def test_a_repayment_writes_opted_out_on_both_paths(book: Cooperative, loans: dict[str, int]) -> None:
    _one(book, lambda: _repay(loans["quiet"], "repay-fast-quiet", in_transaction=False))
    _one(book, lambda: _repay(loans["loud"], "repay-fast-loud", in_transaction=False))
    _one(book, lambda: _repay(loans["quiet"], "repay-slow-quiet", in_transaction=True))
    assert [_status(book, key) for key in ("repay-fast-quiet", "repay-fast-loud", "repay-slow-quiet")] == [
        OutboxStatus.OPTED_OUT,
        OutboxStatus.PENDING,
        OutboxStatus.OPTED_OUT,
    ]
    with tenant_context(book):
        assert (
            OutboxMessage.objects.get(source_ref="repay-fast-quiet").kind == MessageKind.INSTALMENT_RECEIVED
        )


def test_the_relay_settles_a_row_whose_member_opted_out_after_it_was_written(
    workspace: Cooperative, twilio: FakeTwilio
) -> None:
    def write() -> list[int]:
        members = [make_member(f"HO-40000{n}", phone=phone(n)) for n in range(2)]
        for member in members:
            outbox_enqueue(
                kind=MessageKind.SAVINGS_DEPOSIT,
                source_ref=f"late-{member.number}",
                member=member,
                context={
                    "amount_minor": 100_00,
                    "currency": "BDT",
                    "account": "1",
                    "value_date": "2026-11-23",
                },
            )
        # Written pending; then the member asks for no SMS before the relay gets to it.
        Member.objects.filter(pk=members[0].pk).update(sms_opt_out=True)
        return [member.pk for member in members]

    try:
        committed(workspace, write)
        assert [row.status for row in rows(workspace)] == [OutboxStatus.PENDING, OutboxStatus.PENDING]
        report = relay(workspace)
        assert (report.sent, report.not_sendable) == (1, 1)
        assert [row.status for row in rows(workspace)] == [OutboxStatus.OPTED_OUT, OutboxStatus.SENT]
        assert [c.form["To"] for c in twilio.creates()] == [phone(1)]
    finally:
        committed(workspace, lambda: Member.objects.filter(number__startswith="HO-40000").delete())


def test_the_flag_read_by_the_relay_costs_one_query_per_batch(
    workspace: Cooperative, twilio: FakeTwilio
) -> None:
    from django.test.utils import CaptureQueriesContext

    from notifications.relay import outbox_claim

    def write_and_claim() -> int:
        members = [make_member(f"HO-50000{n}", phone=phone(n)) for n in range(3)]
        OutboxMessage.objects.bulk_create(
            OutboxMessage(
                kind=MessageKind.SAVINGS_DEPOSIT,
                source_ref=f"claim-{member.number}",
                member_id=member.pk,
                phone=member.phone,
                language="en",
                context={},
                body="Hello",
                created_at=timezone.now(),
            )
            for member in members
        )
        Member.objects.filter(pk__in=[members[0].pk, members[2].pk]).update(sms_opt_out=True)
        with CaptureQueriesContext(connection) as queries:
            claim = outbox_claim(limit=10, lease_seconds=30, callback="")
        assert claim.settled == 2 and len(claim.jobs) == 1
        return sum('"members_member"' in query["sql"] for query in queries.captured_queries)

    try:
        assert committed(workspace, write_and_claim) == 1
    finally:
        committed(workspace, lambda: OutboxMessage.objects.all().delete())
        committed(workspace, lambda: Member.objects.filter(number__startswith="HO-50000").delete())
