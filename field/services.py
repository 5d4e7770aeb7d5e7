"""Field devices and the sync of their records: the one write path of the field app.

Each synced item commits on its own (one transaction per item), so one bad item never holds back
the rest. The record's UUID is the repayment's idempotency key: a record is posted at most once
even if the record row itself were lost, and it is in every report the moment it commits.

Collected cash is never refused. Whatever the lending service refuses (a closed loan, more than
the payoff, an unknown loan) is kept as ``needs_review`` with the service's reason, unposted; a
later slice posts such money to suspense or as an advance. While the workspace is read-only the
records are kept as ``queued`` and ``field_records_post_queued`` posts them once it is writable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.cash.services import cash_account_for_posting
from core_banking.lending.models import Loan
from core_banking.lending.services import loan_repay
from core_banking.members.models import Member
from core_banking.savings.models import Channel
from core_banking.staff.roles import Capability
from field.models import FieldDevice, FieldRecord, RecordKind, RecordStatus
from tenants.access import workspace_writable

MAX_BATCH = 100
# Device time this far from the server's receipt time is flagged (the phone's clock is wrong).
CLOCK_SKEW_LIMIT = dt.timedelta(hours=24)
# A value date older than this before the business date is flagged (typed wrong, or synced late).
VALUE_DATE_PAST_LIMIT = dt.timedelta(days=31)


class FieldFlag:
    DEVICE_CLOCK_SKEW = "device_clock_skew"
    VALUE_DATE_IN_FUTURE = "value_date_in_future"
    VALUE_DATE_FAR_PAST = "value_date_far_past"


class Answer:
    """Per-item answer statuses of a sync; each with the HTTP status it would have alone."""

    CREATED = "created"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    NEEDS_REVIEW = "needs_review"
    QUEUED = "queued"
    # The database gave up on this item (a deadlock, a lost connection): nothing stored; send again.
    RETRY = "retry"


ANSWER_HTTP = {
    Answer.CREATED: 201,
    Answer.DUPLICATE: 200,
    Answer.CONFLICT: 409,
    Answer.NEEDS_REVIEW: 202,
    Answer.QUEUED: 202,
    Answer.RETRY: 503,
}


# --- Devices ------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require(actor: Any, capability: Capability) -> None:
    profile = getattr(actor, "staff_profile", None)
    if profile is None or not profile.can(capability):
        raise BusinessRuleViolation(
            ErrorCode.PERMISSION_DENIED, _("Your roles do not allow this (%s).") % capability.value
        )


@transaction.atomic
def field_device_register(*, actor: Any, label: str = "") -> tuple[FieldDevice, str]:
    """Register a phone to ``actor`` (who collects in the field); the token is returned only here."""
    _require(actor, Capability.COLLECT_IN_FIELD)
    token = secrets.token_urlsafe(32)
    device = FieldDevice.objects.create(user=actor, label=label[:80], token_hash=_token_hash(token))
    audit_record(actor=actor, action="field.device.register", target=device, changes={"label": device.label})
    return device, token


@transaction.atomic
def field_device_revoke(*, actor: Any, device_id: int) -> FieldDevice:
    """Revoke a device: every later sync with its token is refused. Revoking twice changes nothing."""
    _require(actor, Capability.MANAGE_STAFF)
    device = FieldDevice.objects.select_for_update().filter(pk=device_id).first()
    if device is None:
        raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such device."))
    if device.revoked_at is None:
        device.revoked_at = timezone.now()
        device.revoked_by = actor
        device.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(actor=actor, action="field.device.revoke", target=device)
    return device


def field_device_for_token(token: str) -> FieldDevice | None:
    """The device of this workspace holding ``token`` (revoked or not); None for any other token."""
    return FieldDevice.objects.select_related("user").filter(token_hash=_token_hash(token)).first()


# --- Sync ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncItem:
    """One instalment as the device recorded it (already validated in shape)."""

    client_uuid: uuid.UUID
    device_sequence: int
    device_time: dt.datetime
    kind: str
    loan_id: int
    amount_minor: int
    value_date: dt.date
    paid_by_member_id: int | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "loan": self.loan_id,
            "amount_minor": self.amount_minor,
            "value_date": self.value_date.isoformat(),
            "paid_by_member": self.paid_by_member_id,
        }

    def content_hash(self) -> str:
        content = {
            "kind": self.kind,
            "device_sequence": self.device_sequence,
            "device_time": self.device_time.astimezone(dt.UTC).isoformat(),
            "payload": self.payload(),
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass
class ItemAnswer:
    client_uuid: str
    status: str
    record_status: str = ""
    reason_code: str = ""
    reason: str = ""
    loan_transaction: int | None = None
    entry: int | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def http_status(self) -> int:
        return ANSWER_HTTP[self.status]


def _answer(record: FieldRecord, status: str) -> ItemAnswer:
    return ItemAnswer(
        client_uuid=str(record.client_uuid),
        status=status,
        record_status=record.status,
        reason_code=record.reason_code,
        reason=record.reason,
        loan_transaction=record.loan_transaction_id,
        entry=record.entry_id,
        flags=list(record.flags),
    )


def _flags(item: SyncItem, received_at: dt.datetime, business_date: dt.date) -> list[str]:
    flags = []
    if abs(received_at - item.device_time) > CLOCK_SKEW_LIMIT:
        flags.append(FieldFlag.DEVICE_CLOCK_SKEW)
    if item.value_date > business_date:
        flags.append(FieldFlag.VALUE_DATE_IN_FUTURE)
    elif business_date - item.value_date > VALUE_DATE_PAST_LIMIT:
        flags.append(FieldFlag.VALUE_DATE_FAR_PAST)
    return flags


def _business_date() -> dt.date:
    from django.db import connection

    tenant: Any = getattr(connection, "tenant", None)
    return tenant.business_date() if hasattr(tenant, "business_date") else timezone.localdate()


def _post(record: FieldRecord, device: FieldDevice) -> None:
    """Post an instalment record through the lending service; a refusal leaves it for review.

    Runs inside the record's transaction; the posting has its own savepoint, so a refusal rolls
    back only the posting and the record is kept.
    """
    payload = record.payload
    try:
        with transaction.atomic():
            loan = Loan.objects.select_related("branch").filter(pk=payload["loan"]).first()
            if loan is None:
                raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such loan."))
            paid_by = payload.get("paid_by_member")
            if paid_by and not Member.objects.filter(pk=paid_by).exists():
                raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such member brought this payment."))
            memo = (
                loan.number
                if not paid_by
                else _("%(loan)s, brought by member %(member)s")
                % {
                    "loan": loan.number,
                    "member": paid_by,
                }
            )
            payment = loan_repay(
                actor=device.user,
                loan_id=loan.pk,
                amount_minor=int(payload["amount_minor"]),
                value_date=dt.date.fromisoformat(payload["value_date"]),
                idempotency_key=f"field:{record.client_uuid}",
                cash_account=cash_account_for_posting(actor=device.user, branch=loan.branch),
                channel=Channel.FIELD,
                memo=memo,
            )
    except BusinessRuleViolation as refusal:
        record.status = RecordStatus.NEEDS_REVIEW
        record.reason_code = str(refusal.code)
        record.reason = refusal.message
        return
    record.status = RecordStatus.CREATED
    record.reason_code = record.reason = ""
    record.loan_transaction = payment
    record.entry_id = payment.entry_id
    record.posted_at = timezone.now()


def _existing(device: FieldDevice, item: SyncItem, content_hash: str) -> ItemAnswer | None:
    earlier = FieldRecord.objects.filter(client_uuid=item.client_uuid).first()
    if earlier is not None:
        if earlier.content_hash == content_hash and earlier.device_id == device.pk:
            return _answer(earlier, Answer.DUPLICATE)
        return ItemAnswer(
            client_uuid=str(item.client_uuid),
            status=Answer.CONFLICT,
            reason_code="uuid_reused",
            reason=_("This UUID was already synced with different content."),
        )
    if FieldRecord.objects.filter(device=device, device_sequence=item.device_sequence).exists():
        return ItemAnswer(
            client_uuid=str(item.client_uuid),
            status=Answer.CONFLICT,
            reason_code="sequence_reused",
            reason=_("This device sequence number was already used by another record."),
        )
    return None


def _sync_one(device: FieldDevice, item: SyncItem, *, writable: bool, business_date: dt.date) -> ItemAnswer:
    content_hash = item.content_hash()
    known = _existing(device, item, content_hash)
    if known is not None:
        return known
    received_at = timezone.now()
    try:
        with transaction.atomic():
            # Inserted first: a concurrent sync of the same UUID waits here on the unique index
            # until this one commits, then finds it (IntegrityError below) and answers duplicate.
            record = FieldRecord.objects.create(
                client_uuid=item.client_uuid,
                device=device,
                device_sequence=item.device_sequence,
                device_time=item.device_time,
                received_at=received_at,
                kind=item.kind,
                payload=item.payload(),
                content_hash=content_hash,
                status=RecordStatus.QUEUED,
                flags=_flags(item, received_at, business_date),
            )
            if writable:
                _post(record, device)
            else:
                record.reason_code = str(ErrorCode.WORKSPACE_READ_ONLY)
                record.reason = _("The workspace is read-only; posted when it is writable again.")
            record.save()
    except IntegrityError:
        known = _existing(device, item, content_hash)
        if known is None:
            raise
        return known
    status = {
        RecordStatus.CREATED: Answer.CREATED,
        RecordStatus.NEEDS_REVIEW: Answer.NEEDS_REVIEW,
        RecordStatus.QUEUED: Answer.QUEUED,
    }[RecordStatus(record.status)]
    return _answer(record, status)


def field_sync(*, device: FieldDevice, items: list[SyncItem]) -> list[ItemAnswer]:
    """Store and post a batch from one device, item by item, each in its own transaction.

    Call it outside any transaction: each item commits on its own.
    """
    if device.revoked_at is not None:
        raise BusinessRuleViolation(ErrorCode.FIELD_DEVICE_REVOKED, _("This device was revoked."))
    if len(items) > MAX_BATCH:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("At most %(max)d items per batch.") % {"max": MAX_BATCH},
            fields={"items": [_("At most %(max)d items.") % {"max": MAX_BATCH}]},
        )
    for item in items:
        if item.kind != RecordKind.INSTALMENT:
            raise BusinessRuleViolation(ErrorCode.VALIDATION_ERROR, _("Unknown record kind."))
    writable = workspace_writable()
    business_date = _business_date()
    answers = []
    for item in items:
        try:
            answers.append(_sync_one(device, item, writable=writable, business_date=business_date))
        except DatabaseError:
            # Rolled back with its own transaction; the other items go on.
            answers.append(
                ItemAnswer(
                    client_uuid=str(item.client_uuid),
                    status=Answer.RETRY,
                    reason_code="retry",
                    reason=_("Not stored this time; send it again."),
                )
            )
    FieldDevice.objects.filter(pk=device.pk).update(last_sync_at=timezone.now())
    return answers


def field_records_post_queued(*, limit: int = 1000) -> dict[str, int]:
    """Post the records queued while the workspace was read-only, oldest first, each on its own.

    A record another run holds is skipped (``skip_locked``); run it again until nothing is left.
    """
    counts = {RecordStatus.CREATED.value: 0, RecordStatus.NEEDS_REVIEW.value: 0}
    if not workspace_writable():
        return counts
    ids = list(
        FieldRecord.objects.filter(status=RecordStatus.QUEUED)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for record_id in ids:
        with transaction.atomic():
            record = (
                FieldRecord.objects.select_for_update(skip_locked=True)
                .select_related("device__user")
                .filter(pk=record_id, status=RecordStatus.QUEUED)
                .first()
            )
            if record is None:
                continue
            _post(record, record.device)
            record.save()
            counts[record.status] += 1
    return counts
