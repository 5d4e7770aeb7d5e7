"""The one write path into the general ledger: ``journal_post``.

Every money movement in the product ends here. The service validates, then in one transaction
locks the ledger's chain head, writes the entry and its lines, adds them to the daily balances
and moves the chain head on. PostgreSQL re-checks balance, immutability and closed periods.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.db import prepared_fetchone, server_cursor
from core_banking.ledger.models import (
    Account,
    AccountDayBalance,
    AccountKind,
    JournalEntry,
    JournalLine,
    LedgerState,
)
from core_banking.organisation.models import Branch
from tenants.access import workspace_writable_require

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class LineSpec:
    account_code: str
    debit_minor: int = 0
    credit_minor: int = 0


def payload_hash(
    *, value_date: dt.date, branch_code: str, memo: str, reverses_id: int | None, lines: Sequence[LineSpec]
) -> str:
    """SHA-256 of the entry's content in a canonical form: what an idempotency key is bound to."""
    canonical = json.dumps(
        {
            "value_date": value_date.isoformat(),
            "branch": branch_code,
            "memo": memo,
            "reverses": reverses_id,
            "lines": [[line.account_code, line.debit_minor, line.credit_minor] for line in lines],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def chained_hash(*, previous_hash: str, idempotency_key: str, content_hash: str) -> str:
    return hashlib.sha256(f"{previous_hash}:{idempotency_key}:{content_hash}".encode()).hexdigest()


def _validate_shape(idempotency_key: str, lines: Sequence[LineSpec]) -> None:
    """Checks that need no database: key, line count, one positive side per line, balance."""
    if not idempotency_key or len(idempotency_key) > 120:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "Every posting needs an idempotency key of 1-120 characters.",
            fields={"idempotency_key": ["1-120 characters."]},
        )
    if len(lines) < 2:
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_TOO_FEW_LINES,
            "A journal entry needs at least two lines.",
            fields={"lines": ["2+"]},
        )
    problems: dict[str, list[str]] = {}
    for number, line in enumerate(lines):
        amounts = (line.debit_minor, line.credit_minor)
        if not all(isinstance(amount, int) and not isinstance(amount, bool) for amount in amounts) or not (
            (line.debit_minor > 0 and line.credit_minor == 0)
            or (line.credit_minor > 0 and line.debit_minor == 0)
        ):
            problems[f"lines[{number}]"] = [
                "Exactly one of debit or credit, a positive whole number of minor units."
            ]
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.LINE_AMOUNT_INVALID, "Some lines are not valid.", fields=problems
        )
    total_debit = sum(line.debit_minor for line in lines)
    total_credit = sum(line.credit_minor for line in lines)
    if total_debit != total_credit:
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_UNBALANCED,
            f"Debits ({total_debit}) and credits ({total_credit}) differ.",
            fields={"lines": [f"Debits {total_debit} ≠ credits {total_credit}."]},
        )


def _unknown_accounts_error(codes: set[str]) -> BusinessRuleViolation:
    active = set(Account.objects.filter(code__in=codes, is_active=True).values_list("code", flat=True))
    return BusinessRuleViolation(
        ErrorCode.ACCOUNT_UNKNOWN,
        "Unknown or inactive accounts.",
        fields={"lines": [f"No active account {code}." for code in sorted(codes - active)]},
    )


def _replay(existing: JournalEntry, content_hash: str) -> JournalEntry:
    if existing.payload_hash != content_hash:
        raise _replay_conflict(existing.pk)
    return existing


def actor_id(actor: Any | None) -> int | None:
    """The id recorded for who did something: a signed-in user's, None for the system."""
    return actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None


# One statement posts an entry: it locks the chain head, inserts the entry chained on the head
# (SHA-256 computed by PostgreSQL from the locked head, the same formula as ``chained_hash``), its
# lines in the given order, the day balances, and moves the head. The entry is inserted only when
# every account code names an active account; a key already used inserts nothing (the caller then
# replays). PostgreSQL's triggers re-check balance, immutability and closed periods.
#
# A service whose movement has writes of its own (a deposit's balance, its savings transaction and
# SMS) can run them in the same statement, one round trip in all (``posting_statement``): a
# ``guard`` CTE runs first (it takes the caller's row locks before the chain head, the lock order
# used everywhere) and the entry is written only when it returned a row; ``after`` CTEs may read
# ``entry`` and ``guard``. Such a statement must never leave the guard's writes without their
# entry, so anything that would stop the entry (a used key, a closed day, an unknown account)
# fails the whole statement instead; the caller then takes the step-by-step path, which replays
# or explains.
_HEAD = "SELECT id, last_entry_hash, closed_through FROM ledger_ledgerstate"
_ENTRY_INSERT = """INSERT INTO ledger_journalentry (value_date, branch_id, memo, idempotency_key,
        payload_hash, previous_hash, entry_hash, reverses_id, posted_at, posted_by_id)
    SELECT %(value_date)s::date, %(branch_id)s::bigint, %(memo)s::text, %(key)s::text,
        %(payload_hash)s::text, head.last_entry_hash,
        encode(sha256(convert_to(
            head.last_entry_hash || ':' || %(key)s::text || ':' || %(payload_hash)s::text, 'UTF8')), 'hex'),
        %(reverses_id)s::bigint, now(), %(actor_id)s::bigint
    FROM head"""
# The plain statement skips an entry it may not write and says why afterwards; the combined one
# lets PostgreSQL's checks fail the statement (a missing account leaves the entry without its
# lines: the balance trigger refuses it), so the guard's writes never stand alone.
_ENTRY_ALLOWED = """WHERE (SELECT count(*) FROM accounts) = %(code_count)s::bigint
        AND (head.closed_through IS NULL OR head.closed_through < %(value_date)s::date)"""
_LINES_AND_BALANCES = """lines AS (
    INSERT INTO ledger_journalline (entry_id, account_id, debit_minor, credit_minor)
    SELECT entry.id, accounts.id, given.debit, given.credit
    FROM entry,
        unnest(%(line_codes)s::text[], %(debits)s::bigint[], %(credits)s::bigint[])
            WITH ORDINALITY AS given(code, debit, credit, position)
        JOIN accounts ON accounts.code = given.code
    ORDER BY given.position
), balances AS (
    INSERT INTO ledger_accountdaybalance (account_id, branch_id, day, debit_minor, credit_minor)
    SELECT accounts.id, %(branch_id)s::bigint, %(value_date)s::date, SUM(given.debit), SUM(given.credit)
    FROM entry,
        unnest(%(line_codes)s::text[], %(debits)s::bigint[], %(credits)s::bigint[])
            AS given(code, debit, credit)
        JOIN accounts ON accounts.code = given.code
    GROUP BY accounts.id
    ORDER BY accounts.id
    ON CONFLICT (account_id, branch_id, day) DO UPDATE SET
        debit_minor = ledger_accountdaybalance.debit_minor + EXCLUDED.debit_minor,
        credit_minor = ledger_accountdaybalance.credit_minor + EXCLUDED.credit_minor
), moved AS (
    UPDATE ledger_ledgerstate SET last_entry_hash = entry.entry_hash
    FROM entry, head WHERE ledger_ledgerstate.id = head.id
)"""
_ACCOUNTS = "SELECT id, code FROM ledger_account WHERE code = ANY(%(codes)s::text[]) AND is_active"
_ENTRY_COLUMNS = "entry.id, entry.entry_hash, entry.previous_hash, entry.posted_at, head.closed_through"

# Built from the constant fragments above; parameters are always bound, never formatted in.
_POST_ONE_SQL = f"""
WITH head AS ({_HEAD} FOR UPDATE), accounts AS ({_ACCOUNTS}), entry AS (
    {_ENTRY_INSERT}
    {_ENTRY_ALLOWED}
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, entry_hash, previous_hash, posted_at
), {_LINES_AND_BALANCES}
SELECT {_ENTRY_COLUMNS}
FROM head LEFT JOIN entry ON true
"""  # noqa: S608


def posting_statement(*, guard: str, after: str, columns: str) -> str:
    """One statement: the caller's ``guard`` CTE, the posting, the caller's ``after`` CTEs.

    It returns at most one row: the entry's columns (as ``_POST_ONE_SQL``) then ``columns``, or
    no row when the guard matched nothing (nothing was written). The entry's parameters are
    those ``posting_parameters`` returns. The fragments are the callers' constant SQL.
    """
    return f"""
WITH guard AS ({guard}), head AS ({_HEAD} WHERE EXISTS (SELECT 1 FROM guard) FOR UPDATE),
accounts AS ({_ACCOUNTS}), entry AS (
    {_ENTRY_INSERT}
    RETURNING id, entry_hash, previous_hash, posted_at
), {_LINES_AND_BALANCES}, {after}
SELECT {_ENTRY_COLUMNS}, {columns}
FROM guard, head LEFT JOIN entry ON true
"""  # noqa: S608


def posting_parameters(
    *,
    idempotency_key: str,
    value_date: dt.date,
    branch: Branch,
    lines: Sequence[LineSpec],
    memo: str,
    actor: Any | None,
    reverses: JournalEntry | None = None,
) -> dict[str, Any]:
    """The checked parameters of one posting statement (its content hash under "payload_hash").

    Every single posting builds its statement from these, so this is where a workspace that is
    read-only or suspended for its subscription refuses to post (``tenants.access``).
    """
    workspace_writable_require()
    _validate_shape(idempotency_key, lines)
    codes = {line.account_code for line in lines}
    return {
        "codes": sorted(codes),
        "code_count": len(codes),
        "value_date": value_date,
        "branch_id": branch.pk,
        "memo": memo,
        "key": idempotency_key,
        "payload_hash": payload_hash(
            value_date=value_date,
            branch_code=branch.code,
            memo=memo,
            reverses_id=reverses.pk if reverses else None,
            lines=lines,
        ),
        "reverses_id": reverses.pk if reverses else None,
        "actor_id": actor_id(actor),
        "line_codes": [line.account_code for line in lines],
        "debits": [line.debit_minor for line in lines],
        "credits": [line.credit_minor for line in lines],
    }


def posted_entry(
    row: Sequence[Any], parameters: dict[str, Any], *, branch: Branch, reverses: JournalEntry | None = None
) -> JournalEntry:
    """The entry a posting statement wrote, from its returned columns, without reading it back."""
    entry_id, entry_hash, previous_hash, posted_at = row[:4]
    entry = JournalEntry(
        id=entry_id,
        value_date=parameters["value_date"],
        branch=branch,
        memo=parameters["memo"],
        idempotency_key=parameters["key"],
        payload_hash=parameters["payload_hash"],
        previous_hash=previous_hash,
        entry_hash=entry_hash,
        reverses=reverses,
        posted_at=posted_at,
        posted_by_id=parameters["actor_id"],
    )
    entry._state.adding = False
    return entry


@dataclass(frozen=True)
class Posting:
    entry: JournalEntry
    replayed: bool  # True when the key had been posted before: nothing new was written


def journal_post_result(
    *,
    idempotency_key: str,
    value_date: dt.date,
    branch: Branch,
    lines: Sequence[LineSpec],
    memo: str = "",
    actor: Any | None = None,
    reverses: JournalEntry | None = None,
) -> Posting:
    """Post one balanced entry, or find the one already posted under this key with this content.

    Inside a caller's transaction (a deposit, a transfer) it joins that transaction: the entry and
    the caller's own writes commit or roll back together.
    """
    parameters = posting_parameters(
        idempotency_key=idempotency_key,
        value_date=value_date,
        branch=branch,
        lines=lines,
        memo=memo,
        actor=actor,
        reverses=reverses,
    )
    content_hash = parameters["payload_hash"]
    # No savepoint of its own: a failure marks the caller's transaction for rollback, so nothing
    # the caller wrote before can commit without its entry.
    with transaction.atomic(savepoint=False):
        row = prepared_fetchone(_POST_ONE_SQL, parameters)
    if row[0] is not None:
        return Posting(entry=posted_entry(row, parameters, branch=branch, reverses=reverses), replayed=False)
    closed_through = row[4]
    existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return Posting(entry=_replay(existing, content_hash), replayed=True)
    if closed_through is not None and value_date <= closed_through:
        raise _closed_error(closed_through)
    raise _unknown_accounts_error(set(parameters["codes"]))


def journal_post(
    *,
    idempotency_key: str,
    value_date: dt.date,
    branch: Branch,
    lines: Sequence[LineSpec],
    memo: str = "",
    actor: Any | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry, or return the entry already posted under this key with this content."""
    return journal_post_result(
        idempotency_key=idempotency_key,
        value_date=value_date,
        branch=branch,
        lines=lines,
        memo=memo,
        actor=actor,
        reverses=reverses,
    ).entry


@dataclass(frozen=True)
class PostingRequest:
    """One entry of a batch; the same fields as ``journal_post`` takes."""

    idempotency_key: str
    value_date: dt.date
    branch: Branch
    lines: Sequence[LineSpec]
    memo: str = ""


@dataclass(frozen=True)
class BatchPosting:
    entry_id: int
    replayed: bool


def _batch_error(number: int, error: BusinessRuleViolation) -> BusinessRuleViolation:
    fields = {f"postings[{number}].{name}": messages for name, messages in error.fields.items()}
    return BusinessRuleViolation(error.code, f"Posting {number}: {error.message}", fields=fields)


def journal_post_batch(*, postings: Sequence[PostingRequest], actor: Any | None = None) -> list[BatchPosting]:
    """Post many entries in one transaction with the guarantees of ``journal_post``, set-based.

    Used where entries arrive in bulk (field sync, imports): one lock of the chain head, one
    lookup of accounts and keys, COPY of entries and lines, one update of the day balances.
    Keys posted before (or earlier in the batch) with the same content are replays; any
    invalid posting refuses the whole batch, naming it. Answers in the order given. A workspace
    that is read-only or suspended for its subscription refuses the batch.
    """
    workspace_writable_require()
    for number, posting in enumerate(postings):
        try:
            _validate_shape(posting.idempotency_key, posting.lines)
        except BusinessRuleViolation as error:
            raise _batch_error(number, error) from error
    hashes = [
        payload_hash(
            value_date=posting.value_date,
            branch_code=posting.branch.code,
            memo=posting.memo,
            reverses_id=None,
            lines=posting.lines,
        )
        for posting in postings
    ]
    with transaction.atomic(savepoint=False), server_cursor() as cursor:
        cursor.execute("SELECT id, last_entry_hash, closed_through, now() FROM ledger_ledgerstate FOR UPDATE")
        state_id, head, closed_through, posted_at = cursor.fetchone()  # type: ignore[misc]
        plan = _BatchPlan(postings=postings, hashes=hashes, closed_through=closed_through)
        plan.classify(cursor)
        if plan.fresh:
            head = plan.write(cursor, head=head, posted_at=posted_at, actor_id=actor_id(actor))
            cursor.execute(
                "UPDATE ledger_ledgerstate SET last_entry_hash = %s WHERE id = %s", [head, state_id]
            )
    return plan.outcomes()


@dataclass
class _BatchPlan:
    """Which postings of a batch are new and which replay, and the writing of the new ones."""

    postings: Sequence[PostingRequest]
    hashes: list[str]
    closed_through: dt.date | None
    account_ids: dict[str, int] = field(default_factory=dict)
    answers: dict[int, BatchPosting] = field(default_factory=dict)
    fresh: list[int] = field(default_factory=list)
    entry_by_key: dict[str, int] = field(default_factory=dict)

    def classify(self, cursor: psycopg.Cursor[Any]) -> None:
        codes = sorted({line.account_code for posting in self.postings for line in posting.lines})
        cursor.execute("SELECT code, id FROM ledger_account WHERE code = ANY(%s) AND is_active", [codes])
        self.account_ids = dict(cursor.fetchall())
        cursor.execute(
            "SELECT idempotency_key, id, payload_hash FROM ledger_journalentry "
            "WHERE idempotency_key = ANY(%s)",
            [[posting.idempotency_key for posting in self.postings]],
        )
        seen = {key: (entry_id, content) for key, entry_id, content in cursor.fetchall()}
        for number, (posting, content) in enumerate(zip(self.postings, self.hashes, strict=True)):
            earlier = seen.get(posting.idempotency_key)
            if earlier is not None:
                if earlier[1] != content:
                    raise _batch_error(number, _replay_conflict(earlier[0]))
                if earlier[0] > 0:
                    self.answers[number] = BatchPosting(entry_id=earlier[0], replayed=True)
                continue  # a duplicate inside the batch: answered once its first occurrence is written
            missing = {line.account_code for line in posting.lines} - self.account_ids.keys()
            if missing:
                raise _batch_error(number, _unknown_accounts_error(missing))
            if self.closed_through is not None and posting.value_date <= self.closed_through:
                raise _batch_error(number, _closed_error(self.closed_through))
            seen[posting.idempotency_key] = (-1, content)
            self.fresh.append(number)

    def write(
        self, cursor: psycopg.Cursor[Any], *, head: str, posted_at: dt.datetime, actor_id: int | None
    ) -> str:
        """COPY the new entries (chained in batch order) and their lines; returns the new chain head."""
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('ledger_journalentry', 'id')) FROM generate_series(1, %s)",
            [len(self.fresh)],
        )
        new_ids = [row[0] for row in cursor.fetchall()]
        entry_columns = (
            "id, value_date, branch_id, memo, idempotency_key, payload_hash, previous_hash, entry_hash, "
            "reverses_id, posted_at, posted_by_id"
        )
        with cursor.copy(f"COPY ledger_journalentry ({entry_columns}) FROM STDIN") as copy:
            for entry_id, number in zip(new_ids, self.fresh, strict=True):
                posting, content = self.postings[number], self.hashes[number]
                entry_hash = chained_hash(
                    previous_hash=head, idempotency_key=posting.idempotency_key, content_hash=content
                )
                copy.write_row(
                    (entry_id, posting.value_date, posting.branch.pk, posting.memo, posting.idempotency_key,
                     content, head, entry_hash, None, posted_at, actor_id)
                )  # fmt: skip
                head = entry_hash
                self.entry_by_key[posting.idempotency_key] = entry_id
                self.answers[number] = BatchPosting(entry_id=entry_id, replayed=False)
        day_totals: dict[tuple[int, int, dt.date], list[int]] = defaultdict(lambda: [0, 0])
        copy_lines = "COPY ledger_journalline (entry_id, account_id, debit_minor, credit_minor) FROM STDIN"
        with cursor.copy(copy_lines) as copy:
            for entry_id, number in zip(new_ids, self.fresh, strict=True):
                posting = self.postings[number]
                for line in posting.lines:
                    account_id = self.account_ids[line.account_code]
                    copy.write_row((entry_id, account_id, line.debit_minor, line.credit_minor))
                    totals = day_totals[(account_id, posting.branch.pk, posting.value_date)]
                    totals[0] += line.debit_minor
                    totals[1] += line.credit_minor
        _add_to_day_balances(cursor, day_totals)
        return head

    def outcomes(self) -> list[BatchPosting]:
        return [
            self.answers.get(number)
            or BatchPosting(entry_id=self.entry_by_key[posting.idempotency_key], replayed=True)
            for number, posting in enumerate(self.postings)
        ]


def _closed_error(closed_through: dt.date) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.PERIOD_CLOSED,
        f"The books are closed through {closed_through.isoformat()}.",
        fields={"value_date": ["In a closed period."]},
    )


def _replay_conflict(entry_id: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        "This idempotency key was already used for a different posting.",
        fields={"idempotency_key": [f"Used by entry {entry_id} with other content."]},
    )


def _add_to_day_balances(
    cursor: psycopg.Cursor[Any], totals: dict[tuple[int, int, dt.date], list[int]]
) -> None:
    """Add amounts per (account, branch, day) to the daily balances in one statement.

    In key order, so two transactions adding to the same rows lock them in the same order.
    """
    keys = sorted(totals)
    cursor.execute(
        "INSERT INTO ledger_accountdaybalance (account_id, branch_id, day, debit_minor, credit_minor) "
        "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::date[], %s::bigint[], %s::bigint[]) "
        "ON CONFLICT (account_id, branch_id, day) DO UPDATE SET "
        "debit_minor = ledger_accountdaybalance.debit_minor + EXCLUDED.debit_minor, "
        "credit_minor = ledger_accountdaybalance.credit_minor + EXCLUDED.credit_minor",
        [
            [key[0] for key in keys],
            [key[1] for key in keys],
            [key[2] for key in keys],
            [totals[key][0] for key in keys],
            [totals[key][1] for key in keys],
        ],
    )


@dataclass(frozen=True)
class ChainReport:
    entries_checked: int
    first_broken_entry_id: int | None
    reason: str


_VERIFY_SQL = """
SELECT e.id, e.value_date, b.code, e.memo, e.reverses_id, e.idempotency_key, e.payload_hash,
    e.previous_hash, e.entry_hash,
    (SELECT array_agg(ARRAY[a.code, l.debit_minor::text, l.credit_minor::text] ORDER BY l.id)
     FROM ledger_journalline l JOIN ledger_account a ON a.id = l.account_id WHERE l.entry_id = e.id)
FROM ledger_journalentry e JOIN organisation_branch b ON b.id = e.branch_id
ORDER BY e.id
"""


def ledger_verify() -> ChainReport:
    """Recompute every entry's content hash and the chain, in posting order; name the first break.

    One pass over the journal with each entry's lines beside it, streamed from a server-side
    cursor, in one REPEATABLE READ snapshot: the chain head read at the end is the one of the
    entries read, whatever is posted meanwhile.
    """
    previous = GENESIS_HASH
    checked = 0
    fresh = not connection.in_atomic_block  # inside a caller's transaction, its snapshot rules
    with transaction.atomic():
        if fresh:
            with connection.cursor() as setup:
                setup.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with connection.chunked_cursor() as cursor:
            cursor.execute(_VERIFY_SQL)
            for row in cursor:
                (
                    entry_id,
                    value_date,
                    branch_code,
                    memo,
                    reverses_id,
                    key,
                    stored,
                    linked,
                    entry_hash,
                    lines,
                ) = row
                content = payload_hash(
                    value_date=value_date,
                    branch_code=branch_code,
                    memo=memo,
                    reverses_id=reverses_id,
                    lines=[LineSpec(code, int(debit), int(credit)) for code, debit, credit in lines or ()],
                )
                if content != stored:
                    return ChainReport(checked, entry_id, "its lines or fields differ from what was posted")
                if linked != previous:
                    return ChainReport(checked, entry_id, "it does not follow the entry before it")
                expected = chained_hash(previous_hash=previous, idempotency_key=key, content_hash=content)
                if entry_hash != expected:
                    return ChainReport(checked, entry_id, "its chained hash is wrong")
                previous = entry_hash
                checked += 1
        head = LedgerState.objects.get().last_entry_hash
    if head != previous:
        return ChainReport(checked, None, "the chain head does not match the last entry")
    return ChainReport(checked, None, "")


def chart_of_accounts_seed(*, language: str) -> int:
    """Create the preset chart in the workspace's language; accounts that exist are left as edited."""
    from core_banking.ledger.presets import CHART, name_in

    existing = set(Account.objects.values_list("code", flat=True))
    created = Account.objects.bulk_create(
        Account(code=preset.code, name=name_in(preset.names, language), kind=preset.kind)
        for preset in CHART
        if preset.code not in existing
    )
    return len(created)


def branch_cash_account_ensure(*, branch: Branch, language: str) -> Account:
    """Each branch keeps its own cash account (1100-<branch code>), so cash is counted per branch."""
    from core_banking.ledger.presets import CASH_NAMES, cash_account_code, name_in

    account, _created = Account.objects.get_or_create(
        code=cash_account_code(branch.code),
        defaults={
            "name": f"{name_in(CASH_NAMES, language)} — {branch.name}",
            "kind": "asset",
            "branch": branch,
        },
    )
    return account


@dataclass(frozen=True)
class Correction:
    reversal: JournalEntry
    corrected: JournalEntry | None


def journal_correct(
    *,
    original: JournalEntry,
    reason: str,
    idempotency_key: str,
    value_date: dt.date,
    corrected_lines: Sequence[LineSpec] = (),
    actor: Any | None = None,
) -> Correction:
    """Correct a posted entry without editing it: post its reversal and, if given, the corrected entry.

    Both link to the original and commit together with an audit record naming the reason and who
    corrected. With no corrected lines the original is simply cancelled. Replaying the same key
    returns the same correction.
    """
    from control_plane.audit.services import audit_record

    if not reason.strip():
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "A correction needs a reason.", fields={"reason": ["Required."]}
        )
    if original.reverses_id is not None:
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_IS_A_REVERSAL,
            "A reversal cannot itself be corrected; correct the entry it reversed.",
            fields={"original": [f"Entry {original.pk} reverses entry {original.reverses_id}."]},
        )
    replayed = JournalEntry.objects.filter(idempotency_key=f"{idempotency_key}:reversal").first()
    if replayed is not None and replayed.reverses_id == original.pk:
        # The same correction sent again: the entries exist; nothing is posted or audited twice.
        return Correction(
            reversal=replayed,
            corrected=JournalEntry.objects.filter(idempotency_key=f"{idempotency_key}:corrected").first(),
        )
    already = original.reversals.exclude(idempotency_key=f"{idempotency_key}:reversal").first()
    if already is not None:
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_ALREADY_CORRECTED,
            f"Entry {original.pk} was already corrected by entry {already.pk}.",
            fields={"original": ["Already corrected."]},
        )
    reversed_lines = [
        LineSpec(line.account.code, debit_minor=line.credit_minor, credit_minor=line.debit_minor)
        for line in original.lines.select_related("account").order_by("id")
    ]
    memo = f"Correction of #{original.pk}: {reason.strip()}"[:300]

    def post(suffix: str, lines: Sequence[LineSpec], reverses: JournalEntry | None = None) -> JournalEntry:
        return journal_post(
            idempotency_key=f"{idempotency_key}:{suffix}",
            value_date=value_date,
            branch=original.branch,
            memo=memo,
            lines=lines,
            actor=actor,
            reverses=reverses,
        )

    with transaction.atomic():
        reversal = post("reversal", reversed_lines, reverses=original)
        corrected = post("corrected", corrected_lines) if corrected_lines else None
        audit_record(
            actor=actor,
            action="journal.correct",
            target=original,
            changes={
                "reason": reason.strip(),
                "reversal": reversal.pk,
                "corrected": corrected.pk if corrected else None,
            },
        )
    return Correction(reversal=reversal, corrected=corrected)


# --- The chart of accounts: adding and editing accounts ------------------------------------------

# Accounts the product posts to by code: their code, kind and branch are fixed and they stay active.
CONTROL_ACCOUNT_PREFIXES = ("1100-", "2100-", "1300-")  # branch cash and tills; savings and loan products
# Lending posts to 1390, 1400 and 4100–4400 and 5200 by code (provision, receivable interest, income).
CONTROL_ACCOUNT_CODES = frozenset(
    {
        "1390",
        "1400",
        "1450",
        "2200",
        "2300",
        "2310",
        "3100",
        "3900",
        "4100",
        "4200",
        "4300",
        "4400",
        "5100",
        "5200",
    }
)
ACCOUNT_CODE_PATTERN = re.compile(r"^[0-9]{3,6}(-[A-Za-z0-9]+)*$")
ACCOUNT_CODE_MAX_LENGTH = 20


class Keep(enum.Enum):
    """An argument left as it is (where None is a value: an account's branch)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def is_control_account(code: str) -> bool:
    return code in CONTROL_ACCOUNT_CODES or code.startswith(CONTROL_ACCOUNT_PREFIXES)


def account_has_postings(account: Account) -> bool:
    return (
        JournalLine.objects.filter(account_id=account.pk).exists()
        or AccountDayBalance.objects.filter(account_id=account.pk).exists()
    )


def _account_values(account: Account) -> dict[str, Any]:
    return {
        "code": account.code,
        "name": account.name,
        "kind": account.kind,
        "branch": account.branch.code if account.branch is not None else None,
        "is_active": account.is_active,
    }


def _checked_code(code: str, *, account_id: int | None = None) -> str:
    code = (code or "").strip()
    if len(code) > ACCOUNT_CODE_MAX_LENGTH or not ACCOUNT_CODE_PATTERN.match(code):
        message = _("3-6 digits, optionally followed by dash-separated letters or digits (1200, 5300-01).")
        raise BusinessRuleViolation(
            ErrorCode.ACCOUNT_CODE_INVALID, _("The account code is not valid."), fields={"code": [message]}
        )
    if code.startswith(CONTROL_ACCOUNT_PREFIXES):
        message = _("Codes starting 1100- and 2100- are kept for branch cash and savings products.")
        raise BusinessRuleViolation(ErrorCode.ACCOUNT_CODE_INVALID, message, fields={"code": [message]})
    taken = Account.objects.filter(code=code)
    if account_id is not None:
        taken = taken.exclude(pk=account_id)
    if taken.exists():
        raise _code_taken(code)
    return code


def _code_taken(code: str) -> BusinessRuleViolation:
    message = _("Account %(code)s already exists.") % {"code": code}
    return BusinessRuleViolation(ErrorCode.ACCOUNT_CODE_TAKEN, message, fields={"code": [message]})


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("An account needs a name of 1-200 characters."),
            fields={"name": [_("1-200 characters.")]},
        )
    return name


def _checked_kind(kind: str) -> str:
    if kind not in AccountKind.values:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("Unknown account kind."),
            fields={"kind": [", ".join(AccountKind.values)]},
        )
    return kind


def account_create(
    *, actor: Any | None, code: str, name: str, kind: str, branch: Branch | None = None
) -> Account:
    """Add an account to the chart; shared by every branch, or one branch's own when ``branch`` is given."""
    from control_plane.audit.services import audit_record

    account = Account(
        code=_checked_code(code), name=_checked_name(name), kind=_checked_kind(kind), branch=branch
    )
    try:
        with transaction.atomic():
            account.save()
            audit_record(
                actor=actor, action="ledger.account.create", target=account, changes=_account_values(account)
            )
    except IntegrityError as error:  # created at the same moment by someone else
        raise _code_taken(account.code) from error
    return account


def account_update(
    *,
    actor: Any | None,
    account_id: int,
    code: str | None = None,
    name: str | None = None,
    kind: str | None = None,
    is_active: bool | None = None,
    branch: Branch | Keep | None = KEEP,
) -> Account:
    """Change an account of the chart; None (and ``KEEP`` for the branch) leaves a field as it is.

    Once an account has postings its code and kind are fixed (history would change meaning); the
    control accounts the product posts to by code keep their code, kind and branch and stay active.
    """
    from control_plane.audit.services import audit_record, diff

    with transaction.atomic():
        account = Account.objects.select_for_update(of=("self",)).select_related("branch").get(pk=account_id)
        before = _account_values(account)
        control = is_control_account(account.code)
        new_code = code.strip() if code is not None else account.code
        new_kind = kind if kind is not None else account.kind
        new_branch = account.branch if isinstance(branch, Keep) else branch
        structural = {
            field: [message]
            for field, changed, message in (
                ("code", new_code != account.code, _("The code cannot change.")),
                ("kind", new_kind != account.kind, _("The kind cannot change.")),
                ("branch", new_branch != account.branch, _("The branch cannot change.")),
            )
            if changed
        }
        if control and (structural or is_active is False):
            fields = dict(structural)
            if is_active is False:
                fields["is_active"] = [_("A control account stays active.")]
            raise BusinessRuleViolation(
                ErrorCode.ACCOUNT_IS_CONTROL,
                _(
                    "Account %(code)s is a control account the cooperative's transactions post to: "
                    "only its name can change."
                )
                % {"code": account.code},
                fields=fields,
            )
        fixed = {field: messages for field, messages in structural.items() if field in ("code", "kind")}
        if fixed and account_has_postings(account):
            raise BusinessRuleViolation(
                ErrorCode.ACCOUNT_HAS_POSTINGS,
                _("Account %(code)s has postings: its code and kind cannot change.") % {"code": account.code},
                fields=fixed,
            )
        if new_code != account.code:
            account.code = _checked_code(new_code, account_id=account.pk)
        if name is not None:
            account.name = _checked_name(name)
        account.kind = _checked_kind(new_kind)
        account.branch = new_branch
        if is_active is not None:
            account.is_active = is_active
        changes = diff(before, _account_values(account))
        if changes:
            try:
                with transaction.atomic():
                    account.save()
            except IntegrityError as error:
                raise _code_taken(account.code) from error
            audit_record(actor=actor, action="ledger.account.update", target=account, changes=changes)
    return account
