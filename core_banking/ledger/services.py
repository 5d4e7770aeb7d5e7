"""The one write path into the general ledger: ``journal_post``.

Every money movement in the product ends here. The service validates, then in one transaction
locks the ledger's chain head, writes the entry and its lines, adds them to the daily balances
and moves the chain head on. PostgreSQL re-checks balance, immutability and closed periods.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import Account, JournalEntry, JournalLine, LedgerState
from core_banking.organisation.models import Branch

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


def _validate(idempotency_key: str, lines: Sequence[LineSpec]) -> dict[str, Account]:
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
    codes = {line.account_code for line in lines}
    accounts = {account.code: account for account in Account.objects.filter(code__in=codes, is_active=True)}
    missing = sorted(codes - accounts.keys())
    if missing:
        raise BusinessRuleViolation(
            ErrorCode.ACCOUNT_UNKNOWN,
            "Unknown or inactive accounts.",
            fields={"lines": [f"No active account {code}." for code in missing]},
        )
    return accounts


def _replay(existing: JournalEntry, content_hash: str) -> JournalEntry:
    if existing.payload_hash != content_hash:
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was already used for a different posting.",
            fields={"idempotency_key": [f"Used by entry {existing.pk} with other content."]},
        )
    return existing


def _add_to_day_balances(value_date: dt.date, lines: Sequence[JournalLine]) -> None:
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        totals[line.account_id][0] += line.debit_minor
        totals[line.account_id][1] += line.credit_minor
    rows = [(account_id, value_date, debit, credit) for account_id, (debit, credit) in sorted(totals.items())]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO ledger_accountdaybalance (account_id, day, debit_minor, credit_minor) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (account_id, day) DO UPDATE SET "
            "debit_minor = ledger_accountdaybalance.debit_minor + EXCLUDED.debit_minor, "
            "credit_minor = ledger_accountdaybalance.credit_minor + EXCLUDED.credit_minor",
            rows,
        )


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
    accounts = _validate(idempotency_key, lines)
    content_hash = payload_hash(
        value_date=value_date,
        branch_code=branch.code,
        memo=memo,
        reverses_id=reverses.pk if reverses else None,
        lines=lines,
    )
    existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _replay(existing, content_hash)
    try:
        with transaction.atomic():
            # The chain head is the one lock every posting takes: entries are chained in commit order.
            state = LedgerState.objects.select_for_update().get()
            existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:  # posted by a concurrent request while we waited for the lock
                return _replay(existing, content_hash)
            if state.closed_through is not None and value_date <= state.closed_through:
                raise BusinessRuleViolation(
                    ErrorCode.PERIOD_CLOSED,
                    f"The books are closed through {state.closed_through.isoformat()}.",
                    fields={"value_date": ["In a closed period."]},
                )
            entry_hash = chained_hash(
                previous_hash=state.last_entry_hash,
                idempotency_key=idempotency_key,
                content_hash=content_hash,
            )
            entry = JournalEntry.objects.create(
                value_date=value_date,
                branch=branch,
                memo=memo,
                idempotency_key=idempotency_key,
                payload_hash=content_hash,
                previous_hash=state.last_entry_hash,
                entry_hash=entry_hash,
                reverses=reverses,
                posted_at=timezone.now(),
                posted_by_id=actor.pk
                if actor is not None and getattr(actor, "is_authenticated", False)
                else None,
            )
            written = JournalLine.objects.bulk_create(
                JournalLine(
                    entry=entry,
                    account=accounts[line.account_code],
                    debit_minor=line.debit_minor,
                    credit_minor=line.credit_minor,
                )
                for line in lines
            )
            _add_to_day_balances(value_date, written)
            state.last_entry_hash = entry_hash
            state.save(update_fields=["last_entry_hash"])
            return entry
    except IntegrityError:
        # Same key committed by another transaction between our check and our insert.
        existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _replay(existing, content_hash)


@dataclass(frozen=True)
class ChainReport:
    entries_checked: int
    first_broken_entry_id: int | None
    reason: str


def ledger_verify() -> ChainReport:
    """Recompute every entry's content hash and the chain, in posting order; name the first break."""
    previous = GENESIS_HASH
    checked = 0
    entries = JournalEntry.objects.select_related("branch").prefetch_related("lines__account").order_by("id")
    for entry in entries.iterator(chunk_size=2000):
        lines = [
            LineSpec(line.account.code, line.debit_minor, line.credit_minor)
            for line in sorted(entry.lines.all(), key=lambda line: line.pk)
        ]
        content = payload_hash(
            value_date=entry.value_date,
            branch_code=entry.branch.code,
            memo=entry.memo,
            reverses_id=entry.reverses_id,
            lines=lines,
        )
        if content != entry.payload_hash:
            return ChainReport(checked, entry.pk, "its lines or fields differ from what was posted")
        if entry.previous_hash != previous:
            return ChainReport(checked, entry.pk, "it does not follow the entry before it")
        expected = chained_hash(
            previous_hash=previous, idempotency_key=entry.idempotency_key, content_hash=content
        )
        if entry.entry_hash != expected:
            return ChainReport(checked, entry.pk, "its chained hash is wrong")
        previous = entry.entry_hash
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
