"""Balance by SMS: a member texts "BAL" (or the word in their language) to the cooperative's number and
gets the savings balance and the next instalment back by SMS.

Only a number on file gets an answer: the sender's number must be a member's phone (E.164) in this
workspace. Several members may share one phone (a family, a group leader's handset): each of them
gets a message of their own, since each registered that number for their messages. A number not on
file gets no answer at all, so a stranger learns nothing, not even that the number is unknown.

Every inbound message is logged (``InboundMessage``, one row per gateway message id), with what
was done: answered, unknown number, not a balance request, or refused by the rate limit. The answer
goes through the outbox like every other message (``MessageKind.BALANCE_REPLY``, ``source_ref``
``inbound:<gateway id>:<member id>``), so the relay sends it exactly once, and a webhook the gateway
delivers twice finds its log row and queues nothing more.

The rate limit (``NOTIFICATIONS_BALANCE_REQUESTS_PER_HOUR`` answered requests per number in the last
hour, 3 by default) is counted in the log itself under a transaction-scoped advisory lock on the
number, so it holds across web processes and servers.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core_banking.lending.models import LoanInstallment, LoanStatus
from core_banking.members.models import Member, MemberStatus
from core_banking.savings.models import AccountStatus, SavingsAccount
from notifications.models import InboundMessage, InboundOutcome, MessageKind
from notifications.services import outbox_enqueue
from notifications.sms_text import unaccent_vietnamese
from tenants.db import workspace_currency

logger = structlog.get_logger(__name__)

DEFAULT_REQUESTS_PER_HOUR = 3
MAX_MEMBERS_PER_PHONE = 5  # a shared handset; more than this on one number is a data problem

# What a member may text, per language, compared after ``keyword_normalise`` (case, accents, spaces
# and trailing punctuation do not matter). English works everywhere.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "en": ("BAL", "BALANCE"),
    "bn": ("ব্যালেন্স", "ব্যালান্স", "স্থিতি", "জমা"),
    "vi": ("SD", "SO DU", "SODU", "SỐ DƯ", "KT", "KIEM TRA"),
    "th": ("ยอด", "ยอดเงิน", "คงเหลือ", "เช็คยอด"),
}


def keyword_normalise(text: str) -> str:
    """``text`` as compared with the keywords: composed, Vietnamese marks removed (đ→d), case folded,
    without spaces or the punctuation a phone adds ("Bal.", "SỐ DƯ?")."""
    text = unaccent_vietnamese(unicodedata.normalize("NFC", text))
    text = "".join(ch for ch in text if not ch.isspace())
    text = re.sub(r"[.,!?;:।'\"()\-]+", "", text)
    return text.casefold()


_NORMALISED_KEYWORDS = frozenset(keyword_normalise(word) for words in KEYWORDS.values() for word in words)


def is_balance_request(body: str) -> bool:
    return keyword_normalise(body) in _NORMALISED_KEYWORDS and bool(body.strip())


def phone_e164(raw: str) -> str:
    """The sender's number in E.164 ("" when it is not a valid number)."""
    try:
        number = phonenumbers.parse(raw.strip(), None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class InboundResult:
    message: InboundMessage
    repeated: bool = False  # the gateway delivered this message before: nothing more done
    replies: list[int] = field(default_factory=list)  # members answered


def requests_per_hour() -> int:
    return int(getattr(settings, "NOTIFICATIONS_BALANCE_REQUESTS_PER_HOUR", DEFAULT_REQUESTS_PER_HOUR))


def balance_context(member_id: int) -> dict[str, Any]:
    """What the answer says: the total of the member's active savings accounts and the next instalment
    still owed on an active loan (the earliest with something unpaid, overdue or not)."""
    total = sum(
        SavingsAccount.objects.filter(member_id=member_id, status=AccountStatus.ACTIVE).values_list(
            "balance_minor", flat=True
        )
    )
    context: dict[str, Any] = {"balance_minor": int(total), "currency": workspace_currency()}
    owed = (
        F("principal_minor")
        - F("principal_paid_minor")
        + F("interest_minor")
        - F("interest_waived_minor")
        - F("interest_paid_minor")
        + F("fee_minor")
        - F("fee_paid_minor")
        + F("penalty_minor")
        - F("penalty_paid_minor")
    )
    next_due = (
        LoanInstallment.objects.filter(loan__member_id=member_id, loan__status=LoanStatus.ACTIVE)
        .annotate(owed=owed)
        .filter(owed__gt=0)
        .order_by("due_date", "loan_id", "number")
        .values("due_date", "owed")
        .first()
    )
    if next_due is not None:
        context["next_due_date"] = next_due["due_date"].isoformat()
        context["next_due_minor"] = int(next_due["owed"])
    return context


def inbound_sms_receive(
    *, provider_message_id: str, from_phone: str, to_phone: str, body: str
) -> InboundResult:
    """Log one inbound SMS of the current workspace and, for a balance request from a number on file
    within the rate limit, queue the answer. A second delivery of the same message does nothing."""
    existing = InboundMessage.objects.filter(provider_message_id=provider_message_id).first()
    if existing is not None:
        return InboundResult(message=existing, repeated=True)
    try:
        with transaction.atomic():
            return _receive(
                provider_message_id=provider_message_id, from_phone=from_phone, to_phone=to_phone, body=body
            )
    except IntegrityError:
        # The same message delivered twice at the same moment: the other request logged it.
        existing = InboundMessage.objects.get(provider_message_id=provider_message_id)
        return InboundResult(message=existing, repeated=True)


def _receive(*, provider_message_id: str, from_phone: str, to_phone: str, body: str) -> InboundResult:
    now = timezone.now()
    phone = phone_e164(from_phone)
    members: list[Member] = []
    if phone:
        # One sender at a time: the rate limit below counts what the log already holds.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"inbound-sms:{phone}"])
        members = list(
            Member.objects.filter(phone=phone)
            .exclude(status=MemberStatus.EXITED)
            .order_by("id")[:MAX_MEMBERS_PER_PHONE]
        )
    if not members:
        outcome = InboundOutcome.UNKNOWN_NUMBER
    elif not is_balance_request(body):
        outcome = InboundOutcome.NOT_KEYWORD
    elif (
        InboundMessage.objects.filter(
            from_phone=phone, outcome=InboundOutcome.REPLIED, received_at__gt=now - dt.timedelta(hours=1)
        ).count()
        >= requests_per_hour()
    ):
        outcome = InboundOutcome.RATE_LIMITED
    else:
        outcome = InboundOutcome.REPLIED
    message = InboundMessage.objects.create(
        provider_message_id=provider_message_id,
        from_phone=phone or from_phone.strip()[:32],
        to_phone=to_phone.strip()[:32],
        body=body[:1600],
        received_at=now,
        outcome=outcome,
        member_ids=[m.pk for m in members],
        branch_ids=sorted({m.branch_id for m in members}),
    )
    replies: list[int] = []
    if outcome == InboundOutcome.REPLIED:
        for member in members:
            outbox_enqueue(
                kind=MessageKind.BALANCE_REPLY,
                source_ref=f"inbound:{provider_message_id}:{member.pk}",
                member=member,
                context=balance_context(member.pk),
            )
            replies.append(member.pk)
    logger.info(
        "inbound_sms",
        sid=provider_message_id,
        outcome=outcome,
        members=len(members),
        replies=len(replies),
    )
    return InboundResult(message=message, replies=replies)
