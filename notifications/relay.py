"""The relay: sends what the outbox holds, each message once.

One run works in one workspace (the schema of its Celery task):

1. claim: in a short transaction, ``SELECT … FOR UPDATE SKIP LOCKED`` takes a few due rows
   (pending and due, or "sending" with an expired lease), marks them "sending" with a lease and a
   claim token, and commits. Another relay skips them; a relay that dies leaves them to be
   claimed again once the lease has run out.
2. send: a small pool of threads, each with a database connection of its own put in the
   workspace's schema, renders a row's text and stores it (guarded by the claim token) before the
   first send, then makes the HTTP request. Sends overlap, so a gateway answering in 50 ms still
   carries hundreds of messages a second.
3. record: the answers are written back by the run itself, guarded by the claim token (the sends
   that succeeded in one statement per round), so a relay whose lease ran out cannot overwrite
   what the next relay recorded.

A row whose earlier attempt may have reached the gateway without our learning the answer (a
timeout, a relay that died after claiming) is marked ``unconfirmed_send``; before sending it again
the relay asks the gateway for a message with the same recipient and text, and records that one
if it exists. Only then is it sent again.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import phonenumbers
import structlog
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from notifications.delivery import delivery_status_for
from notifications.models import DeliveryStatus, OutboxMessage, OutboxStatus, SmsOptOut
from notifications.providers import sms_provider
from notifications.providers.base import (
    AmbiguousSendError,
    OutgoingSms,
    PermanentSendError,
    SendError,
    SentSms,
    SmsProvider,
    TransientSendError,
)
from tenants.access import LOCKED_OUT
from tenants.db import current_cooperative, current_schema

logger = structlog.get_logger(__name__)

GATHER_SECONDS = 0.01

# Two scans, each on its own partial index (``outbox_pending`` in id order, ``outbox_sending`` by
# lease): one condition with OR would leave the planner free to walk the whole table by id.
_CLAIM_SQL = """
WITH expired AS (
    SELECT id FROM notifications_outboxmessage
    WHERE status = 'sending' AND claimed_until < now()
    ORDER BY claimed_until
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), due AS (
    SELECT id FROM notifications_outboxmessage
    WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
    ORDER BY id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE notifications_outboxmessage AS o
SET status = 'sending',
    claimed_until = now() + make_interval(secs => %(lease)s),
    claim_token = %(token)s,
    attempts = o.attempts + 1,
    -- A lease that ran out: the relay that held it may have sent the message before it died.
    unconfirmed_send = o.unconfirmed_send OR o.status = 'sending'
FROM (SELECT id FROM expired UNION ALL SELECT id FROM due) AS claimed
WHERE o.id = claimed.id
RETURNING o.id
"""


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: half of base * 2**(attempts-1) (capped) fixed, half random.

    The fixed half keeps retries from coming back at once; the random half spreads the members of
    a burst (a gateway outage) so they do not all retry in the same second.
    """
    base = float(settings.NOTIFICATIONS_RETRY_BASE_SECONDS)
    ceiling = min(float(settings.NOTIFICATIONS_RETRY_CAP_SECONDS), base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=ceiling / 2 + (rng or random).uniform(0, ceiling / 2))


def phone_sendable(phone: str) -> bool:
    if not phone:
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return False


def status_callback_url() -> str:
    """Where the gateway reports delivery: this workspace's own host, so the callback runs in it."""
    from tenants.services import workspace_url

    cooperative = current_cooperative()
    if cooperative is None:
        return ""
    return workspace_url(cooperative).rstrip("/") + reverse("notifications_twilio_status")


@dataclass(frozen=True)
class _Job:
    id: int
    token: uuid.UUID
    attempts: int
    unconfirmed: bool
    outgoing: OutgoingSms
    # Gateway ids already recorded for other rows to the same number (never this row's message).
    exclude: frozenset[str] = frozenset()
    # The row, when its text is still to be rendered (by the sending thread, before the send).
    unrendered: OutboxMessage | None = None


@dataclass
class _Answer:
    sent: SentSms | None = None
    found_by_lookup: bool = False
    error: SendError | None = None
    # The question to the gateway failed, so nothing was sent and the doubt remains.
    lookup_failed: bool = False
    # The claim had passed to another relay before anything was sent: nothing to record.
    claim_lost: bool = False

    def still_unconfirmed(self, job: _Job) -> bool:
        """Whether the gateway may hold this message after this attempt."""
        return (job.unconfirmed and self.lookup_failed) or isinstance(self.error, AmbiguousSendError)


@dataclass
class RelayReport:
    schema: str
    sent: int = 0
    found_by_lookup: int = 0
    retried: int = 0
    dead: int = 0
    not_sendable: int = 0
    skipped: str = ""
    more: bool = False
    seconds: float = 0.0
    lost_claims: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "sent": self.sent,
            "found_by_lookup": self.found_by_lookup,
            "retried": self.retried,
            "dead": self.dead,
            "not_sendable": self.not_sendable,
            "skipped": self.skipped,
            "more": self.more,
            "seconds": round(self.seconds, 3),
            "lost_claims": self.lost_claims,
        }


def workspace_may_send() -> bool:
    """A suspended or closed workspace sends nothing; its messages wait until it is live again.

    A read-only workspace (unpaid, in grace) still sends what it owes: the messages are about money
    already moved, and the member is not the one who has not paid.
    """
    cooperative = current_cooperative()
    return cooperative is None or cooperative.lifecycle not in LOCKED_OUT


@dataclass
class Claim:
    jobs: list[_Job]
    # Rows claimed and settled without a send: no valid number, or the number opted out.
    settled: int = 0


def outbox_claim(*, limit: int, lease_seconds: float, callback: str | None = None) -> Claim:
    """Claim up to ``limit`` due rows and commit; rows that cannot be sent are settled here."""
    token = uuid.uuid4()
    claim = Claim(jobs=[])
    callback = status_callback_url() if callback is None else callback
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, {"limit": limit, "lease": lease_seconds, "token": token})
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return claim
        rows = list(OutboxMessage.objects.filter(pk__in=ids).order_by("id"))
        opted_out = set(
            SmsOptOut.objects.filter(phone__in={r.phone for r in rows}).values_list("phone", flat=True)
        )
        members_opted_out = _members_opted_out({r.member_id for r in rows if r.member_id is not None})
        unconfirmed_phones = {r.phone for r in rows if r.unconfirmed_send}
        known: dict[str, set[str]] = {}
        if unconfirmed_phones:
            for phone, sid in OutboxMessage.objects.filter(
                phone__in=unconfirmed_phones, provider_message_id__isnull=False
            ).values_list("phone", "provider_message_id"):
                if sid is not None:
                    known.setdefault(phone, set()).add(sid)
        for row in rows:
            if not phone_sendable(row.phone):
                _settle(row, OutboxStatus.NO_RECIPIENT, "")
                claim.settled += 1
                continue
            # The member may have opted out after the row was written (it was pending then).
            if row.phone in opted_out or row.member_id in members_opted_out:
                _settle(row, OutboxStatus.OPTED_OUT, "")
                claim.settled += 1
                continue
            claim.jobs.append(
                _Job(
                    id=row.pk,
                    token=token,
                    attempts=row.attempts,
                    unconfirmed=row.unconfirmed_send,
                    outgoing=OutgoingSms(to=row.phone, body=row.body, status_callback=callback),
                    exclude=frozenset(known.get(row.phone, ())),
                    unrendered=None if row.body else row,
                )
            )
    return claim


def _members_opted_out(member_ids: set[int]) -> set[int]:
    """Which of these members asked for no SMS: one query per claimed batch."""
    if not member_ids:
        return set()
    from core_banking.members.models import Member

    return set(Member.objects.filter(pk__in=member_ids, sms_opt_out=True).values_list("pk", flat=True))


def _settle(row: OutboxMessage, status: OutboxStatus, error: str) -> None:
    row.status = status
    row.claimed_until = None
    row.claim_token = None
    row.last_error = error
    row.save(update_fields=["status", "claimed_until", "claim_token", "last_error"])


def _render_and_store(job: _Job) -> _Job | None:
    """Render the row's text and store it before the first send (None: the claim was lost).

    Rendered once: every later attempt, and the lookup after an unanswered one, uses the same
    words, whatever happens to the workspace's templates meanwhile.
    """
    from notifications.rendering import outbox_message_render

    assert job.unrendered is not None
    rendered = outbox_message_render(job.unrendered)
    stored = OutboxMessage.objects.filter(
        pk=job.id, status=OutboxStatus.SENDING, claim_token=job.token
    ).update(body=rendered.body, encoding=rendered.encoding, segments=rendered.segments)
    if not stored:
        return None
    return replace(job, outgoing=replace(job.outgoing, body=rendered.body), unrendered=None)


def _send(provider: SmsProvider, job: _Job) -> _Answer:
    if job.unrendered is not None:
        try:
            ready = _render_and_store(job)
        except Exception as error:  # a broken text is retried, then dead: never sent half-made
            return _Answer(error=TransientSendError(f"rendering failed: {type(error).__name__}: {error}"))
        if ready is None:
            return _Answer(claim_lost=True)
        job = ready
    if job.unconfirmed:
        try:
            found = provider.find_sent(job.outgoing, exclude=job.exclude)
        except Exception as error:
            return _Answer(error=_as_send_error(error), lookup_failed=True)
        if found is not None:
            return _Answer(sent=found, found_by_lookup=True)
    try:
        return _Answer(sent=provider.send(job.outgoing))
    except Exception as error:
        return _Answer(error=_as_send_error(error))


def _as_send_error(error: Exception) -> SendError:
    if isinstance(error, SendError):
        return error
    return AmbiguousSendError(f"{type(error).__name__}: {error}")


_SENT_SQL = """
UPDATE notifications_outboxmessage AS o
SET status = 'sent', provider = %s, provider_message_id = v.sid, sent_at = now(),
    delivery_status = v.delivery, delivery_updated_at = now(), unconfirmed_send = false, last_error = '',
    claimed_until = NULL, claim_token = NULL
FROM (VALUES {values}) AS v(id, token, sid, delivery)
WHERE o.id = v.id AND o.claim_token = v.token AND o.status = 'sending'
RETURNING o.id
"""


def _record_sent(done: list[tuple[_Job, _Answer]], provider_name: str, report: RelayReport) -> None:
    """Write the sends that succeeded in one statement, only where this run still holds the claim."""
    if not done:
        return
    params: list[Any] = [provider_name]
    for job, answer in done:
        assert answer.sent is not None
        delivery = delivery_status_for(answer.sent.status) or DeliveryStatus.QUEUED
        params += [job.id, job.token, answer.sent.provider_message_id, delivery.value]
    values = ", ".join(["(%s::bigint, %s::uuid, %s::text, %s::text)"] * len(done))
    with connection.cursor() as cursor:
        cursor.execute(_SENT_SQL.format(values=values), params)
        recorded = {row[0] for row in cursor.fetchall()}
    for job, answer in done:
        if job.id in recorded:
            report.sent += 1
            report.found_by_lookup += int(answer.found_by_lookup)
        else:
            # Sent, but the lease ran out first: the relay that holds the row now asks the gateway
            # before sending, finds this message and records it.
            report.lost_claims += 1
            assert answer.sent is not None
            logger.warning(
                "outbox_claim_lost_after_send", message_id=job.id, sid=answer.sent.provider_message_id
            )


def _record(job: _Job, answer: _Answer, provider_name: str, report: RelayReport) -> None:
    """Write one answer back, only while this run still holds the row's claim."""
    if answer.claim_lost:
        report.lost_claims += 1
        return
    mine = OutboxMessage.objects.filter(pk=job.id, status=OutboxStatus.SENDING, claim_token=job.token)
    now = timezone.now()
    released = {"claimed_until": None, "claim_token": None}
    error = answer.error
    if answer.sent is not None:
        _record_sent([(job, answer)], provider_name, report)
        return
    assert error is not None
    text = str(error)[:1000]
    if isinstance(error, PermanentSendError):
        if error.opted_out:
            SmsOptOut.objects.get_or_create(
                phone=job.outgoing.to, defaults={"reason": f"provider {error.code}", "created_at": now}
            )
            updated = mine.update(status=OutboxStatus.OPTED_OUT, last_error=text, **released)
            report.not_sendable += updated
        else:
            updated = mine.update(status=OutboxStatus.DEAD, dead_at=now, last_error=text, **released)
            report.dead += updated
    elif job.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        updated = mine.update(
            status=OutboxStatus.DEAD,
            dead_at=now,
            last_error=text,
            # Kept: a resend asks the gateway first if the last attempt's answer never came.
            unconfirmed_send=answer.still_unconfirmed(job),
            **released,
        )
        report.dead += updated
    else:
        updated = mine.update(
            status=OutboxStatus.PENDING,
            next_attempt_at=now + retry_delay(job.attempts),
            last_error=text,
            unconfirmed_send=answer.still_unconfirmed(job),
            **released,
        )
        report.retried += updated
    if not updated:
        report.lost_claims += 1
    logger.info(
        "outbox_send_failed",
        message_id=job.id,
        attempts=job.attempts,
        kind=type(error).__name__,
        error=text,
    )


def outbox_relay_run(
    *,
    provider_factory: Callable[[], SmsProvider] = sms_provider,
    concurrency: int | None = None,
    batch: int | None = None,
    lease_seconds: float | None = None,
    max_seconds: float | None = None,
) -> RelayReport:
    """Send what is due in the current workspace until nothing is left or the time is up."""
    started = time.monotonic()
    report = RelayReport(schema=current_schema())
    if not workspace_may_send():
        cooperative = current_cooperative()
        report.skipped = cooperative.lifecycle if cooperative is not None else "unknown"
        return report
    concurrency = concurrency or settings.NOTIFICATIONS_RELAY_CONCURRENCY
    batch = batch or settings.NOTIFICATIONS_RELAY_BATCH
    lease = float(lease_seconds or settings.NOTIFICATIONS_RELAY_LEASE_SECONDS)
    budget = float(max_seconds or settings.NOTIFICATIONS_RELAY_MAX_SECONDS)

    # One gateway client and one database connection per sending thread (neither is shared between
    # threads); a thread's connection is put in this workspace's schema before it renders anything.
    local = threading.local()
    tenant = connection.tenant  # type: ignore[attr-defined]
    thread_connections: list[Any] = []
    lock = threading.Lock()

    def send_in_thread(job: _Job) -> _Answer:
        provider = getattr(local, "provider", None)
        if provider is None:
            provider = local.provider = provider_factory()
            connection.set_tenant(tenant)  # type: ignore[attr-defined]
            # Closed by the run once the pool has stopped.
            connection.inc_thread_sharing()
            with lock:
                thread_connections.append(connections[DEFAULT_DB_ALIAS])
        return _send(provider, job)

    provider_name = provider_factory().name
    callback = status_callback_url()
    in_flight: dict[Future[_Answer], _Job] = {}
    exhausted = False
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="outbox-send") as pool:
        while True:
            out_of_time = time.monotonic() - started > budget
            if not exhausted and not out_of_time and len(in_flight) <= concurrency:
                claim = outbox_claim(
                    limit=max(batch - len(in_flight), 1), lease_seconds=lease, callback=callback
                )
                report.not_sendable += claim.settled
                exhausted = not claim.jobs and not claim.settled
                for job in claim.jobs:
                    in_flight[pool.submit(send_in_thread, job)] = job
            if not in_flight:
                report.more = out_of_time and not exhausted
                break
            done, pending = wait(in_flight, return_when=FIRST_COMPLETED)
            if pending and len(done) < concurrency // 2:
                # Answers come in bunches: a few more milliseconds gather them into one write.
                done |= wait(pending, timeout=GATHER_SECONDS, return_when=ALL_COMPLETED)[0]
            answers = [(in_flight.pop(future), future.result()) for future in done]
            _record_sent(
                [(job, answer) for job, answer in answers if answer.sent is not None], provider_name, report
            )
            for job, answer in answers:
                if answer.sent is None:
                    _record(job, answer, provider_name, report)
    for thread_connection in thread_connections:
        thread_connection.close()
        thread_connection.dec_thread_sharing()
    report.seconds = time.monotonic() - started
    return report
