"""Many deposits in one transaction (field sync, imports), with the guarantees of one deposit each.

Every deposit gets its own balanced, chained ledger entry (``journal_post_batch``), its own
savings transaction and its member's SMS in the outbox; keys seen before answer with their
first result. All or nothing: a bad deposit refuses the batch, naming it (the sync layer checks
items before batching them). Field and import batches land on a branch's closed day; an office
batch is refused there (``day_closed``), as one deposit at the counter is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from psycopg.types.json import Jsonb

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting.day_rules import counter_day_open_require, day_close_applies
from core_banking.ledger.db import server_cursor
from core_banking.ledger.presets import cash_account_code
from core_banking.ledger.services import BatchPosting, LineSpec, PostingRequest, actor_id, journal_post_batch
from core_banking.organisation.models import Branch
from core_banking.savings.models import AccountStatus, Channel, TransactionKind
from core_banking.savings.services import (
    _Locked,
    _require_amount,
)
from notifications.models import MessageKind
from notifications.services import outbox_initial_status, outbox_relay_kick_on_commit
from tenants.db import workspace_currency, workspace_language


@dataclass(frozen=True)
class DepositRequest:
    account_id: int
    amount_minor: int
    value_date: dt.date
    idempotency_key: str
    memo: str = ""


@dataclass(frozen=True)
class BatchDeposit:
    transaction_id: int
    entry_id: int
    balance_after_minor: int
    replayed: bool


_LOCK_MANY_SQL = """
SELECT a.id, a.number, a.balance_minor, a.lien_minor, a.status, a.branch_id, b.code, c.code,
    m.id, m.phone, m.message_language, m.sms_opt_out
FROM savings_savingsaccount a
JOIN savings_savingsproduct p ON p.id = a.product_id
JOIN ledger_account c ON c.id = p.control_account_id
JOIN organisation_branch b ON b.id = a.branch_id
JOIN members_member m ON m.id = a.member_id
WHERE a.id = ANY(%s)
ORDER BY a.id
FOR UPDATE OF a
"""

_TRANSACTION_COLUMNS = (
    "id, account_id, kind, amount_minor, balance_after_minor, value_date, entry_id, idempotency_key, "
    "channel, memo, created_at, created_by_id"
)
_OUTBOX_COLUMNS = "kind, source_ref, member_id, phone, language, context, status, attempts, created_at"


def _refused(number: int, code: ErrorCode, message: str, field_name: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        code, f"Deposit {number}: {message}", fields={f"deposits[{number}].{field_name}": [message]}
    )


def savings_deposit_batch(
    *, deposits: Sequence[DepositRequest], actor: Any | None = None, channel: str = Channel.FIELD
) -> list[BatchDeposit]:
    """Post the deposits; answers in the order given."""
    for number, deposit in enumerate(deposits):
        try:
            _require_amount(deposit.amount_minor)
        except BusinessRuleViolation as error:
            raise _refused(number, error.code, error.message, "amount_minor") from error
    with transaction.atomic(), server_cursor() as cursor:
        # Account rows first, in id order (as every savings service locks), then the chain head.
        cursor.execute(_LOCK_MANY_SQL, [sorted({deposit.account_id for deposit in deposits})])
        locked = {row[0]: _Locked(*row) for row in cursor.fetchall()}
        for number, deposit in enumerate(deposits):
            account = locked.get(deposit.account_id)
            if account is None:
                raise _refused(number, ErrorCode.NOT_FOUND, "no such account", "account_id")
            if account.status != AccountStatus.ACTIVE:
                raise _refused(
                    number, ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE, f"account is {account.status}", "account_id"
                )
        if day_close_applies(channel):
            _require_open_days(cursor, deposits, locked, channel)
        posted = journal_post_batch(postings=_postings(deposits, locked), actor=actor)
        writer = _BatchWriter(deposits=deposits, posted=posted, locked=locked)
        writer.find_earlier(cursor)
        writer.write(cursor, actor_id=actor_id(actor), channel=channel)
        return writer.answers()


def _require_open_days(
    cursor: Any, deposits: Sequence[DepositRequest], locked: dict[int, _Locked], channel: str
) -> None:
    """Refuse the batch when a new deposit falls on its branch's closed day (day locks in branch id order).

    Deposits whose keys were posted before answer with their first result, closed day or not.
    """
    cursor.execute(
        "SELECT idempotency_key FROM savings_savingstransaction WHERE idempotency_key = ANY(%s)",
        [[deposit.idempotency_key for deposit in deposits]],
    )
    posted_before = {row[0] for row in cursor.fetchall()}
    first_of: dict[tuple[int, dt.date], int] = {}  # (branch id, day) -> the first deposit's number
    for number, deposit in enumerate(deposits):
        if deposit.idempotency_key not in posted_before:
            first_of.setdefault((locked[deposit.account_id].branch_id, deposit.value_date), number)
    for (branch_id, day), number in sorted(first_of.items()):
        account = locked[deposits[number].account_id]
        try:
            counter_day_open_require(
                branch=Branch(id=branch_id, code=account.branch_code), day=day, channel=channel
            )
        except BusinessRuleViolation as error:
            raise _refused(number, error.code, error.message, "value_date") from error


def _postings(deposits: Sequence[DepositRequest], locked: dict[int, _Locked]) -> list[PostingRequest]:
    with translation.override(workspace_language()):
        label = str(TransactionKind.DEPOSIT.label)
    postings = []
    branches: dict[int, Branch] = {}  # one model instance per branch, not per deposit
    for deposit in deposits:
        account = locked[deposit.account_id]
        memo = f"{label} {account.number}{' — ' + deposit.memo if deposit.memo else ''}"
        branch = branches.get(account.branch_id)
        if branch is None:
            branch = branches[account.branch_id] = Branch(id=account.branch_id, code=account.branch_code)
        postings.append(
            PostingRequest(
                idempotency_key=deposit.idempotency_key,
                value_date=deposit.value_date,
                branch=branch,
                memo=memo[:300],
                lines=[
                    LineSpec(cash_account_code(account.branch_code), debit_minor=deposit.amount_minor),
                    LineSpec(account.control_code, credit_minor=deposit.amount_minor),
                ],
            )
        )
    return postings


@dataclass
class _BatchWriter:
    """Balances, savings transactions and outbox rows of the batch's new deposits, set-based."""

    deposits: Sequence[DepositRequest]
    posted: Sequence[BatchPosting]
    locked: dict[int, _Locked]
    earlier: dict[str, tuple[int, int]] = field(default_factory=dict)
    written: dict[str, BatchDeposit] = field(default_factory=dict)

    def find_earlier(self, cursor: Any) -> None:
        """The savings transactions of deposits posted before this batch (their replays answer with them)."""
        keys = [
            deposit.idempotency_key
            for deposit, result in zip(self.deposits, self.posted, strict=True)
            if result.replayed
        ]
        cursor.execute(
            "SELECT idempotency_key, id, balance_after_minor FROM savings_savingstransaction "
            "WHERE idempotency_key = ANY(%s)",
            [keys],
        )
        self.earlier = {key: (transaction_id, balance) for key, transaction_id, balance in cursor.fetchall()}

    def write(self, cursor: Any, *, actor_id: int | None, channel: str) -> None:
        balances = {account_id: account.balance_minor for account_id, account in self.locked.items()}
        new: list[tuple[DepositRequest, int, int]] = []  # (deposit, entry id, balance after)
        seen: set[str] = set()
        for deposit, result in zip(self.deposits, self.posted, strict=True):
            if result.replayed or deposit.idempotency_key in seen:
                continue
            seen.add(deposit.idempotency_key)
            balances[deposit.account_id] += deposit.amount_minor
            new.append((deposit, result.entry_id, balances[deposit.account_id]))
        if not new:
            return
        changed = sorted({deposit.account_id for deposit, _entry, _after in new})
        cursor.execute(
            "UPDATE savings_savingsaccount a SET balance_minor = given.balance "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS given(id, balance) WHERE a.id = given.id",
            [changed, [balances[account_id] for account_id in changed]],
        )
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('savings_savingstransaction', 'id')) "
            "FROM generate_series(1, %s)",
            [len(new)],
        )
        transaction_ids = [row[0] for row in cursor.fetchall()]
        now = timezone.now()
        with cursor.copy(f"COPY savings_savingstransaction ({_TRANSACTION_COLUMNS}) FROM STDIN") as copy:
            for transaction_id, (deposit, entry_id, after) in zip(transaction_ids, new, strict=True):
                copy.write_row(
                    (transaction_id, deposit.account_id, TransactionKind.DEPOSIT.value, deposit.amount_minor,
                     after, deposit.value_date, entry_id, deposit.idempotency_key, channel, deposit.memo, now,
                     actor_id)
                )  # fmt: skip
                self.written[deposit.idempotency_key] = BatchDeposit(transaction_id, entry_id, after, False)
        currency = workspace_currency()
        outbox_relay_kick_on_commit()  # the relay sends these once the batch commits
        with cursor.copy(f"COPY notifications_outboxmessage ({_OUTBOX_COLUMNS}) FROM STDIN") as copy:
            for deposit, _entry_id, after in new:
                account = self.locked[deposit.account_id]
                context = {
                    "amount_minor": deposit.amount_minor,
                    "balance_minor": after,
                    "currency": currency,
                    "account": account.number,
                    "value_date": deposit.value_date.isoformat(),
                }
                status = outbox_initial_status(phone=account.phone, sms_opt_out=account.sms_opt_out)
                copy.write_row(
                    (MessageKind.SAVINGS_DEPOSIT.value, deposit.idempotency_key, account.member_id,
                     account.phone, account.language, Jsonb(context), status.value, 0, now)
                )  # fmt: skip

    def answers(self) -> list[BatchDeposit]:
        results = []
        for deposit, result in zip(self.deposits, self.posted, strict=True):
            key = deposit.idempotency_key
            first = self.written.get(key)
            if first is not None and not result.replayed and first.entry_id == result.entry_id:
                results.append(first)
            elif first is not None:  # a duplicate inside the batch
                results.append(
                    BatchDeposit(first.transaction_id, first.entry_id, first.balance_after_minor, True)
                )
            else:
                transaction_id, balance = self.earlier[key]
                results.append(BatchDeposit(transaction_id, result.entry_id, balance, replayed=True))
        return results
