"""Savings deposits, withdrawal requests, attendance and admissions through the sync, on the real database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext
from django_tenants.utils import tenant_context

from control_plane.errors import BusinessRuleViolation
from core_banking.savings.models import SavingsAccount, SavingsTransaction
from core_banking.savings.services import savings_deposit
from field import selectors
from field.models import FieldRecord
from notifications.models import OutboxMessage
from tests.conftest import ALPHA, workspace_client
from tests.core_banking.lending.conftest import journal_balanced, ledger_balance
from tests.core_banking.savings.conftest import make_member
from tests.field.conftest import (
    FieldDesk,
    business_date,
    device_client,
    item,
    png_data_uri,
    register_device,
    sync,
    trial_balance_balanced,
)

pytestmark = pytest.mark.django_db

DEPOSIT = 10_000_00
MINIMUM_BALANCE = 500_00  # the voluntary product keeps Tk 500 in the account


def _till(user: Any) -> str:
    return f"1100-HO-U{user.pk}"


def _deposit(account: int, *, sequence: int, amount: int = DEPOSIT, **extra: Any) -> dict[str, Any]:
    return item(
        "savings_deposit",
        sequence=sequence,
        account=account,
        amount_minor=amount,
        value_date=business_date().isoformat(),
        **extra,
    )


def _withdrawal(account: int, *, sequence: int, amount: int) -> dict[str, Any]:
    return item(
        "withdrawal_request",
        sequence=sequence,
        account=account,
        amount_minor=amount,
        value_date=business_date().isoformat(),
    )


def test_a_savings_deposit_is_posted_once_from_the_collectors_cash(desk: FieldDesk) -> None:
    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    neighbour = make_member("HO-000150")
    deposit = _deposit(desk.account.pk, sequence=1, paid_by_member=neighbour.pk)
    savings_before = ledger_balance("2100-VOL")
    (answer,) = sync(client, deposit).json()["items"]
    assert (answer["status"], answer["http_status"], answer["record_status"], answer["flags"]) == (
        "created",
        201,
        "created",
        [],
    )
    # Sent again: the same answer; with other content under the same UUID: a conflict.
    (again,) = sync(client, deposit).json()["items"]
    assert again == {**answer, "status": "duplicate", "http_status": 200}
    changed = {**deposit, "amount_minor": DEPOSIT + 1}
    (conflict,) = sync(client, changed).json()["items"]
    assert (conflict["status"], conflict["http_status"], conflict["reason_code"]) == (
        "conflict",
        409,
        "uuid_reused",
    )
    with tenant_context(ALPHA.cooperative()):
        movement = SavingsTransaction.objects.get(idempotency_key=f"field:{deposit['client_uuid']}")
        assert (movement.amount_minor, movement.channel, movement.entry_id) == (
            DEPOSIT,
            "field",
            answer["entry"],
        )
        assert str(neighbour.pk) in movement.memo
        desk.account.refresh_from_db()
        assert desk.account.balance_minor == DEPOSIT
        assert ledger_balance(_till(desk.officer_a)) == DEPOSIT
        assert ledger_balance("2100-VOL") - savings_before == -DEPOSIT
        assert (
            OutboxMessage.objects.filter(source_ref=movement.idempotency_key, kind="savings_deposit").count()
            == 1
        )
        record = FieldRecord.objects.get(client_uuid=deposit["client_uuid"])
        assert (record.savings_transaction_id, record.amount_minor, record.group_id, record.collector_id) == (
            movement.pk,
            DEPOSIT,
            desk.group_a.pk,
            desk.officer_a.pk,
        )
        assert journal_balanced()


def test_malformed_items_of_each_kind_are_invalid_with_field_errors_and_nothing_is_stored(
    desk: FieldDesk,
) -> None:
    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    too_large = "data:image/jpeg;base64," + "A" * (3 * 1024 * 1024)
    answers = sync(
        client,
        _deposit(desk.account.pk, sequence=1, amount=0),
        item("withdrawal_request", sequence=2, amount_minor=1_00, value_date="2026-13-01"),
        item(
            "attendance",
            sequence=3,
            group=desk.group_a.pk,
            meeting_date="2026-05-05",
            present=[1],
            absent=[1],
        ),
        item(
            "admission",
            sequence=4,
            group=desk.group_a.pk,
            full_name="Rahima Begum",
            phone="not a phone",
            national_id="1234567890",
            language="bn",
            photo="data:image/png;base64,aGVsbG8gd29ybGQ=",  # "hello world": not a picture
            id_scan=too_large,
        ),
        item("lottery_ticket", sequence=5, amount_minor=1),
    ).json()["items"]
    assert [(a["status"], a["http_status"], a["reason_code"]) for a in answers] == [
        ("invalid", 400, "validation_error")
    ] * 5
    assert list(answers[0]["field_errors"]) == ["amount_minor"]
    assert set(answers[1]["field_errors"]) == {"account", "value_date"}
    assert list(answers[2]["field_errors"]) == ["absent"]
    assert set(answers[3]["field_errors"]) == {"phone", "photo", "id_scan"}
    # The workspace speaks Bangla: the message is translated (and its digits are Bangla).
    with translation.override("bn"):
        assert answers[3]["field_errors"]["id_scan"][0] == gettext("The picture is larger than 2 MB.")
    assert list(answers[4]["field_errors"]) == ["kind"]
    with tenant_context(ALPHA.cooperative()):
        assert FieldRecord.objects.filter(device__user=desk.officer_a).count() == 0


def test_a_withdrawal_within_the_balance_is_paid_and_one_beyond_it_waits_for_approval(
    desk: FieldDesk,
) -> None:
    from field.services import field_withdrawal_approve

    savings_deposit(
        account_id=desk.account.pk, amount_minor=DEPOSIT, value_date=business_date(), idempotency_key="d1"
    )
    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    within = _withdrawal(desk.account.pk, sequence=1, amount=2_000_00)
    beyond = _withdrawal(desk.account.pk, sequence=2, amount=9_000_00)  # 7,500 left to withdraw
    paid, held = sync(client, within, beyond).json()["items"]
    assert (paid["status"], paid["http_status"], paid["record_status"]) == ("created", 201, "created")
    assert (held["status"], held["http_status"], held["reason_code"], held["entry"]) == (
        "needs_review",
        202,
        "withdrawal_held_for_approval",
        None,
    )
    assert (sync(client, beyond).json()["items"][0]["status"]) == "duplicate"
    reused = _withdrawal(desk.account.pk, sequence=1, amount=1_00)  # another record, sequence 1 again
    (conflict,) = sync(client, reused).json()["items"]
    assert (conflict["status"], conflict["http_status"], conflict["reason_code"]) == (
        "conflict",
        409,
        "sequence_reused",
    )
    with tenant_context(ALPHA.cooperative()):
        desk.account.refresh_from_db()
        assert desk.account.balance_minor == DEPOSIT - 2_000_00
        assert ledger_balance(_till(desk.officer_a)) == -2_000_00  # paid out of the collector's cash
        record = FieldRecord.objects.get(client_uuid=beyond["client_uuid"])
        # A field officer does not approve withdrawals; the other officer does not even see it.
        for person, code in ((desk.officer_a, "permission_denied"), (desk.officer_b, "not_found")):
            with pytest.raises(BusinessRuleViolation) as refused:
                field_withdrawal_approve(actor=person, record_id=record.pk)
            assert refused.value.code == code
        # Still beyond the balance: the savings service refuses, nothing is posted.
        with pytest.raises(BusinessRuleViolation) as still:
            field_withdrawal_approve(actor=desk.manager, record_id=record.pk)
        assert still.value.code == "insufficient_balance"
        savings_deposit(
            account_id=desk.account.pk,
            amount_minor=5_000_00,
            value_date=business_date(),
            idempotency_key="d2",
        )
        approved = field_withdrawal_approve(
            actor=desk.manager, record_id=record.pk, note="Member came to the office"
        )
        assert (approved.review_outcome, approved.reviewed_by_id) == ("withdrawal_approved", desk.manager.pk)
        desk.account.refresh_from_db()
        assert desk.account.balance_minor == DEPOSIT - 2_000_00 + 5_000_00 - 9_000_00
        assert ledger_balance(_till(desk.officer_a)) == -11_000_00
        movement = SavingsTransaction.objects.get(idempotency_key=f"field:{beyond['client_uuid']}")
        assert (movement.amount_minor, approved.review_entry_id) == (-9_000_00, movement.entry_id)
        # Approving twice posts nothing more.
        with pytest.raises(BusinessRuleViolation) as twice:
            field_withdrawal_approve(actor=desk.manager, record_id=record.pk)
        assert twice.value.code == "already_decided"
        assert SavingsAccount.objects.get(pk=desk.account.pk).balance_minor == 4_000_00
        assert journal_balanced() and trial_balance_balanced()


def test_attendance_is_stored_and_the_latest_of_a_meeting_is_shown(desk: FieldDesk) -> None:
    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    meeting = dt.date(2026, 5, 5)
    first = item(
        "attendance",
        sequence=1,
        group=desk.group_a.pk,
        meeting_date=meeting.isoformat(),
        present=[1, 2],
        absent=[3],
    )
    later = {
        **item(
            "attendance",
            sequence=2,
            group=desk.group_a.pk,
            meeting_date=meeting.isoformat(),
            present=[1, 2, 3],
            absent=[],
        ),
        "device_time": (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat(),
    }
    unknown = item(
        "attendance", sequence=3, group=999_999, meeting_date=meeting.isoformat(), present=[], absent=[]
    )
    answers = sync(client, first, later, unknown).json()["items"]
    assert [(a["status"], a["reason_code"]) for a in answers] == [
        ("created", ""),
        ("created", ""),
        ("needs_review", "not_found"),
    ]
    assert sync(client, first).json()["items"][0]["status"] == "duplicate"
    changed = {**first, "present": [1]}
    assert sync(client, changed).json()["items"][0]["reason_code"] == "uuid_reused"
    with tenant_context(ALPHA.cooperative()):
        profile = desk.manager.staff_profile
        shown = selectors.attendance_latest(profile, group_id=desk.group_a.pk, meeting_date=meeting)
        assert shown is not None and str(shown.client_uuid) == later["client_uuid"]
        assert shown.payload["present"] == [1, 2, 3]
        records = selectors.records_of_day(profile, collector_id=desk.officer_a.pk, day=meeting)
        first_record = FieldRecord.objects.get(client_uuid=first["client_uuid"])
        assert selectors.superseded_attendance_ids(records) == {first_record.pk}
        assert FieldRecord.objects.get(client_uuid=later["client_uuid"]).entry_id is None


def test_an_admission_waits_for_approval_and_its_approval_admits_the_member_with_the_pictures(
    desk: FieldDesk,
) -> None:
    from control_plane.audit.models import AuditEvent
    from core_banking.members.models import Member, MemberDocument

    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    application = item(
        "admission",
        sequence=1,
        group=desk.group_a.pk,
        full_name="Rahima  Begum",
        phone="01711000333",
        national_id="1234567890",
        date_of_birth="1990-04-01",
        language="bn",
        photo=png_data_uri(),
        id_scan=png_data_uri((320, 200)),
    )
    (answer,) = sync(client, application).json()["items"]
    assert (answer["status"], answer["http_status"], answer["reason_code"]) == (
        "needs_review",
        202,
        "admission_pending_approval",
    )
    assert sync(client, application).json()["items"][0]["status"] == "duplicate"
    changed = {**application, "full_name": "Someone Else"}
    assert sync(client, changed).json()["items"][0]["reason_code"] == "uuid_reused"
    with tenant_context(ALPHA.cooperative()):
        record = FieldRecord.objects.get(client_uuid=application["client_uuid"])
        members_before = Member.objects.count()
    # The branch manager approves it on the record's page.
    from tests.conftest import workspace_client

    page = workspace_client(ALPHA, username="manager-ho")
    shown = page.get(f"/field/collections/records/{record.pk}/")
    assert shown.status_code == 200
    assert b"Rahima" in shown.content and b"data:image/png;base64," in shown.content
    with tenant_context(ALPHA.cooperative()):
        from core_banking.members.models import MemberType

        member_type = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})[0]
    done = page.post(
        f"/field/collections/records/{record.pk}/",
        {
            "action": "approve_admission",
            "approve_admission-member_type": member_type.pk,
            "approve_admission-group": desk.group_a.pk,
            "approve_admission-note": "Met her",
        },
    )
    assert done.status_code == 302, done.content[:2000]
    with tenant_context(ALPHA.cooperative()):
        record.refresh_from_db()
        member = record.admitted_member
        assert member is not None and Member.objects.count() == members_before + 1
        assert (member.full_name, member.phone, member.national_id, member.group_id, member.branch_id) == (
            "Rahima Begum",
            "+8801711000333",
            "1234567890",
            desk.group_a.pk,
            desk.group_a.branch_id,
        )
        assert member.date_of_birth == dt.date(1990, 4, 1)
        documents = MemberDocument.objects.filter(member=member, is_current=True)
        assert sorted((d.kind, d.width, d.height) for d in documents) == [
            ("id_front", 320, 200),
            ("photo", 64, 48),
        ]
        assert (record.review_outcome, record.reviewed_by_id) == ("admission_approved", desk.manager.pk)
        assert (
            AuditEvent.objects.filter(
                action="field.record.admission_approved", object_id=str(record.pk)
            ).count()
            == 1
        )
        assert selectors.review_queue(desk.manager.staff_profile).filter(pk=record.pk).count() == 0


def test_a_read_only_workspace_queues_deposits_and_holds_withdrawals_for_approval(desk: FieldDesk) -> None:
    from field.services import field_records_post_queued
    from tenants.models import Cooperative, Lifecycle

    savings_deposit(
        account_id=desk.account.pk, amount_minor=DEPOSIT, value_date=business_date(), idempotency_key="d1"
    )
    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle=Lifecycle.READ_ONLY)
    deposit = _deposit(desk.account.pk, sequence=1, amount=1_000_00)
    withdrawal = _withdrawal(desk.account.pk, sequence=2, amount=1_00)  # well within the balance
    meeting = item(
        "attendance", sequence=3, group=desk.group_a.pk, meeting_date="2026-05-05", present=[], absent=[]
    )
    answers = sync(client, deposit, withdrawal, meeting).json()["items"]
    assert [(a["status"], a["reason_code"]) for a in answers] == [
        ("queued", "workspace_read_only"),
        ("needs_review", "withdrawal_held_for_approval"),  # the collector pays nothing out
        ("created", ""),
    ]
    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle=Lifecycle.ACTIVE)
    with tenant_context(ALPHA.cooperative()):
        assert field_records_post_queued() == {"created": 1, "needs_review": 0}
        desk.account.refresh_from_db()
        assert desk.account.balance_minor == DEPOSIT + 1_000_00  # the deposit posted, the withdrawal not
        assert FieldRecord.objects.get(client_uuid=withdrawal["client_uuid"]).entry_id is None
        assert journal_balanced()


def test_a_deposit_for_a_closed_or_unknown_account_is_held_in_suspense(desk: FieldDesk) -> None:
    from core_banking.savings.models import AccountStatus

    SavingsAccount.objects.filter(pk=desk.account.pk).update(status=AccountStatus.CLOSED)
    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    suspense_before = ledger_balance("2300")
    closed = _deposit(desk.account.pk, sequence=1, amount=700_00)
    unknown = _deposit(desk.account.pk + 10_000, sequence=2, amount=300_00)
    answers = sync(client, closed, unknown).json()["items"]
    assert [(a["status"], a["reason_code"], a["flags"]) for a in answers] == [
        ("needs_review", "savings_account_not_active", ["held_in_suspense"]),
        ("needs_review", "not_found", ["held_in_suspense"]),
    ]
    with tenant_context(ALPHA.cooperative()):
        assert ledger_balance("2300") - suspense_before == -1_000_00
        assert ledger_balance(_till(desk.officer_a)) == 1_000_00
        assert SavingsAccount.objects.get(pk=desk.account.pk).balance_minor == 0
        # No SMS for a deposit held in suspense: the deposit message would state a balance it is not in.
        keys = [f"field:{answer['client_uuid']}" for answer in answers]
        assert OutboxMessage.objects.filter(source_ref__in=keys).count() == 0
        assert journal_balanced() and trial_balance_balanced()


def test_an_attendance_naming_someone_outside_the_group_is_stored_and_flagged(desk: FieldDesk) -> None:
    from core_banking.members.models import Member

    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    from tests.core_banking.savings.conftest import make_member

    with tenant_context(ALPHA.cooperative()):
        member_of_a = Member.objects.filter(group=desk.group_a).values_list("pk", flat=True).first()
        outsider = make_member("HO-000301", phone="+8801711000301").pk  # in no group
    assert member_of_a is not None
    meeting = "2026-05-05"
    own = item(
        "attendance",
        sequence=1,
        group=desk.group_a.pk,
        meeting_date=meeting,
        present=[member_of_a],
        absent=[],
    )
    mixed = item(
        "attendance",
        sequence=2,
        group=desk.group_a.pk,
        meeting_date=meeting,
        present=[member_of_a],
        absent=[outsider],
    )
    answers = sync(client, own, mixed).json()["items"]
    assert [a["status"] for a in answers] == ["created", "created"]
    assert "attendance_not_in_group" not in answers[0]["flags"]
    assert "attendance_not_in_group" in answers[1]["flags"]
    # Staff read the flag in their language on the record's page (alpha works in Bangla).
    with tenant_context(ALPHA.cooperative()):
        record = FieldRecord.objects.get(client_uuid=mixed["client_uuid"])
    page = workspace_client(ALPHA, username="manager-ho").get(f"/field/collections/records/{record.pk}/")
    assert page.status_code == 200
    with translation.override("bn"):
        label = gettext("Names someone outside the group")
    assert label != "Names someone outside the group"
    assert 'data-flag="attendance_not_in_group"' in page.content.decode() and label in page.content.decode()
