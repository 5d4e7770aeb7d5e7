"""Field devices, the sync of their records and staff's review of them: the one write path of the field app.

Each synced item commits on its own (one transaction per item), so one bad item never holds back
the rest. The record's UUID is the posting's idempotency key (``field:<uuid>``): a record is
posted at most once even if the record row itself were lost, and it is in every report the
moment it commits.

Collected cash is never refused. An instalment or deposit the lending or savings service refuses
(a closed loan, more than the payoff, an unknown account) is posted from the collector's cash to
suspense (2300) under the same key and kept as ``needs_review`` with the service's reason; staff
move it on with ``field_suspense_resolve``. A withdrawal is paid out only when the savings service
posts it; otherwise it waits for ``field_withdrawal_approve``. While the workspace is read-only,
money records are kept as ``queued`` and ``field_records_post_queued`` posts them once it is
writable (a withdrawal then waits for approval: the collector paid nothing out).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import io
import json
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting.day_rules import OFFICE_CHANNEL, counter_day_open_require
from core_banking.cash.services import cash_account_for_posting, cash_accounts_for_posting
from core_banking.ledger.db import copy_insert
from core_banking.ledger.models import JournalEntry
from core_banking.ledger.services import LineSpec, journal_post
from core_banking.lending.models import Loan, LoanStatus
from core_banking.lending.services import (
    BatchRepayment,
    RepaymentRequest,
    loan_payoff_quote,
    loan_repay,
    loan_repay_batch,
)
from core_banking.members.images import ACCEPTED_FORMATS
from core_banking.members.models import DocumentKind, Member, MemberGroup, MemberType
from core_banking.members.services import MemberData, member_create, member_document_upload
from core_banking.organisation.models import Branch
from core_banking.savings.models import Channel, SavingsAccount
from core_banking.savings.services import savings_deposit, savings_withdraw
from core_banking.staff.roles import Capability
from field import selectors
from field.models import FieldDevice, FieldRecord, RecordKind, RecordStatus, ReviewOutcome
from notifications.models import MessageKind
from notifications.services import outbox_enqueue
from tenants.access import workspace_writable
from tenants.db import workspace_business_date, workspace_currency, workspace_language

MAX_BATCH = 100
# Device time this far from the server's receipt time is flagged (the phone's clock is wrong).
CLOCK_SKEW_LIMIT = dt.timedelta(hours=24)
# A value date older than this before the business date is flagged (typed wrong, or synced late).
VALUE_DATE_PAST_LIMIT = dt.timedelta(days=31)
# Batches this close together are one sync session (the app uploads in small batches, one after
# another); a longer gap starts a new session, whose window opens on the day of the last upload.
SYNC_SESSION_GAP = dt.timedelta(minutes=15)


# Suspense: collected cash that could not go where the collector said, until staff move it on.
SUSPENSE_ACCOUNT_CODE = "2300"
# An admission's photo or ID scan, decoded, is at most this large.
MAX_ADMISSION_IMAGE_BYTES = 2 * 1024 * 1024


class FieldFlag:
    DEVICE_CLOCK_SKEW = "device_clock_skew"
    VALUE_DATE_IN_FUTURE = "value_date_in_future"
    VALUE_DATE_FAR_PAST = "value_date_far_past"
    # Dated before the phone's previous upload: it should have gone up then (backdated, or the
    # phone's date was wrong when it was recorded).
    VALUE_DATE_BEFORE_LAST_SYNC = "value_date_before_last_sync"
    # The money was posted from the collector's cash to suspense; staff move it on.
    HELD_IN_SUSPENSE = "held_in_suspense"
    # An attendance names someone who is not a member of the group (stored as sent, for staff).
    ATTENDANCE_NOT_IN_GROUP = "attendance_not_in_group"


class FieldReason:
    """Reason codes of stored records that are the field app's own (the others are services' codes)."""

    WITHDRAWAL_HELD = "withdrawal_held_for_approval"
    ADMISSION_PENDING = "admission_pending_approval"


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
    """One record as the device sent it, already validated in shape (``field.api``).

    ``payload`` holds the kind's fields in their JSON form (dates as ISO strings, ids as ints):
    it is what is stored and what the content hash covers.
    """

    client_uuid: uuid.UUID
    device_sequence: int
    device_time: dt.datetime
    kind: str
    payload: Mapping[str, Any]

    def content_hash(self) -> str:
        content = {
            "kind": self.kind,
            "device_sequence": self.device_sequence,
            "device_time": self.device_time.astimezone(dt.UTC).isoformat(),
            "payload": dict(self.payload),
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    def day(self) -> dt.date | None:
        """The value date, or an attendance's meeting date; None for an admission."""
        raw = self.payload.get("value_date") or self.payload.get("meeting_date")
        return dt.date.fromisoformat(raw) if raw else None


def instalment_payload(
    *, loan_id: int, amount_minor: int, value_date: dt.date, paid_by_member_id: int | None = None
) -> dict[str, Any]:
    """An instalment's payload, in the one form its content hash was first computed over."""
    return {
        "loan": loan_id,
        "amount_minor": amount_minor,
        "value_date": value_date.isoformat(),
        "paid_by_member": paid_by_member_id,
    }


_DATA_URI = re.compile(r"^data:image/(?:jpeg|jpg|png|webp);base64,(?P<data>[A-Za-z0-9+/=\s]+)$", re.ASCII)


def admission_image_bytes(data_uri: str) -> bytes:
    """The picture in an admission's ``data:image/...;base64,`` field, checked; ``ValueError`` says why.

    Only cheap checks at sync time (base64, size, a picture format Pillow recognises); the
    picture is cleaned and re-encoded when staff approve the admission.
    """
    match = _DATA_URI.match(data_uri)
    if match is None:
        raise ValueError(_("Send the picture as data:image/jpeg;base64,…"))
    if len(match["data"]) > MAX_ADMISSION_IMAGE_BYTES * 4 // 3 + 8:
        raise ValueError(_("The picture is larger than 2 MB."))
    try:
        content = base64.b64decode("".join(match["data"].split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(_("The picture is not valid base64.")) from error
    if len(content) > MAX_ADMISSION_IMAGE_BYTES:
        raise ValueError(_("The picture is larger than 2 MB."))
    Image.init()
    formats = [name for name in ACCEPTED_FORMATS if name in Image.OPEN]
    try:
        with Image.open(io.BytesIO(content), formats=formats) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(_("This is not a JPEG, PNG or WebP picture.")) from error
    return content


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


def _flags(
    item: SyncItem, received_at: dt.datetime, business_date: dt.date, window_from: dt.date | None = None
) -> list[str]:
    flags = []
    if abs(received_at - item.device_time) > CLOCK_SKEW_LIMIT:
        flags.append(FieldFlag.DEVICE_CLOCK_SKEW)
    day = item.day()
    if day is not None and day > business_date:
        flags.append(FieldFlag.VALUE_DATE_IN_FUTURE)
    elif day is not None and business_date - day > VALUE_DATE_PAST_LIMIT:
        flags.append(FieldFlag.VALUE_DATE_FAR_PAST)
    elif day is not None and window_from is not None and day < window_from:
        flags.append(FieldFlag.VALUE_DATE_BEFORE_LAST_SYNC)
    return flags


def _open_sync_window(device: FieldDevice, now: dt.datetime) -> None:
    """Start a new sync session when the last upload is older than ``SYNC_SESSION_GAP``: its window
    opens on that upload's day. Batches of one session share the window."""
    if device.last_sync_at is not None and now - device.last_sync_at <= SYNC_SESSION_GAP:
        return
    device.sync_window_from = timezone.localdate(device.last_sync_at) if device.last_sync_at else None
    FieldDevice.objects.filter(pk=device.pk).update(sync_window_from=device.sync_window_from)


def _business_date() -> dt.date:
    from django.db import connection

    tenant: Any = getattr(connection, "tenant", None)
    return tenant.business_date() if hasattr(tenant, "business_date") else timezone.localdate()


def _home_branch_id(user: Any) -> int | None:
    profile = getattr(user, "staff_profile", None)
    return profile.home_branch_id if profile is not None else None


def _where(item: SyncItem, device: FieldDevice) -> tuple[int | None, int | None]:
    """The branch and group a record concerns: its loan's, account's or group's (else the collector's)."""
    payload = item.payload
    found: tuple[int, int | None] | None = None
    if item.kind == RecordKind.INSTALMENT:
        found = Loan.objects.filter(pk=payload["loan"]).values_list("branch_id", "member__group_id").first()
    elif item.kind in (RecordKind.SAVINGS_DEPOSIT, RecordKind.WITHDRAWAL_REQUEST):
        found = (
            SavingsAccount.objects.filter(pk=payload["account"])
            .values_list("branch_id", "member__group_id")
            .first()
        )
    else:
        group = MemberGroup.objects.filter(pk=payload["group"]).values_list("branch_id", "pk").first()
        found = (group[0], group[1]) if group else None
    if found is None:
        return _home_branch_id(device.user), None
    return found


def _in_workspace_language(text: Callable[[], str]) -> str:
    """Ledger memos are in the cooperative's language: the books read in one language."""
    with translation.override(workspace_language()):
        return text()[:300]


def _refused(record: FieldRecord, refusal: BusinessRuleViolation) -> None:
    record.status = RecordStatus.NEEDS_REVIEW
    record.reason_code = str(refusal.code)
    record.reason = refusal.message


def _hold_in_suspense(
    record: FieldRecord,
    device: FieldDevice,
    refusal: BusinessRuleViolation,
    *,
    branch: Branch,
    cash_code: str,
    what: str,
    message: Callable[[], None] | None = None,
) -> None:
    """Post refused collected cash from the collector's cash to suspense, under the record's key.

    The record stays ``needs_review`` with the service's reason. Should the ledger refuse even
    this (a closed period), nothing is posted and the record waits for review as it is.
    """
    _refused(record, refusal)
    amount = int(record.payload["amount_minor"])
    memo = _in_workspace_language(
        lambda: (
            _("Field collection held in suspense: %(what)s (%(reason)s)")
            % {"what": what, "reason": refusal.code}
        )
    )
    try:
        with transaction.atomic():
            entry = journal_post(
                idempotency_key=f"field:{record.client_uuid}",
                value_date=dt.date.fromisoformat(record.payload["value_date"]),
                branch=branch,
                memo=memo,
                lines=[
                    LineSpec(cash_code, debit_minor=amount),
                    LineSpec(SUSPENSE_ACCOUNT_CODE, credit_minor=amount),
                ],
                actor=device.user,
            )
            if message is not None:
                message()
    except BusinessRuleViolation:
        return
    record.entry = entry
    record.suspense_minor = amount
    record.flags = [*record.flags, FieldFlag.HELD_IN_SUSPENSE]
    record.posted_at = timezone.now()


def _check_paid_by(payload: Mapping[str, Any]) -> int | None:
    paid_by = payload.get("paid_by_member")
    if paid_by and not Member.objects.filter(pk=paid_by).exists():
        raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such member brought this payment."))
    return int(paid_by) if paid_by else None


def _brought_by(number: str, paid_by: int | None) -> str:
    if not paid_by:
        return number
    return _("%(loan)s, brought by member %(member)s") % {"loan": number, "member": paid_by}


def _instalment_message(loan: Loan, record: FieldRecord) -> Callable[[], None]:
    """The member's receipt SMS for cash held in suspense: received, and what the loan still owes."""

    def write() -> None:
        value_date = dt.date.fromisoformat(record.payload["value_date"])
        owed = 0
        if loan.status != LoanStatus.CLOSED:
            try:
                owed = loan_payoff_quote(loan_id=loan.pk, on_date=value_date).total_minor
            except BusinessRuleViolation:
                owed = loan.principal_outstanding_minor + loan.interest_receivable_minor
        outbox_enqueue(
            kind=MessageKind.INSTALMENT_RECEIVED,
            source_ref=f"field:{record.client_uuid}",
            member=loan.member,
            context={
                "amount_minor": int(record.payload["amount_minor"]),
                "currency": workspace_currency(),
                "loan": loan.number,
                "value_date": value_date.isoformat(),
                "outstanding_minor": owed,
                "next_due_date": None,
                "next_due_minor": 0,
            },
        )

    return write


def _home_branch(user: Any) -> Branch:
    return Branch.objects.get(home_staff__user=user)


def _branch_or_home(branch: Branch | None, device: FieldDevice) -> Branch:
    return branch if branch is not None else _home_branch(device.user)


def _post_instalment(record: FieldRecord, device: FieldDevice) -> None:
    payload = record.payload
    loan = Loan.objects.select_related("branch", "member").filter(pk=payload["loan"]).first()
    branch = _branch_or_home(loan.branch if loan else None, device)
    cash_code = cash_account_for_posting(actor=device.user, branch=branch)
    try:
        with transaction.atomic():
            if loan is None:
                raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such loan."))
            paid_by = _check_paid_by(payload)
            payment = loan_repay(
                actor=device.user,
                loan_id=loan.pk,
                amount_minor=int(payload["amount_minor"]),
                value_date=dt.date.fromisoformat(payload["value_date"]),
                idempotency_key=f"field:{record.client_uuid}",
                cash_account=cash_code,
                channel=Channel.FIELD,
                memo=_brought_by(loan.number, paid_by),
            )
    except BusinessRuleViolation as refusal:
        _hold_in_suspense(
            record,
            device,
            refusal,
            branch=branch,
            cash_code=cash_code,
            what=loan.number if loan else str(payload["loan"]),
            message=_instalment_message(loan, record) if loan is not None else None,
        )
        return
    record.status = RecordStatus.CREATED
    record.reason_code = record.reason = ""
    record.loan_transaction = payment
    record.entry_id = payment.entry_id
    record.posted_at = timezone.now()


def _post_deposit(record: FieldRecord, device: FieldDevice) -> None:
    payload = record.payload
    account = SavingsAccount.objects.select_related("branch").filter(pk=payload["account"]).first()
    branch = _branch_or_home(account.branch if account else None, device)
    cash_code = cash_account_for_posting(actor=device.user, branch=branch)
    try:
        with transaction.atomic():
            if account is None:
                raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such savings account."))
            paid_by = _check_paid_by(payload)
            movement = savings_deposit(
                account_id=account.pk,
                amount_minor=int(payload["amount_minor"]),
                value_date=dt.date.fromisoformat(payload["value_date"]),
                idempotency_key=f"field:{record.client_uuid}",
                actor=device.user,
                channel=Channel.FIELD,
                memo=_("brought by member %(member)s") % {"member": paid_by} if paid_by else "",
                counter_account_code=cash_code,
            )
    except BusinessRuleViolation as refusal:
        # No SMS: the deposit message states the account's balance, which this money is not in.
        _hold_in_suspense(
            record,
            device,
            refusal,
            branch=branch,
            cash_code=cash_code,
            what=account.number if account else str(payload["account"]),
        )
        return
    record.status = RecordStatus.CREATED
    record.reason_code = record.reason = ""
    record.savings_transaction = movement
    record.entry_id = movement.entry_id
    record.posted_at = timezone.now()


def _post_withdrawal(record: FieldRecord, device: FieldDevice) -> None:
    """Pay out only what the savings service posts now; anything else waits for a manager."""
    payload = record.payload
    account = SavingsAccount.objects.select_related("branch").filter(pk=payload["account"]).first()
    try:
        with transaction.atomic():
            if account is None:
                raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such savings account."))
            movement = savings_withdraw(
                account_id=account.pk,
                amount_minor=int(payload["amount_minor"]),
                value_date=dt.date.fromisoformat(payload["value_date"]),
                idempotency_key=f"field:{record.client_uuid}",
                actor=device.user,
                channel=Channel.FIELD,
                counter_account_code=cash_account_for_posting(actor=device.user, branch=account.branch),
            )
    except BusinessRuleViolation as refusal:
        _refused(record, refusal)
        if refusal.code == ErrorCode.INSUFFICIENT_BALANCE:
            record.reason_code = FieldReason.WITHDRAWAL_HELD
            record.reason = _(
                "More than the available balance: held for a manager's approval. Do not pay out. (%(detail)s)"
            ) % {"detail": refusal.message}
        return
    record.status = RecordStatus.CREATED
    record.reason_code = record.reason = ""
    record.savings_transaction = movement
    record.entry_id = movement.entry_id
    record.posted_at = timezone.now()


def _post_attendance(record: FieldRecord, device: FieldDevice) -> None:
    if record.group_id is None:
        _refused(record, BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such group.")))
        return
    named = {int(member_id) for key in ("present", "absent") for member_id in record.payload.get(key) or ()}
    members = set(Member.objects.filter(group_id=record.group_id, pk__in=named).values_list("pk", flat=True))
    if named - members and FieldFlag.ATTENDANCE_NOT_IN_GROUP not in record.flags:
        record.flags = [*record.flags, FieldFlag.ATTENDANCE_NOT_IN_GROUP]
    record.status = RecordStatus.CREATED
    record.reason_code = record.reason = ""


def _post_admission(record: FieldRecord, device: FieldDevice) -> None:
    record.status = RecordStatus.NEEDS_REVIEW
    record.reason_code = FieldReason.ADMISSION_PENDING
    record.reason = _("A new member application: waits for a manager's approval.")
    if record.group_id is None:
        record.reason += " " + _("The group named is unknown; choose the branch and group when approving.")


_POSTERS: dict[str, Callable[[FieldRecord, FieldDevice], None]] = {
    RecordKind.INSTALMENT: _post_instalment,
    RecordKind.SAVINGS_DEPOSIT: _post_deposit,
    RecordKind.WITHDRAWAL_REQUEST: _post_withdrawal,
    RecordKind.ATTENDANCE: _post_attendance,
    RecordKind.ADMISSION: _post_admission,
}


def _post(record: FieldRecord, device: FieldDevice) -> None:
    """Post a record through its service (or store it, for kinds that post nothing).

    Runs inside the record's transaction; a posting has its own savepoint, so a refusal rolls
    back only the posting and the record is kept.
    """
    _POSTERS[record.kind](record, device)


def _read_only(record: FieldRecord, device: FieldDevice) -> None:
    """While the workspace is read-only: money waits (a withdrawal for approval: nothing was paid)."""
    if record.kind in (RecordKind.INSTALMENT, RecordKind.SAVINGS_DEPOSIT):
        record.reason_code = str(ErrorCode.WORKSPACE_READ_ONLY)
        record.reason = _("The workspace is read-only; posted when it is writable again.")
    elif record.kind == RecordKind.WITHDRAWAL_REQUEST:
        record.status = RecordStatus.NEEDS_REVIEW
        record.reason_code = FieldReason.WITHDRAWAL_HELD
        record.reason = _("The workspace is read-only: held for a manager's approval. Do not pay out.")
    else:
        _post(record, device)


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
    branch_id, group_id = _where(item, device)
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
                payload=dict(item.payload),
                content_hash=content_hash,
                status=RecordStatus.QUEUED,
                flags=_flags(item, received_at, business_date, device.sync_window_from),
                collector=device.user,
                value_date=item.day() or timezone.localdate(item.device_time),
                amount_minor=int(item.payload.get("amount_minor") or 0),
                branch_id=branch_id,
                group_id=group_id,
            )
            if writable:
                _post(record, device)
            else:
                _read_only(record, device)
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


def _known_answers(device: FieldDevice, items: list[SyncItem]) -> dict[int, ItemAnswer]:
    """Answers for the items synced before (duplicate or conflict), by position, in two queries."""
    # One look-up, the batch's values bound as two arrays (one parameter each, planned once).
    found = list(
        FieldRecord.objects.raw(
            "SELECT id, client_uuid, device_id, device_sequence FROM field_fieldrecord "
            "WHERE client_uuid = ANY(%s::uuid[]) OR (device_id = %s AND device_sequence = ANY(%s::bigint[]))",
            [[item.client_uuid for item in items], device.pk, [item.device_sequence for item in items]],
        )
    )
    earlier = {record.client_uuid for record in found}
    sequences_used = {record.device_sequence for record in found if record.device_id == device.pk}
    known: dict[int, ItemAnswer] = {}
    for position, item in enumerate(items):
        if item.client_uuid in earlier or item.device_sequence in sequences_used:
            answer = _existing(device, item, item.content_hash())
            if answer is not None:
                known[position] = answer
    return known


@dataclass
class _Collected:
    """A new instalment of the batch, with what posting it needs."""

    position: int
    item: SyncItem
    record: FieldRecord
    loan: tuple[Any, ...] | None  # (id, number, branch id, group id), None for an unknown loan
    paid_by: int | None


def _instalments_together(
    device: FieldDevice, positions: list[int], items: list[SyncItem], business_date: dt.date
) -> dict[int, ItemAnswer]:
    """Store and post the batch's new instalments in one transaction (``loan_repay_batch``).

    One commit for the lot instead of one per instalment: the sync of a meeting's collections
    costs about what one repayment does. Each instalment is still posted exactly as
    ``loan_repay`` posts it, under its own key; what the lending service refuses is held in
    suspense as one at a time would be. The records are written last: should a concurrent sync
    of the same items have stored them first, the whole transaction rolls back (IntegrityError)
    and the caller takes the items one at a time, which answers them as duplicates.
    """
    chosen = [items[position] for position in positions]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.id, l.number, l.branch_id, m.group_id FROM lending_loan l "
            "JOIN members_member m ON m.id = l.member_id WHERE l.id = ANY(%s::bigint[])",
            [sorted({int(item.payload["loan"]) for item in chosen})],
        )
        loans = {row[0]: row for row in cursor.fetchall()}
    brought_by = {
        int(item.payload["paid_by_member"]) for item in chosen if item.payload.get("paid_by_member")
    }
    members = set(Member.objects.filter(pk__in=brought_by).values_list("pk", flat=True))
    home_branch_id = _home_branch_id(device.user)
    branch_ids = {loan[2] for loan in loans.values()} | ({home_branch_id} if home_branch_id else set())
    cash_codes = cash_accounts_for_posting(
        actor=device.user, branches=list(Branch.objects.filter(pk__in=branch_ids))
    )
    received_at = timezone.now()
    collected: list[_Collected] = []
    requests: list[RepaymentRequest] = []
    by_request: list[_Collected] = []
    for position, item in zip(positions, chosen, strict=True):
        loan = loans.get(int(item.payload["loan"]))
        branch_id: int | None = loan[2] if loan else home_branch_id
        record = FieldRecord(
            client_uuid=item.client_uuid,
            device=device,
            device_sequence=item.device_sequence,
            device_time=item.device_time,
            received_at=received_at,
            kind=item.kind,
            payload=dict(item.payload),
            content_hash=item.content_hash(),
            status=RecordStatus.QUEUED,
            flags=_flags(item, received_at, business_date, device.sync_window_from),
            collector=device.user,
            value_date=item.day() or timezone.localdate(item.device_time),
            amount_minor=int(item.payload.get("amount_minor") or 0),
            branch_id=branch_id,
            group_id=loan[3] if loan else None,
        )
        paid_by = item.payload.get("paid_by_member")
        entry = _Collected(position, item, record, loan, int(paid_by) if paid_by else None)
        collected.append(entry)
        if loan is None or branch_id is None or (entry.paid_by is not None and entry.paid_by not in members):
            continue  # refused below, one at a time: held in suspense with the service's reason
        requests.append(
            RepaymentRequest(
                loan_id=loan[0],
                amount_minor=record.amount_minor,
                value_date=dt.date.fromisoformat(item.payload["value_date"]),
                idempotency_key=f"field:{item.client_uuid}",
                memo=_brought_by(loan[1], entry.paid_by),
                cash_account=cash_codes[branch_id],
            )
        )
        by_request.append(entry)
    with transaction.atomic():
        results = loan_repay_batch(repayments=requests, actor=device.user, channel=Channel.FIELD)
        outcomes: dict[int, BatchRepayment] = {
            entry.position: result for entry, result in zip(by_request, results, strict=True)
        }
        now = timezone.now()
        for entry in collected:
            result = outcomes.get(entry.position)
            if result is not None and result.error is None:
                entry.record.status = RecordStatus.CREATED
                entry.record.loan_transaction_id = result.loan_transaction_id
                entry.record.entry_id = result.entry_id
                entry.record.posted_at = now
            else:
                # Refused: the same path as one at a time (the refusal explained, the cash held).
                _post_instalment(entry.record, device)
        copy_insert(FieldRecord, [entry.record for entry in collected])
    status = {
        RecordStatus.CREATED: Answer.CREATED,
        RecordStatus.NEEDS_REVIEW: Answer.NEEDS_REVIEW,
        RecordStatus.QUEUED: Answer.QUEUED,
    }
    return {
        entry.position: _answer(entry.record, status[RecordStatus(entry.record.status)])
        for entry in collected
    }


def _retry_answer(item: SyncItem) -> ItemAnswer:
    return ItemAnswer(
        client_uuid=str(item.client_uuid),
        status=Answer.RETRY,
        reason_code="retry",
        reason=_("Not stored this time; send it again."),
    )


def field_sync(*, device: FieldDevice, items: list[SyncItem]) -> list[ItemAnswer]:
    """Store and post a batch from one device.

    New instalments are stored and posted together, in one transaction (``_instalments_together``);
    every other item, and the instalments again should that transaction fail, one by one, each in
    its own transaction, so one bad item never holds back the rest. Call it outside any transaction.
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
        if item.kind not in RecordKind.values:
            raise BusinessRuleViolation(ErrorCode.VALIDATION_ERROR, _("Unknown record kind."))
    writable = workspace_writable()
    business_date = _business_date()
    _open_sync_window(device, timezone.now())
    answers: dict[int, ItemAnswer] = _known_answers(device, items)
    uuids_seen: set[uuid.UUID] = set()
    together = []
    for position, item in enumerate(items):
        # A UUID twice in one batch: the second goes one at a time and answers as the first.
        if (
            position not in answers
            and item.kind == RecordKind.INSTALMENT
            and item.client_uuid not in uuids_seen
        ):
            together.append(position)
        uuids_seen.add(item.client_uuid)
    if writable and len(together) > 1:
        # Rolled back as a whole on a database error: these items are taken one at a time below.
        with contextlib.suppress(IntegrityError, DatabaseError):
            answers |= _instalments_together(device, together, items, business_date)
    for position, item in enumerate(items):
        if position in answers:
            continue
        try:
            answers[position] = _sync_one(device, item, writable=writable, business_date=business_date)
        except DatabaseError:
            # Rolled back with its own transaction; the other items go on.
            answers[position] = _retry_answer(item)
    FieldDevice.objects.filter(pk=device.pk).update(last_sync_at=timezone.now())
    return [answers[position] for position in range(len(items))]


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


# --- Review by staff ----------------------------------------------------------------------------


def _reviewable(actor: Any, record_id: int, *, kinds: tuple[str, ...] = ()) -> FieldRecord:
    """The record, locked, if it waits for review and ``actor`` may review it (not its own collector)."""
    record = (
        FieldRecord.objects.select_for_update(of=("self",))
        .select_related("device__user", "branch", "group")
        .filter(pk=record_id)
        .first()
    )
    profile = getattr(actor, "staff_profile", None)
    if record is None or profile is None or not selectors.record_visible(profile, record):
        raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such field record."))
    if not selectors.may_review(profile, record):
        raise BusinessRuleViolation(
            ErrorCode.PERMISSION_DENIED, _("Only a manager or accountant of its branch reviews this record.")
        )
    if record.collector_id == actor.pk:
        raise BusinessRuleViolation(
            ErrorCode.MAKER_CANNOT_CHECK,
            _("The collector of a record cannot review it; another person does."),
        )
    if record.status != RecordStatus.NEEDS_REVIEW or record.reviewed_at is not None:
        raise BusinessRuleViolation(ErrorCode.ALREADY_DECIDED, _("This record is not waiting for review."))
    if kinds and record.kind not in kinds:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("This action does not apply to this kind of record."),
            fields={"action": [_("Not for this record.")]},
        )
    return record


def _reviewed(
    record: FieldRecord,
    *,
    actor: Any,
    outcome: ReviewOutcome,
    note: str,
    entry: JournalEntry | None = None,
    changes: Mapping[str, Any] | None = None,
) -> FieldRecord:
    record.reviewed_at = timezone.now()
    record.reviewed_by = actor
    record.review_outcome = outcome
    record.review_note = note.strip()[:300]
    record.review_entry = entry
    record.save(
        update_fields=[
            "reviewed_at",
            "reviewed_by",
            "review_outcome",
            "review_note",
            "review_entry",
            "admitted_member",
        ]
    )
    audit_record(
        actor=actor,
        action=f"field.record.{outcome.value}",
        target=record,
        changes={
            "client_uuid": str(record.client_uuid),
            "kind": record.kind,
            "note": record.review_note,
            "entry": entry.pk if entry is not None else None,
            **(changes or {}),
        },
    )
    return record


def _not_theirs(field_name: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.VALIDATION_ERROR,
        _("Choose one of the member's own accounts."),
        fields={field_name: [_("Not an account of this member.")]},
    )


def field_suspense_resolve(
    *,
    actor: Any,
    record_id: int,
    outcome: ReviewOutcome,
    loan_id: int | None = None,
    savings_account_id: int | None = None,
    note: str = "",
) -> FieldRecord:
    """Move collected cash held in suspense to where it belongs, in one balanced posting, audited.

    - ``applied_to_loan``: a repayment of ``loan_id`` (a loan of the member) paid from suspense;
    - ``deposited_to_savings``: a deposit to ``savings_account_id`` (an account of the member);
    - ``refunded``: paid back in cash, from the cash of whoever pays it (``actor``'s till or the
      branch cash).
    Posted on the business date under the key ``field:<uuid>:resolve``; the services write the
    member's SMS as for any repayment or deposit.
    """
    with transaction.atomic():
        record = _reviewable(actor, record_id, kinds=(RecordKind.INSTALMENT, RecordKind.SAVINGS_DEPOSIT))
        if record.suspense_minor <= 0:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                _("No money of this record is held in suspense."),
                fields={"action": [_("Nothing to move.")]},
            )
        amount = record.suspense_minor
        today = workspace_business_date()
        key = f"field:{record.client_uuid}:resolve"
        memo = _in_workspace_language(
            lambda: _("From suspense: field collection %(uuid)s") % {"uuid": record.client_uuid}
        )
        changes: dict[str, Any] = {"amount_minor": amount}
        if outcome == ReviewOutcome.APPLIED_TO_LOAN:
            loan = Loan.objects.filter(pk=loan_id or 0).first()
            if loan is None or loan.member_id not in selectors.members_of_record(record):
                raise _not_theirs("loan")
            payment = loan_repay(
                actor=actor,
                loan_id=loan.pk,
                amount_minor=amount,
                value_date=today,
                idempotency_key=key,
                cash_account=SUSPENSE_ACCOUNT_CODE,
                channel=Channel.OFFICE,
                memo=memo,
            )
            entry = payment.entry
            changes |= {"loan": loan.number, "loan_transaction": payment.pk}
        elif outcome == ReviewOutcome.DEPOSITED_TO_SAVINGS:
            account = SavingsAccount.objects.filter(pk=savings_account_id or 0).first()
            if account is None or account.member_id not in selectors.members_of_record(record):
                raise _not_theirs("savings_account")
            movement = savings_deposit(
                account_id=account.pk,
                amount_minor=amount,
                value_date=today,
                idempotency_key=key,
                actor=actor,
                channel=Channel.OFFICE,
                memo=memo,
                counter_account_code=SUSPENSE_ACCOUNT_CODE,
            )
            entry = movement.entry
            changes |= {"savings_account": account.number, "savings_transaction": movement.pk}
        elif outcome == ReviewOutcome.REFUNDED:
            branch = record.branch or _home_branch(record.device.user)
            counter_day_open_require(branch=branch, day=today, channel=OFFICE_CHANNEL)
            cash_code = cash_account_for_posting(actor=actor, branch=branch)
            entry = journal_post(
                idempotency_key=key,
                value_date=today,
                branch=branch,
                memo=_in_workspace_language(
                    lambda: (
                        _("Refund of field collection %(uuid)s from suspense") % {"uuid": record.client_uuid}
                    )
                ),
                lines=[
                    LineSpec(SUSPENSE_ACCOUNT_CODE, debit_minor=amount),
                    LineSpec(cash_code, credit_minor=amount),
                ],
                actor=actor,
            )
            changes |= {"cash_account": cash_code}
        else:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                _("Apply it to a loan, deposit it to savings, or refund it."),
                fields={"outcome": [_("Not a way to resolve suspense.")]},
            )
        return _reviewed(record, actor=actor, outcome=outcome, note=note, entry=entry, changes=changes)


def field_withdrawal_approve(*, actor: Any, record_id: int, note: str = "") -> FieldRecord:
    """Post a held withdrawal through the savings service, paid from the collector's cash.

    Posted on the business date under the record's own key (``field:<uuid>``: it was never posted);
    the savings service still checks the balance and the product's rules, and refuses what they
    do not allow.
    """
    with transaction.atomic():
        record = _reviewable(actor, record_id, kinds=(RecordKind.WITHDRAWAL_REQUEST,))
        account = SavingsAccount.objects.select_related("branch").filter(pk=record.payload["account"]).first()
        if account is None:
            raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such savings account."))
        collector = record.device.user
        movement = savings_withdraw(
            account_id=account.pk,
            amount_minor=int(record.payload["amount_minor"]),
            value_date=workspace_business_date(),
            idempotency_key=f"field:{record.client_uuid}",
            actor=actor,
            channel=Channel.FIELD,
            memo=_in_workspace_language(
                lambda: (
                    _("Field withdrawal approved, paid by %(collector)s")
                    % {"collector": collector.get_full_name() or collector.get_username()}
                )
            ),
            counter_account_code=cash_account_for_posting(actor=collector, branch=account.branch),
        )
        record.savings_transaction = movement
        record.save(update_fields=["savings_transaction"])
        return _reviewed(
            record,
            actor=actor,
            outcome=ReviewOutcome.WITHDRAWAL_APPROVED,
            note=note,
            entry=movement.entry,
            changes={"savings_account": account.number, "savings_transaction": movement.pk},
        )


def field_admission_approve(
    *,
    actor: Any,
    record_id: int,
    member_type: MemberType,
    group: MemberGroup | None = None,
    note: str = "",
) -> FieldRecord:
    """Admit the applicant: the member through ``member_create``, the photo and ID scan through
    ``member_document_upload`` (checked and re-encoded there), in the branch of the group."""
    profile = getattr(actor, "staff_profile", None)
    if profile is None or not profile.can(Capability.MANAGE_MEMBERS):
        raise BusinessRuleViolation(
            ErrorCode.PERMISSION_DENIED, _("Your roles do not allow admitting members.")
        )
    with transaction.atomic():
        record = _reviewable(actor, record_id, kinds=(RecordKind.ADMISSION,))
        payload = record.payload
        group = group or record.group
        if group is None:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                _("Choose the member's group."),
                fields={"group": [_("Required.")]},
            )
        if not selectors.sees_branch(profile, group.branch_id):
            raise BusinessRuleViolation(ErrorCode.NOT_FOUND, _("No such group."))
        born = payload.get("date_of_birth")
        member = member_create(
            actor=actor,
            branch=group.branch,
            data=MemberData(
                full_name=payload["full_name"],
                member_type=member_type,
                join_date=workspace_business_date(),
                date_of_birth=dt.date.fromisoformat(born) if born else None,
                national_id=payload.get("national_id") or "",
                phone=payload.get("phone") or "",
                message_language=payload.get("language") or "",
                group=group,
            ),
        )
        documents = {}
        for name, kind in (("photo", DocumentKind.PHOTO), ("id_scan", DocumentKind.ID_FRONT)):
            if payload.get(name):
                try:
                    content = admission_image_bytes(payload[name])
                except ValueError as error:
                    raise BusinessRuleViolation(
                        ErrorCode.DOCUMENT_NOT_AN_IMAGE, str(error), fields={name: [str(error)]}
                    ) from error
                documents[name] = member_document_upload(
                    actor=actor, member=member, kind=kind, content=content
                ).pk
        record.admitted_member = member
        return _reviewed(
            record,
            actor=actor,
            outcome=ReviewOutcome.ADMISSION_APPROVED,
            note=note,
            changes={"member": member.number, "documents": documents},
        )


def field_record_mark_reviewed(*, actor: Any, record_id: int, note: str) -> FieldRecord:
    """Close a record's review with a note, posting nothing (a declined withdrawal or admission,
    an instalment that was never posted). Money held in suspense must be moved first."""
    if not note.strip():
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, _("Say what was done."), fields={"note": [_("Required.")]}
        )
    with transaction.atomic():
        record = _reviewable(actor, record_id)
        if record.suspense_minor > 0:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                _("Its money is held in suspense: apply it, deposit it or refund it."),
                fields={"action": [_("Move the money first.")]},
            )
        return _reviewed(record, actor=actor, outcome=ReviewOutcome.NOTED, note=note)
