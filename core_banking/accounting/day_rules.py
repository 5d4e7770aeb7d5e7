"""What a closed branch day still takes: the check every money movement at a counter calls.

Once a branch's day is closed (``accounting.services.branch_day_close``), nothing more is entered
at that branch's counter for that day: office vouchers, corrections, and the office channel of the
modules' movements (savings deposits, withdrawals and transfers, share purchases and exits, cash
handovers, loan repayments and disbursements at the counter) are refused with ``day_closed``.
Some postings still land on a closed day, by channel: field collections (collected cash is never
refused; it is synced later from phones), imports and the system's own postings (interest,
maturities).

Race safety comes from the branch's day lock, a PostgreSQL advisory lock: every checked posting
holds it shared until its transaction ends, the day close takes it exclusively. A posting either
commits before the close reads the day's totals (and is in them), or checks after the close has
committed (and is refused); it never lands after the close was taken.

This module imports only models, so any service may import it without a cycle.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.organisation.models import Branch
from tenants.db import current_schema

# The channels (``core_banking.savings.models.Channel`` values) whose postings land on a closed
# day. Any other channel — the office, and any channel added later until it is named here — is
# refused there.
CHANNELS_AFTER_DAY_CLOSE = frozenset({"field", "import", "system"})
# What is typed at a branch's counter (``Channel.OFFICE``), for modules without channels of their own.
OFFICE_CHANNEL = "office"


def day_close_applies(channel: str) -> bool:
    """Whether a closed branch day refuses a posting made through ``channel``."""
    return channel not in CHANNELS_AFTER_DAY_CLOSE


def day_lock_prefix() -> str:
    """What every branch's day lock key starts with in the current workspace (the branch id follows)."""
    return f"{current_schema()}:accounting-day:"


def day_lock_key(branch_id: int) -> str:
    """The text whose hash names a branch's day lock in the current workspace."""
    return f"{day_lock_prefix()}{branch_id}"


def day_lock(branch_id: int, *, exclusive: bool) -> None:
    """Take the branch's day lock until the transaction ends: shared by postings, exclusive by a close."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(hashtextextended(%s, 0))", [day_lock_key(branch_id)])


def day_closed_error(*, branch: Branch, day: dt.date, counter: bool) -> BusinessRuleViolation:
    message = (
        _("Branch %(branch)s closed its day %(day)s: nothing more is entered at its counter for that day.")
        if counter
        else _("The day %(day)s is closed for branch %(branch)s.")
    )
    return BusinessRuleViolation(
        ErrorCode.DAY_CLOSED,
        message % {"day": day.isoformat(), "branch": branch.code},
        fields={"value_date": [_("This branch's day is closed.")]},
    )


def counter_day_open_require(*, branch: Branch, day: dt.date, channel: str) -> None:
    """Refuse a money movement at a branch's counter on a day the branch has closed.

    Call it inside the movement's transaction (``transaction.atomic``), before posting its ledger
    entry: after the movement's own row locks (account, member) is fine, but never after the
    ledger's chain head. ``branch`` is the branch whose day the entry is dated in (the entry's
    ``branch``; only its ``pk`` and ``code`` are read), ``day`` the entry's value date, ``channel``
    a ``core_banking.savings.models.Channel`` value (``"office"`` for anything typed at a counter).

    - office (and any channel not in ``CHANNELS_AFTER_DAY_CLOSE``): takes the branch's day lock
      shared, held until the transaction ends, then raises ``BusinessRuleViolation`` with
      ``ErrorCode.DAY_CLOSED`` (HTTP 409; field ``value_date``) when the day is closed. Holding the
      lock keeps a concurrent day close from being taken until this movement has committed, so
      the close's totals include it.
    - field, import, system: returns at once; such postings land on a closed day.

    A replay of an idempotency key already posted should answer with its first result before
    this check runs (or when it refuses): the first posting was made while the day was open.
    """
    if not day_close_applies(channel):
        return
    if not connection.in_atomic_block:
        # Outside a transaction the lock would end with this statement, before the posting.
        raise RuntimeError("counter_day_open_require runs inside the movement's transaction.")
    # One round trip: the lock and the read after it (accounting_counter_day_open, migration 0002).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT accounting_counter_day_open(true, %s, %s, %s)", [day_lock_key(branch.pk), branch.pk, day]
        )
        (day_open,) = cursor.fetchone()
    if not day_open:
        raise day_closed_error(branch=branch, day=day, counter=True)


def counter_day_statement_parameters(*, branch_id: int, channel: str) -> dict[str, Any]:
    """The same check inside one SQL statement (a teller's one-statement deposit): its parameters.

    The statement calls ``accounting_counter_day_open(%(day_check)s::boolean,
    %(day_lock_key)s::text, <branch id>, <day>)``, a function of the workspace's own (migration
    accounting 0002) that is true when the posting may land. It takes the day lock shared and reads
    the closes with a snapshot taken after the lock is granted (a VOLATILE PL/pgSQL function reads
    each query afresh), so a close committed while the statement waited for the lock is seen.
    """
    return {"day_check": day_close_applies(channel), "day_lock_key": day_lock_key(branch_id)}
