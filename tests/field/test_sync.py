"""The field sync API against the real database: each item answered on its own, posted at most once."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from core_banking.lending.models import Loan, LoanStatus, LoanTransaction
from core_banking.lending.services import loan_payoff_quote, loan_repay
from field.models import FieldDevice, FieldRecord
from field.services import field_records_post_queued
from notifications.models import OutboxMessage
from tenants.models import Cooperative, Lifecycle
from tests.conftest import ALPHA, BETA, workspace_client
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

PRINCIPAL = 120_000_00
AFTER_ONE_EMI = PRINCIPAL - (EMI - FIRST_INTEREST)  # 1,10,538.15 of principal still owed


def _repayments(loan: Loan) -> int:
    return LoanTransaction.objects.filter(loan=loan, kind="repayment").count()


def test_a_device_is_registered_by_its_collector_and_only_a_hash_of_its_token_is_kept(
    in_alpha: object,
) -> None:
    device_id, token = register_device(ALPHA, ALPHA.only_here)
    device = FieldDevice.objects.get(pk=device_id)
    assert device.user.username == ALPHA.only_here
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in device.token_hash
    # An accountant does not collect in the field: no device.
    refused = workspace_client(ALPHA, username="clerk0").post(
        "/api/v1/field/devices/", {}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_the_same_uuid_twice_is_posted_once_and_answered_the_same(in_alpha: object, loan: Loan) -> None:
    _, token = register_device(ALPHA, ALPHA.only_here)
    client = device_client(ALPHA, token)
    item = instalment(loan.pk, sequence=1)
    first = sync(client, item)
    assert first.status_code == 200, first.content
    (answer,) = first.json()["items"]
    assert (answer["status"], answer["http_status"], answer["record_status"]) == ("created", 201, "created")
    assert answer["flags"] == []
    again = sync(client, item, item)
    assert [a["status"] for a in again.json()["items"]] == ["duplicate", "duplicate"]
    for replay in again.json()["items"]:
        assert {k: v for k, v in replay.items() if k not in ("status", "http_status")} == {
            k: v for k, v in answer.items() if k not in ("status", "http_status")
        }
        assert replay["http_status"] == 200
    with tenant_context(ALPHA.cooperative()):
        assert _repayments(loan) == 1
        payment = LoanTransaction.objects.get(pk=answer["loan_transaction"])
        assert (payment.amount_minor, payment.principal_minor, payment.interest_minor) == (
            EMI,
            EMI - FIRST_INTEREST,
            FIRST_INTEREST,
        )
        assert payment.entry_id == answer["entry"]
        assert payment.channel == "field"
        assert payment.idempotency_key == f"field:{item['client_uuid']}"
        loan.refresh_from_db()
        assert loan.principal_outstanding_minor == AFTER_ONE_EMI
        assert ledger_balance("1300-GEN") == AFTER_ONE_EMI
        assert journal_balanced()
        # The member's SMS is in the outbox once, with the posting.
        assert OutboxMessage.objects.filter(source_ref=payment.idempotency_key).count() == 1
        record = FieldRecord.objects.get(client_uuid=item["client_uuid"])
        assert (record.status, record.loan_transaction_id, record.device_sequence) == (
            "created",
            payment.pk,
            1,
        )


def test_the_same_uuid_with_other_content_is_a_conflict_and_the_rest_of_the_batch_goes_on(
    in_alpha: object, loan: Loan
) -> None:
    _, token = register_device(ALPHA, ALPHA.only_here)
    client = device_client(ALPHA, token)
    item = instalment(loan.pk, sequence=1)
    assert sync(client, item).json()["items"][0]["status"] == "created"
    changed = {**item, "amount_minor": EMI + 1}
    reused_sequence = instalment(loan.pk, sequence=1)
    malformed = {**instalment(loan.pk, sequence=3), "amount_minor": "a lot"}
    fine = instalment(loan.pk, sequence=2, amount=SECOND_INTEREST)
    answers = sync(client, changed, reused_sequence, malformed, fine).json()["items"]
    assert [(a["status"], a["http_status"], a["reason_code"]) for a in answers] == [
        ("conflict", 409, "uuid_reused"),
        ("conflict", 409, "sequence_reused"),
        ("invalid", 400, "validation_error"),
        ("created", 201, ""),
    ]
    assert "amount_minor" in answers[2]["field_errors"]
    with tenant_context(ALPHA.cooperative()):
        assert _repayments(loan) == 2
        assert FieldRecord.objects.count() == 2
        assert FieldRecord.objects.get(client_uuid=item["client_uuid"]).payload["amount_minor"] == EMI
        loan.refresh_from_db()
        # The second instalment's interest paid: no principal moved.
        assert loan.principal_outstanding_minor == AFTER_ONE_EMI
        assert ledger_balance("1300-GEN") == AFTER_ONE_EMI


def test_cash_for_a_closed_loan_or_above_the_payoff_is_held_in_suspense_for_review(
    in_alpha: object, loan: Loan
) -> None:
    _, token = register_device(ALPHA, ALPHA.only_here)
    client = device_client(ALPHA, token)
    today = business_date()
    suspense_before, cash_before = ledger_balance("2300"), ledger_balance("1100-HO")
    payoff = loan_payoff_quote(loan_id=loan.pk, on_date=today).total_minor
    above_item = instalment(loan.pk, sequence=1, amount=payoff + 1)
    above = sync(client, above_item).json()["items"][0]
    assert (above["status"], above["http_status"], above["reason_code"], above["flags"]) == (
        "needs_review",
        202,
        "repayment_above_payoff",
        ["held_in_suspense"],
    )
    assert above["loan_transaction"] is None and above["entry"] is not None
    loan_repay(actor=None, loan_id=loan.pk, amount_minor=payoff, value_date=today, idempotency_key="settle")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED
    assert (ledger_balance("1300-GEN"), _repayments(loan)) == (0, 1)
    closed_item = instalment(loan.pk, sequence=2)
    closed = sync(client, closed_item).json()["items"][0]
    assert (closed["status"], closed["reason_code"], closed["flags"]) == (
        "needs_review",
        "loan_not_active",
        ["held_in_suspense"],
    )
    # A replay answers the same and posts nothing more.
    replay = sync(client, closed_item).json()["items"][0]
    assert replay == {**closed, "status": "duplicate", "http_status": 200}
    with tenant_context(ALPHA.cooperative()):
        # The loan is untouched; the cash went from the collector's cash (the branch's: this
        # officer holds no till at the head office) to suspense, one balanced entry each.
        assert (ledger_balance("1300-GEN"), _repayments(loan)) == (0, 1)
        assert ledger_balance("2300") - suspense_before == -(payoff + 1 + EMI)
        assert ledger_balance("1100-HO") - cash_before == payoff + payoff + 1 + EMI
        held = FieldRecord.objects.filter(status="needs_review").order_by("device_sequence")
        assert [(r.payload["amount_minor"], r.reason_code, r.suspense_minor) for r in held] == [
            (payoff + 1, "repayment_above_payoff", payoff + 1),
            (EMI, "loan_not_active", EMI),
        ]
        entry = held[1].entry
        assert entry is not None and entry.idempotency_key == f"field:{closed_item['client_uuid']}"
        assert sorted(
            (line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.all()
        ) == [("1100-HO", EMI, 0), ("2300", 0, EMI)]
        # The member is told the cash was received, once per record.
        for item in (above_item, closed_item):
            (message,) = OutboxMessage.objects.filter(source_ref=f"field:{item['client_uuid']}")
            assert (message.kind, message.member_id) == ("instalment_received", loan.member_id)
        assert (
            OutboxMessage.objects.get(source_ref=f"field:{closed_item['client_uuid']}").context[
                "amount_minor"
            ]
            == EMI
        )
        assert journal_balanced()


def test_a_revoked_device_is_refused_and_only_a_manager_revokes(in_alpha: object, loan: Loan) -> None:
    device_id, token = register_device(ALPHA, ALPHA.only_here)
    client = device_client(ALPHA, token)
    own = workspace_client(ALPHA, username=ALPHA.only_here).post(f"/api/v1/field/devices/{device_id}/revoke/")
    assert own.status_code == 403
    assert own.json()["error"]["code"] == "permission_denied"
    assert sync(client, instalment(loan.pk, sequence=1)).status_code == 200
    revoked = workspace_client(ALPHA, username=ALPHA.admin).post(f"/api/v1/field/devices/{device_id}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = sync(client, instalment(loan.pk, sequence=2))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "field_device_revoked"
    with tenant_context(ALPHA.cooperative()):
        assert FieldRecord.objects.count() == 1
        assert _repayments(loan) == 1


def test_a_token_of_another_workspace_is_unknown_here(in_alpha: object, loan: Loan) -> None:
    # The attacker collects for beta and sends beta's token to alpha's host, naming alpha's loan.
    _, beta_token = register_device(BETA, BETA.only_here)
    refused = sync(device_client(ALPHA, beta_token), instalment(loan.pk, sequence=1))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "field_device_token_invalid"
    # Nor does alpha's token work at beta; and a session or an API token is not a device.
    _, alpha_token = register_device(ALPHA, ALPHA.only_here)
    with tenant_context(BETA.cooperative()):
        other = sync(device_client(BETA, alpha_token), instalment(loan.pk, sequence=1))
    assert other.status_code == 401
    session = sync(workspace_client(ALPHA, username=ALPHA.only_here), instalment(loan.pk, sequence=1))
    assert session.status_code == 401
    with tenant_context(ALPHA.cooperative()):
        assert FieldRecord.objects.count() == 0
        assert _repayments(loan) == 0
        loan.refresh_from_db()
        assert loan.principal_outstanding_minor == PRINCIPAL


def test_skewed_clocks_and_odd_value_dates_are_flagged_and_still_posted(in_alpha: object, loan: Loan) -> None:
    _, token = register_device(ALPHA, ALPHA.only_here)
    client = device_client(ALPHA, token)
    skewed = instalment(loan.pk, sequence=1, device_time=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    late = instalment(loan.pk, sequence=2, amount=SECOND_INTEREST, value_date=dt.date(2026, 4, 5))
    ahead = instalment(loan.pk, sequence=3, amount=1_00, value_date=business_date() + dt.timedelta(days=2))
    answers = sync(client, skewed, late, ahead).json()["items"]
    # The loan was disbursed in February 2026: April is long before any business date now.
    assert [(a["status"], a["flags"]) for a in answers] == [
        ("created", ["device_clock_skew"]),
        ("created", ["value_date_far_past"]),
        ("created", ["value_date_in_future"]),
    ]
    with tenant_context(ALPHA.cooperative()):
        assert FieldRecord.objects.get(client_uuid=skewed["client_uuid"]).flags == ["device_clock_skew"]
        assert _repayments(loan) == 3


def test_a_read_only_workspace_keeps_the_collections_and_posts_them_when_writable(
    in_alpha: object, loan: Loan
) -> None:
    _, token = register_device(ALPHA, ALPHA.only_here)
    client = device_client(ALPHA, token)
    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle=Lifecycle.READ_ONLY)
    items = [instalment(loan.pk, sequence=1), instalment(loan.pk, sequence=2, amount=SECOND_INTEREST)]
    answer = sync(client, *items)
    assert answer.status_code == 200, answer.content
    assert [(a["status"], a["http_status"], a["reason_code"]) for a in answer.json()["items"]] == [
        ("queued", 202, "workspace_read_only"),
        ("queued", 202, "workspace_read_only"),
    ]
    # A replay while still read-only answers the same, and posts nothing.
    assert [a["status"] for a in sync(client, *items).json()["items"]] == ["duplicate", "duplicate"]
    with tenant_context(ALPHA.cooperative()):
        assert _repayments(loan) == 0
        assert ledger_balance("1300-GEN") == PRINCIPAL
        assert field_records_post_queued() == {"created": 0, "needs_review": 0}  # still read-only
    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle=Lifecycle.ACTIVE)
    with tenant_context(ALPHA.cooperative()):
        assert field_records_post_queued() == {"created": 2, "needs_review": 0}
        assert field_records_post_queued() == {"created": 0, "needs_review": 0}
        assert _repayments(loan) == 2
        loan.refresh_from_db()
        assert loan.principal_outstanding_minor == AFTER_ONE_EMI
        assert ledger_balance("1300-GEN") == AFTER_ONE_EMI
        assert set(FieldRecord.objects.values_list("status", flat=True)) == {"created"}
    replay: Any = sync(client, items[0]).json()["items"][0]
    assert (replay["status"], replay["record_status"]) == ("duplicate", "created")


def test_the_command_posts_what_was_queued(in_alpha: object, loan: Loan) -> None:
    from io import StringIO

    from django.core.management import call_command

    _, token = register_device(ALPHA, ALPHA.only_here)
    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle=Lifecycle.READ_ONLY)
    assert sync(device_client(ALPHA, token), instalment(loan.pk, sequence=1)).json()["items"][0][
        "status"
    ] == ("queued")
    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle=Lifecycle.ACTIVE)
    out = StringIO()
    call_command("field_post_queued", ALPHA.slug, stdout=out)
    assert out.getvalue().strip() == "alpha: 1 posted, 0 left for review."
    with tenant_context(ALPHA.cooperative()):
        loan.refresh_from_db()
        assert loan.principal_outstanding_minor == AFTER_ONE_EMI


def test_a_payment_brought_by_another_member_names_them_and_an_unknown_one_is_held(
    in_alpha: object, loan: Loan, borrower: Any
) -> None:
    from tests.core_banking.savings.conftest import make_member

    neighbour = make_member("HO-000102")
    _, token = register_device(ALPHA, ALPHA.only_here)
    client = device_client(ALPHA, token)
    brought = {**instalment(loan.pk, sequence=1), "paid_by_member": neighbour.pk}
    unknown = {**instalment(loan.pk, sequence=2), "paid_by_member": neighbour.pk + 1000}
    answers = sync(client, brought, unknown).json()["items"]
    assert [(a["status"], a["reason_code"]) for a in answers] == [
        ("created", ""),
        ("needs_review", "not_found"),
    ]
    with tenant_context(ALPHA.cooperative()):
        payment = LoanTransaction.objects.get(pk=answers[0]["loan_transaction"])
        # Posted to the borrower's loan; the member who brought it is named on the record and memo.
        assert (payment.loan_id, payment.amount_minor) == (loan.pk, EMI)
        assert str(neighbour.pk) in payment.memo
        assert (
            FieldRecord.objects.get(client_uuid=brought["client_uuid"]).payload["paid_by_member"]
            == neighbour.pk
        )
        loan.refresh_from_db()
        assert loan.principal_outstanding_minor == AFTER_ONE_EMI


def test_beat_posts_what_was_queued_once_the_workspace_may_post_again(in_alpha: object, loan: Loan) -> None:
    from django.conf import settings

    from field.tasks import field_queued_post

    entry = settings.CELERY_BEAT_SCHEDULE["workspace-field-queued-post"]
    assert entry["task"] == field_queued_post.name and "tenant_schemas" not in entry  # every live workspace
    _, token = register_device(ALPHA, ALPHA.only_here)
    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle=Lifecycle.READ_ONLY)
    sync(device_client(ALPHA, token), instalment(loan.pk, sequence=1))
    with tenant_context(ALPHA.cooperative()):
        assert field_queued_post.apply().get() == {"created": 0, "needs_review": 0}
    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle=Lifecycle.ACTIVE)
    with tenant_context(ALPHA.cooperative()):
        assert field_queued_post.apply().get() == {"created": 1, "needs_review": 0}
        loan.refresh_from_db()
        assert loan.principal_outstanding_minor == AFTER_ONE_EMI


def test_value_dates_before_the_phone_s_previous_upload_are_flagged(in_alpha: object, loan: Loan) -> None:
    from django.utils import timezone

    device_id, token = register_device(ALPHA, ALPHA.only_here)
    client = device_client(ALPHA, token)
    today = business_date()
    previous = dt.datetime.combine(today - dt.timedelta(days=3), dt.time(12), tzinfo=dt.UTC)
    with tenant_context(ALPHA.cooperative()):
        FieldDevice.objects.filter(pk=device_id).update(last_sync_at=previous)

    def dated(sequence: int, day: dt.date) -> dict[str, Any]:
        return instalment(loan.pk, sequence=sequence, amount=1_00, value_date=day)

    first = sync(
        client,
        dated(1, today - dt.timedelta(days=4)),
        dated(2, today - dt.timedelta(days=3)),
        dated(3, today),
    )
    assert [answer["flags"] for answer in first.json()["items"]] == [["value_date_before_last_sync"], [], []]
    # The next batch a moment later is the same session: the same window, though it just uploaded.
    second = sync(client, dated(4, today - dt.timedelta(days=2)), dated(5, today - dt.timedelta(days=4)))
    assert [answer["flags"] for answer in second.json()["items"]] == [[], ["value_date_before_last_sync"]]
    # After a pause a new session opens on the day of the last upload.
    with tenant_context(ALPHA.cooperative()):
        last = timezone.now() - dt.timedelta(minutes=20)
        FieldDevice.objects.filter(pk=device_id).update(last_sync_at=last)
        window = timezone.localdate(last)
    third = sync(client, dated(6, window - dt.timedelta(days=1)), dated(7, window))
    assert [answer["flags"] for answer in third.json()["items"]] == [["value_date_before_last_sync"], []]
    with tenant_context(ALPHA.cooperative()):
        assert FieldDevice.objects.get(pk=device_id).sync_window_from == window
        assert _repayments(loan) == 7  # flagged for staff to look at, and posted all the same
