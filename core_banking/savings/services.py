"""The one write path for savings: products, accounts, deposits, withdrawals, transfers and liens.

Each money movement commits, in one transaction: the ledger entry (``journal_post``), the
account's new balance, a ``SavingsTransaction`` and the member's SMS in the outbox. Locks are
taken in one order everywhere: savings account rows (by id), then the ledger's chain head.

No overdraft under any concurrency: a withdrawal locks the account row, re-reads it, checks the
rules, then writes; PostgreSQL's CHECK (balance >= 0) is the last line of defence.

A branch's closed day takes no more office movements (``counter_day_open_require``, after the
account rows and before the chain head; field, import and system movements still land). A key
posted before the close answers with its first result, closed day or not.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from psycopg.types.json import Jsonb

from control_plane.audit.services import audit_record, diff
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting.day_rules import counter_day_open_require, counter_day_statement_parameters
from core_banking.ledger.db import prepared_fetchall, prepared_fetchone
from core_banking.ledger.models import Account, JournalEntry
from core_banking.ledger.presets import cash_account_code
from core_banking.ledger.services import (
    LineSpec,
    actor_id,
    journal_correct,
    journal_post_result,
    posted_entry,
    posting_parameters,
    posting_statement,
)
from core_banking.members.models import Member, MemberStatus
from core_banking.organisation.models import Branch
from core_banking.savings.models import (
    AccountStatus,
    Channel,
    DayCount,
    InterestMethod,
    InterestPeriod,
    Lien,
    RoundingMode,
    SavingsAccount,
    SavingsKind,
    SavingsProduct,
    SavingsRate,
    SavingsTransaction,
    TransactionKind,
)
from notifications.models import MessageKind, OutboxStatus
from notifications.services import outbox_enqueue, outbox_initial_status, outbox_relay_kick_on_commit
from tenants.db import workspace_currency, workspace_language

SAVINGS_CONTROL_PREFIX = "2100"
INTEREST_EXPENSE_CODE = "5100"


def savings_control_code(product_code: str) -> str:
    return f"{SAVINGS_CONTROL_PREFIX}-{product_code}"


def _require_amount(amount_minor: int) -> None:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise BusinessRuleViolation(
            ErrorCode.AMOUNT_INVALID,
            "The amount must be a positive whole number of minor units.",
            fields={"amount_minor": ["A positive whole number."]},
        )


def _not_found(account_id: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.NOT_FOUND, "No such savings account.", fields={"account": [f"No account {account_id}."]}
    )


# --- Products and accounts -----------------------------------------------------------------------


@transaction.atomic
def savings_product_create(
    *,
    actor: Any | None,
    code: str,
    name: str,
    kind: str,
    annual_rate: Decimal,
    rate_effective_from: dt.date,
    **settings: Any,
) -> SavingsProduct:
    """Create a product with its own control account in the ledger (2100-<code>) and its first rate."""
    code = code.strip().upper()
    if kind not in SavingsKind.values:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "Unknown kind of savings.", fields={"kind": list(SavingsKind.values)}
        )
    if SavingsProduct.objects.filter(code=code).exists():
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "That product code is taken.", fields={"code": ["Already in use."]}
        )
    if kind in (SavingsKind.RECURRING, SavingsKind.FIXED) and not settings.get("term_months"):
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "Recurring and fixed deposits need a term.",
            fields={"term_months": ["Required for this kind."]},
        )
    control, _created = Account.objects.get_or_create(
        code=savings_control_code(code), defaults={"name": name.strip(), "kind": "liability"}
    )
    product = SavingsProduct.objects.create(
        code=code,
        name=name.strip(),
        kind=kind,
        control_account=control,
        interest_expense_account=Account.objects.get(code=INTEREST_EXPENSE_CODE),
        **settings,
    )
    _rate_add(product, rate_effective_from, annual_rate)
    audit_record(
        actor=actor,
        action="savings.product.create",
        target=product,
        changes={"code": code, "kind": kind, "annual_rate": str(annual_rate), **_jsonable(settings)},
    )
    return product


# What a product's edit may change; its code, kind and control account stay as created.
_PRODUCT_TEXT_FIELDS = ("name",)
_PRODUCT_FLAG_FIELDS = ("withdrawals_allowed", "is_active")
_PRODUCT_CHOICE_FIELDS = {
    "interest_method": InterestMethod,
    "day_count": DayCount,
    "accrual_period": InterestPeriod,
    "posting_period": InterestPeriod,
    "rounding": RoundingMode,
}
# Amounts and counts: (smallest allowed value, may be empty).
_PRODUCT_NUMBER_FIELDS = {
    "minimum_balance_minor": (0, False),
    "maximum_withdrawal_minor": (1, True),
    "withdrawals_per_month": (1, True),
    "minimum_balance_for_interest_minor": (0, False),
    "term_months": (1, True),
    "installment_minor": (1, True),
}
# Settings the interest job reads for the accounts already open: a change to them is flagged.
PRODUCT_INTEREST_FIELDS = (
    "interest_method",
    "day_count",
    "accrual_period",
    "posting_period",
    "rounding",
    "minimum_balance_for_interest_minor",
    "installment_minor",
    "premature_rate_reduction",
)
PRODUCT_EDITABLE_FIELDS = (
    *_PRODUCT_TEXT_FIELDS,
    *_PRODUCT_FLAG_FIELDS,
    *_PRODUCT_CHOICE_FIELDS,
    *_PRODUCT_NUMBER_FIELDS,
    "premature_rate_reduction",
)


def _product_changes_problems(product: SavingsProduct, changes: dict[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name, value in changes.items():
        if name not in PRODUCT_EDITABLE_FIELDS:
            problems[name] = ["Cannot be changed."]
        elif name in _PRODUCT_TEXT_FIELDS and (
            not isinstance(value, str) or not 0 < len(value.strip()) <= 120
        ):
            problems[name] = ["1-120 characters."]
        elif name in _PRODUCT_FLAG_FIELDS and not isinstance(value, bool):
            problems[name] = ["True or false."]
        elif name in _PRODUCT_CHOICE_FIELDS and value not in _PRODUCT_CHOICE_FIELDS[name].values:
            problems[name] = list(_PRODUCT_CHOICE_FIELDS[name].values)
        elif name in _PRODUCT_NUMBER_FIELDS:
            smallest, may_be_empty = _PRODUCT_NUMBER_FIELDS[name]
            if value is None and may_be_empty:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
                problems[name] = [
                    f"A whole number, {smallest} or more{', or empty' if may_be_empty else ''}."
                ]
        elif name == "premature_rate_reduction" and (not isinstance(value, Decimal) or value < 0):
            problems[name] = [">= 0"]
    if (
        product.kind in (SavingsKind.RECURRING, SavingsKind.FIXED)
        and "term_months" in changes
        and changes["term_months"] is None
    ):
        problems["term_months"] = ["Required for this kind."]
    return problems


@transaction.atomic
def savings_product_update(*, actor: Any | None, product_id: int, **changes: Any) -> SavingsProduct:
    """Change a product's name, balance and withdrawal rules, interest settings or active flag.

    Only the settings named change. The code, kind and control account never do. Changing the
    interest settings of a product with accounts is allowed (the interest job reads them at its
    next run) and the audit row says how many accounts it touches.
    """
    product = SavingsProduct.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise BusinessRuleViolation(
            ErrorCode.NOT_FOUND, "No such savings product.", fields={"product": [f"No product {product_id}."]}
        )
    problems = _product_changes_problems(product, changes)
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "Some product settings are not valid.", fields=problems
        )
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    before = _jsonable({name: getattr(product, name) for name in PRODUCT_EDITABLE_FIELDS})
    for name, value in changes.items():
        setattr(product, name, value)
    if changes:
        product.save(update_fields=list(changes))
        product.refresh_from_db()  # stored values (a rate of 1.5 reads back as 1.5000) for the diff
    changed = diff(before, _jsonable({name: getattr(product, name) for name in PRODUCT_EDITABLE_FIELDS}))
    if changed:
        interest_changed = sorted(set(changed) & set(PRODUCT_INTEREST_FIELDS))
        extra: dict[str, Any] = {}
        if interest_changed:
            accounts = product.accounts.exclude(status=AccountStatus.CLOSED).count()
            if accounts:
                extra = {"interest_settings_changed": interest_changed, "accounts": accounts}
        audit_record(actor=actor, action="savings.product.update", target=product, changes=changed | extra)
    return product


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if isinstance(value, int | str | bool | None) else str(value)
        for key, value in values.items()
    }


def _rate_add(product: SavingsProduct, effective_from: dt.date, annual_rate: Decimal) -> SavingsRate:
    if annual_rate < 0:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "A rate cannot be negative.", fields={"annual_rate": [">= 0"]}
        )
    rate, _created = SavingsRate.objects.update_or_create(
        product=product, effective_from=effective_from, defaults={"annual_rate": annual_rate}
    )
    return rate


@transaction.atomic
def savings_rate_schedule(
    *, actor: Any | None, product: SavingsProduct, effective_from: dt.date, annual_rate: Decimal
) -> SavingsRate:
    """Set the product's rate from a date on (a future date schedules a change)."""
    rate = _rate_add(product, effective_from, annual_rate)
    audit_record(
        actor=actor,
        action="savings.rate.schedule",
        target=product,
        changes={"effective_from": effective_from.isoformat(), "annual_rate": str(annual_rate)},
    )
    return rate


@transaction.atomic
def savings_account_open(
    *, actor: Any | None, member: Member, product: SavingsProduct, opened_on: dt.date
) -> SavingsAccount:
    if member.status == MemberStatus.EXITED:
        raise BusinessRuleViolation(
            ErrorCode.MEMBER_EXITED,
            "An exited member cannot open an account.",
            fields={"member": ["Exited."]},
        )
    if not product.is_active:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "This product is closed to new accounts.",
            fields={"product": ["Inactive."]},
        )
    # Member numbers are unique, so this is too; the row lock on the member serialises two openings.
    Member.objects.select_for_update().filter(pk=member.pk).first()
    sequence = SavingsAccount.objects.filter(member=member, product=product).count() + 1
    maturity = None
    if product.term_months:
        maturity = _add_months(opened_on, product.term_months)
    account = SavingsAccount.objects.create(
        number=f"{member.number}-{product.code}-{sequence}",
        member=member,
        product=product,
        branch_id=member.branch_id,
        opened_on=opened_on,
        maturity_date=maturity,
    )
    audit_record(
        actor=actor, action="savings.account.open", target=account, changes={"product": product.code}
    )
    return account


def _add_months(day: dt.date, months: int) -> dt.date:
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- Money movements -----------------------------------------------------------------------------


class _Replayed(Exception):
    """Raised inside a movement's transaction when its key was posted before: undo, then answer."""


@dataclass(frozen=True)
class _Locked:
    """What a movement needs of an account, read in the statement that locks (and may update) it."""

    account_id: int
    number: str
    balance_minor: int
    lien_minor: int
    status: str
    branch_id: int
    branch_code: str
    control_code: str
    member_id: int
    phone: str
    language: str
    sms_opt_out: bool = False


_DEPOSIT_SQL = """
UPDATE savings_savingsaccount AS a SET balance_minor = a.balance_minor + %(amount)s::bigint
FROM savings_savingsproduct p, ledger_account c, organisation_branch b, members_member m
WHERE a.id = %(account_id)s::bigint AND a.status = 'active'
  AND p.id = a.product_id AND c.id = p.control_account_id AND b.id = a.branch_id AND m.id = a.member_id
RETURNING a.id, a.number, a.balance_minor, a.lien_minor, a.status, a.branch_id, b.code, c.code,
    m.id, m.phone, m.message_language, m.sms_opt_out
"""

_RECORD_SQL = """
WITH movement AS (
    INSERT INTO savings_savingstransaction (account_id, kind, amount_minor, balance_after_minor, value_date,
        entry_id, idempotency_key, channel, memo, created_at, created_by_id, corrects_id)
    VALUES (%(account_id)s::bigint, %(kind)s::text, %(amount)s::bigint, %(balance_after)s::bigint,
        %(value_date)s::date, %(entry_id)s::bigint, %(key)s::text, %(channel)s::text, %(memo)s::text, now(),
        %(actor_id)s::bigint, NULL)
    RETURNING id, created_at
), message AS (
    INSERT INTO notifications_outboxmessage (kind, source_ref, member_id, phone, language, context, status,
        attempts, created_at)
    VALUES (%(message_kind)s::text, %(key)s::text, %(member_id)s::bigint, %(phone)s::text, %(language)s::text,
        %(context)s::jsonb, %(message_status)s::text, 0, now())
    ON CONFLICT (source_ref, kind) DO NOTHING
)
SELECT id, created_at FROM movement
"""


def _lock_for_withdrawal(account_id: int) -> tuple[SavingsAccount, _Locked]:
    account = (
        SavingsAccount.objects.select_for_update(of=("self",))
        .select_related("product__control_account", "branch", "member")
        .filter(pk=account_id)
        .first()
    )
    if account is None:
        raise _not_found(account_id)
    return account, _Locked(
        account_id=account.pk,
        number=account.number,
        balance_minor=account.balance_minor,
        lien_minor=account.lien_minor,
        status=account.status,
        branch_id=account.branch_id,
        branch_code=account.branch.code,
        control_code=account.product.control_account.code,
        member_id=account.member_id,
        phone=account.member.phone,
        language=account.member.message_language,
        sms_opt_out=account.member.sms_opt_out,
    )


def _memo(kind: TransactionKind, number: str, memo: str) -> str:
    label = _kind_label(workspace_language(), kind)
    return f"{label} {number}{' — ' + memo if memo else ''}"[:300]


def _record(
    *,
    locked: _Locked,
    kind: TransactionKind,
    signed_amount: int,
    balance_after: int,
    value_date: dt.date,
    entry_id: int,
    key: str,
    channel: str,
    memo: str,
    actor: Any | None,
    message_kind: MessageKind,
    direction: str = "",
) -> SavingsTransaction:
    context: dict[str, Any] = {
        "amount_minor": abs(signed_amount),
        "balance_minor": balance_after,
        "currency": workspace_currency(),
        "account": locked.number,
        "value_date": value_date.isoformat(),
    }
    if direction:
        # A transfer's two messages say which side of it each account was ("in" or "out").
        context["direction"] = direction
    # The outbox row is written by the statement below; the relay sends it once this commits.
    outbox_relay_kick_on_commit()
    transaction_id, created_at = prepared_fetchone(
        _RECORD_SQL,
        {
            "account_id": locked.account_id,
            "kind": kind.value,
            "amount": signed_amount,
            "balance_after": balance_after,
            "value_date": value_date,
            "entry_id": entry_id,
            "key": key,
            "channel": channel,
            "memo": memo,
            "actor_id": actor_id(actor),
            "message_kind": message_kind.value,
            "member_id": locked.member_id,
            "phone": locked.phone,
            "language": locked.language,
            "context": Jsonb(context),
            "message_status": outbox_initial_status(phone=locked.phone, sms_opt_out=locked.sms_opt_out),
        },
    )
    movement = SavingsTransaction(
        id=transaction_id,
        account_id=locked.account_id,
        kind=kind,
        amount_minor=signed_amount,
        balance_after_minor=balance_after,
        value_date=value_date,
        entry_id=entry_id,
        idempotency_key=key,
        channel=channel,
        memo=memo,
        created_at=created_at,
        created_by_id=actor_id(actor),
    )
    movement._state.adding = False
    return movement


def _replayed(key: str, account_id: int, signed_amount: int, value_date: dt.date) -> SavingsTransaction:
    existing = SavingsTransaction.objects.filter(idempotency_key=key).first()
    if existing is None:  # the key belongs to another kind of posting
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was already used for a different posting.",
            fields={"idempotency_key": ["Used by another posting."]},
        )
    if (existing.account_id, existing.amount_minor, existing.value_date) != (
        account_id,
        signed_amount,
        value_date,
    ):
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was already used for a different posting.",
            fields={"idempotency_key": [f"Used by savings transaction {existing.pk} with other content."]},
        )
    return existing


@dataclass(frozen=True)
class _DepositTarget:
    """What a deposit's entry says about its account; it changes (almost) never, so it is cached."""

    number: str
    branch_id: int
    branch_code: str
    control_code: str


_TARGET_SQL = """
SELECT a.number, a.branch_id, b.code, c.code
FROM savings_savingsaccount a
JOIN organisation_branch b ON b.id = a.branch_id
JOIN savings_savingsproduct p ON p.id = a.product_id
JOIN ledger_account c ON c.id = p.control_account_id
WHERE a.id = %(account_id)s::bigint
"""


@functools.lru_cache(maxsize=20_000)
def _deposit_target(schema: str, account_id: int) -> _DepositTarget | None:
    # A prepared statement: the first deposit to each account in a process reads this (a third
    # of the cost of the same read through the ORM).
    rows = prepared_fetchall(_TARGET_SQL, {"account_id": account_id})
    return _DepositTarget(*rows[0]) if rows else None


@functools.lru_cache(maxsize=64)
def _kind_label(language: str, kind: TransactionKind) -> str:
    with translation.override(language):
        return str(kind.label)


# The deposit's own writes around its posting, in the same statement (``posting_statement``): the
# balance (the guard: it matches only an active account whose branch and control account are still
# what the cached target says, so the entry's content is right; an account's number never
# changes; and, for the office channel, whose branch's day is not closed, checked under the day
# lock as ``counter_day_open_require`` does), then the savings transaction and the SMS. The
# account is found by its id alone, so its primary key drives the statement whatever the planner
# thinks of the other indexes.
_DEPOSIT_ONE_SQL = posting_statement(
    guard="""
    UPDATE savings_savingsaccount AS a SET balance_minor = a.balance_minor + %(amount)s::bigint
    FROM savings_savingsproduct p, ledger_account c, organisation_branch b, members_member m
    WHERE a.id = %(account_id)s::bigint AND a.status = 'active'
      AND b.id = a.branch_id AND b.code = %(branch_code)s::text
      AND p.id = a.product_id AND c.id = p.control_account_id AND c.code = %(control_code)s::text
      AND m.id = a.member_id
      AND accounting_counter_day_open(%(day_check)s::boolean, %(day_lock_key)s::text, a.branch_id,
          %(value_date)s::date)
    RETURNING a.id AS account_id, a.balance_minor, m.id AS member_id, m.phone, m.message_language,
        m.sms_opt_out""",
    after="""movement AS (
    INSERT INTO savings_savingstransaction (account_id, kind, amount_minor, balance_after_minor, value_date,
        entry_id, idempotency_key, channel, memo, created_at, created_by_id, corrects_id)
    SELECT guard.account_id, 'deposit', %(amount)s::bigint, guard.balance_minor, %(value_date)s::date,
        entry.id, %(key)s::text, %(channel)s::text, %(deposit_memo)s::text, now(), %(actor_id)s::bigint, NULL
    FROM guard, entry
    RETURNING id, created_at
), message AS (
    INSERT INTO notifications_outboxmessage (kind, source_ref, member_id, phone, language, context, status,
        attempts, created_at)
    SELECT %(message_kind)s::text, %(key)s::text, guard.member_id, guard.phone, guard.message_language,
        %(context)s::jsonb || jsonb_build_object('balance_minor', guard.balance_minor),
        CASE WHEN guard.sms_opt_out THEN %(opted_out)s::text
            WHEN guard.phone <> '' THEN %(pending)s::text ELSE %(no_recipient)s::text END, 0, now()
    FROM guard, entry
    ON CONFLICT (source_ref, kind) DO NOTHING
)""",
    columns="guard.balance_minor, (SELECT id FROM movement), (SELECT created_at FROM movement)",
)


def _deposit_in_one_statement(
    *,
    account_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    actor: Any | None,
    channel: str,
    memo: str,
    counter_account_code: str,
) -> SavingsTransaction | None:
    """The teller's deposit in one round trip (outside any transaction): one statement, committed alone.

    None when anything is out of the ordinary (a key seen before, an account changed, closed or
    unknown, a closed period, or for the office channel a closed branch day): nothing was written,
    and the step-by-step path handles it.
    """
    target = _deposit_target(str(getattr(connection, "schema_name", "")), account_id)
    if target is None:
        return None
    branch = Branch(id=target.branch_id, code=target.branch_code)
    parameters = posting_parameters(
        idempotency_key=idempotency_key,
        value_date=value_date,
        branch=branch,
        memo=_memo(TransactionKind.DEPOSIT, target.number, memo),
        lines=[
            LineSpec(counter_account_code or cash_account_code(target.branch_code), debit_minor=amount_minor),
            LineSpec(target.control_code, credit_minor=amount_minor),
        ],
        actor=actor,
    )
    parameters |= {
        "amount": amount_minor,
        "account_id": account_id,
        "branch_code": target.branch_code,
        "control_code": target.control_code,
        "channel": channel,
        "deposit_memo": memo,
        "message_kind": MessageKind.SAVINGS_DEPOSIT.value,
        "context": Jsonb(
            {
                "amount_minor": amount_minor,
                "currency": workspace_currency(),
                "account": target.number,
                "value_date": value_date.isoformat(),
            }
        ),
        "pending": OutboxStatus.PENDING.value,
        "no_recipient": OutboxStatus.NO_RECIPIENT.value,
        "opted_out": OutboxStatus.OPTED_OUT.value,
        **counter_day_statement_parameters(branch_id=target.branch_id, channel=channel),
    }
    try:
        rows = prepared_fetchall(_DEPOSIT_ONE_SQL, parameters)
    except psycopg.Error:
        return None  # nothing was written; the step-by-step path replays or explains
    if not rows:
        # The account changed (or closed) since it was cached, or the branch's day is closed.
        _deposit_target.cache_clear()
        return None
    outbox_relay_kick_on_commit()  # the statement wrote the member's SMS to the outbox
    row = rows[0]
    balance_after, transaction_id, created_at = row[5:8]
    movement = SavingsTransaction(
        id=transaction_id,
        account_id=account_id,
        kind=TransactionKind.DEPOSIT,
        amount_minor=amount_minor,
        balance_after_minor=balance_after,
        value_date=value_date,
        entry=posted_entry(row, parameters, branch=branch),
        idempotency_key=idempotency_key,
        channel=channel,
        memo=memo,
        created_at=created_at,
        created_by_id=parameters["actor_id"],
    )
    movement._state.adding = False
    return movement


def savings_deposit(
    *,
    account_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    actor: Any | None = None,
    channel: str = Channel.OFFICE,
    memo: str = "",
    counter_account_code: str = "",
) -> SavingsTransaction:
    """Pay money into a savings account (cash at the account's branch unless another account is named).

    The same key again returns the first transaction; nothing is posted or messaged twice.
    """
    _require_amount(amount_minor)
    if not connection.in_atomic_block:
        movement = _deposit_in_one_statement(
            account_id=account_id,
            amount_minor=amount_minor,
            value_date=value_date,
            idempotency_key=idempotency_key,
            actor=actor,
            channel=channel,
            memo=memo,
            counter_account_code=counter_account_code,
        )
        if movement is not None:
            return movement
    try:
        with transaction.atomic():
            rows = prepared_fetchall(_DEPOSIT_SQL, {"amount": amount_minor, "account_id": account_id})
            if not rows:
                raise _deposit_refusal(account_id)
            locked = _Locked(*rows[0])
            _counter_day_open(locked, value_date, channel, idempotency_key)
            posting = journal_post_result(
                idempotency_key=idempotency_key,
                value_date=value_date,
                branch=Branch(id=locked.branch_id, code=locked.branch_code),
                memo=_memo(TransactionKind.DEPOSIT, locked.number, memo),
                lines=[
                    LineSpec(
                        counter_account_code or cash_account_code(locked.branch_code),
                        debit_minor=amount_minor,
                    ),
                    LineSpec(locked.control_code, credit_minor=amount_minor),
                ],
                actor=actor,
            )
            if posting.replayed:
                raise _Replayed
            return _record(
                locked=locked,
                kind=TransactionKind.DEPOSIT,
                signed_amount=amount_minor,
                balance_after=locked.balance_minor,
                value_date=value_date,
                entry_id=posting.entry.pk,
                key=idempotency_key,
                channel=channel,
                memo=memo,
                actor=actor,
                message_kind=MessageKind.SAVINGS_DEPOSIT,
            )
    except _Replayed:
        return _replayed(idempotency_key, account_id, amount_minor, value_date)


def _counter_day_open(locked: _Locked, value_date: dt.date, channel: str, idempotency_key: str) -> None:
    """Refuse an office movement on the account's branch's closed day, unless its key was posted before."""
    try:
        counter_day_open_require(
            branch=Branch(id=locked.branch_id, code=locked.branch_code), day=value_date, channel=channel
        )
    except BusinessRuleViolation:
        if SavingsTransaction.objects.filter(idempotency_key=idempotency_key).exists():
            raise _Replayed from None  # posted while the day was open: answer with it
        raise


def _deposit_refusal(account_id: int) -> BusinessRuleViolation:
    account = SavingsAccount.objects.filter(pk=account_id).first()
    if account is None:
        return _not_found(account_id)
    return BusinessRuleViolation(
        ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE,
        f"Account {account.number} is {account.status}.",
        fields={"account": [f"Status: {account.status}."]},
    )


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    return first, _add_months(first, 1)


def _check_withdrawal(
    account: SavingsAccount, locked: _Locked, amount_minor: int, value_date: dt.date
) -> None:
    product = account.product
    if locked.status != AccountStatus.ACTIVE:
        raise BusinessRuleViolation(
            ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE,
            f"Account {locked.number} is {locked.status}.",
            fields={"account": [f"Status: {locked.status}."]},
        )
    if not product.withdrawals_allowed:
        raise BusinessRuleViolation(
            ErrorCode.WITHDRAWAL_NOT_ALLOWED,
            f"{product.name} pays out only at closure or maturity.",
            fields={"account": ["No withdrawals before closure."]},
        )
    if product.maximum_withdrawal_minor is not None and amount_minor > product.maximum_withdrawal_minor:
        raise BusinessRuleViolation(
            ErrorCode.WITHDRAWAL_LIMIT_EXCEEDED,
            "The amount is above the product's largest withdrawal.",
            fields={"amount_minor": [f"At most {product.maximum_withdrawal_minor}."]},
        )
    if product.withdrawals_per_month is not None:
        first, after = _month_bounds(value_date)
        done = SavingsTransaction.objects.filter(
            account_id=locked.account_id,
            kind=TransactionKind.WITHDRAWAL,
            value_date__gte=first,
            value_date__lt=after,
        ).count()
        if done >= product.withdrawals_per_month:
            raise BusinessRuleViolation(
                ErrorCode.WITHDRAWAL_LIMIT_EXCEEDED,
                f"{done} withdrawals this month already; the product allows {product.withdrawals_per_month}.",
                fields={"value_date": ["Monthly withdrawal count reached."]},
            )
    available = locked.balance_minor - locked.lien_minor - product.minimum_balance_minor
    if amount_minor > available:
        reason = "pledged as loan security" if locked.lien_minor else "the balance"
        raise BusinessRuleViolation(
            ErrorCode.INSUFFICIENT_BALANCE,
            f"Only {max(available, 0)} can be withdrawn ({reason} and the minimum balance stay).",
            fields={"amount_minor": [f"At most {max(available, 0)}."]},
        )


def _take(
    *,
    account_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    actor: Any | None,
    channel: str,
    memo: str,
    kind: TransactionKind,
    message_kind: MessageKind,
    counter_account_code: str,
    check_rules: bool = True,
    credit_lines: Sequence[LineSpec] = (),
) -> SavingsTransaction:
    _require_amount(amount_minor)
    if credit_lines and sum(line.credit_minor - line.debit_minor for line in credit_lines) != amount_minor:
        raise BusinessRuleViolation(
            ErrorCode.ENTRY_UNBALANCED,
            "The accounts credited do not add up to the amount taken.",
            fields={"credit_lines": [f"Must add up to {amount_minor}."]},
        )
    try:
        with transaction.atomic():
            account, locked = _lock_for_withdrawal(account_id)
            # After the lock: a concurrent request with this key has committed by now if it ran.
            if SavingsTransaction.objects.filter(idempotency_key=idempotency_key).exists():
                raise _Replayed
            counter_day_open_require(branch=account.branch, day=value_date, channel=channel)
            if check_rules:
                _check_withdrawal(account, locked, amount_minor, value_date)
            balance_after = locked.balance_minor - amount_minor
            SavingsAccount.objects.filter(pk=account_id).update(balance_minor=balance_after)
            posting = journal_post_result(
                idempotency_key=idempotency_key,
                value_date=value_date,
                branch=account.branch,
                memo=_memo(kind, locked.number, memo),
                lines=[
                    LineSpec(locked.control_code, debit_minor=amount_minor),
                    *(
                        credit_lines
                        or [
                            LineSpec(
                                counter_account_code or cash_account_code(locked.branch_code),
                                credit_minor=amount_minor,
                            )
                        ]
                    ),
                ],
                actor=actor,
            )
            if posting.replayed:
                raise _Replayed
            return _record(
                locked=locked,
                kind=kind,
                signed_amount=-amount_minor,
                balance_after=balance_after,
                value_date=value_date,
                entry_id=posting.entry.pk,
                key=idempotency_key,
                channel=channel,
                memo=memo,
                actor=actor,
                message_kind=message_kind,
            )
    except _Replayed:
        return _replayed(idempotency_key, account_id, -amount_minor, value_date)
    except IntegrityError as error:
        if "savings_no_overdraft" in str(error) or "savings_lien_within_balance" in str(error):
            raise BusinessRuleViolation(
                ErrorCode.INSUFFICIENT_BALANCE, "Not enough balance.", fields={"amount_minor": ["Too large."]}
            ) from error
        raise


def savings_withdraw(
    *,
    account_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    actor: Any | None = None,
    channel: str = Channel.OFFICE,
    memo: str = "",
    counter_account_code: str = "",
) -> SavingsTransaction:
    """Pay money out of a savings account in cash, within the product's rules.

    The cash leaves ``counter_account_code`` (the till of whoever pays it out) or, without one,
    the branch's cash.
    """
    return _take(
        account_id=account_id,
        amount_minor=amount_minor,
        value_date=value_date,
        idempotency_key=idempotency_key,
        actor=actor,
        channel=channel,
        memo=memo,
        kind=TransactionKind.WITHDRAWAL,
        message_kind=MessageKind.SAVINGS_WITHDRAWAL,
        counter_account_code=counter_account_code,
    )


def savings_pay_to_account(
    *,
    account_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    credit_account_code: str = "",
    credit_lines: Sequence[LineSpec] = (),
    actor: Any | None = None,
    memo: str = "",
    channel: str = Channel.OFFICE,
) -> SavingsTransaction:
    """Take money from savings to pay something the member owes (a loan instalment): no cash moves.

    The lending module names the account to credit (``credit_account_code``), or several
    (``credit_lines``: principal to loans receivable, interest to interest income...) adding up to
    the amount, so one entry carries the whole payment.
    """
    if bool(credit_account_code) == bool(credit_lines):
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "Name one account to credit, or the lines to credit.",
            fields={"credit_lines": ["Either an account code or lines."]},
        )
    return _take(
        account_id=account_id,
        amount_minor=amount_minor,
        value_date=value_date,
        idempotency_key=idempotency_key,
        actor=actor,
        channel=channel,
        memo=memo,
        kind=TransactionKind.LOAN_REPAYMENT,
        message_kind=MessageKind.SAVINGS_WITHDRAWAL,
        counter_account_code=credit_account_code,
        credit_lines=credit_lines,
    )


@dataclass(frozen=True)
class Transfer:
    taken: SavingsTransaction
    added: SavingsTransaction


def savings_transfer(
    *,
    from_account_id: int,
    to_account_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    actor: Any | None = None,
    memo: str = "",
) -> Transfer:
    """Move money between two accounts of the same member, as one balanced entry."""
    _require_amount(amount_minor)
    if from_account_id == to_account_id:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            "Choose two different accounts.",
            fields={"to_account": ["Same account."]},
        )
    out_key, in_key = f"{idempotency_key}:out", f"{idempotency_key}:in"
    try:
        with transaction.atomic():
            # Both rows locked in id order: two opposite transfers cannot deadlock.
            locked_rows = {}
            for account_id in sorted((from_account_id, to_account_id)):
                locked_rows[account_id] = _lock_for_withdrawal(account_id)
            source, source_locked = locked_rows[from_account_id]
            target, target_locked = locked_rows[to_account_id]
            if SavingsTransaction.objects.filter(idempotency_key=out_key).exists():
                raise _Replayed
            # The entry is dated in the source account's branch: its day decides.
            counter_day_open_require(branch=source.branch, day=value_date, channel=Channel.OFFICE)
            if source.member_id != target.member_id:
                raise BusinessRuleViolation(
                    ErrorCode.TRANSFER_BETWEEN_MEMBERS,
                    "Transfers are between one member's own accounts.",
                    fields={"to_account": ["Belongs to another member."]},
                )
            if target_locked.status != AccountStatus.ACTIVE:
                raise _deposit_refusal(to_account_id)
            _check_withdrawal(source, source_locked, amount_minor, value_date)
            source_after = source_locked.balance_minor - amount_minor
            target_after = target_locked.balance_minor + amount_minor
            SavingsAccount.objects.filter(pk=from_account_id).update(balance_minor=source_after)
            SavingsAccount.objects.filter(pk=to_account_id).update(balance_minor=target_after)
            # Between two accounts of one product both lines name the same control account: the
            # ledger's total does not move, and the entry still records the transfer.
            lines = [
                LineSpec(source_locked.control_code, debit_minor=amount_minor),
                LineSpec(target_locked.control_code, credit_minor=amount_minor),
            ]
            posting = journal_post_result(
                idempotency_key=idempotency_key,
                value_date=value_date,
                branch=source.branch,
                memo=_memo(
                    TransactionKind.TRANSFER_OUT, f"{source_locked.number} → {target_locked.number}", memo
                ),
                lines=lines,
                actor=actor,
            )
            if posting.replayed:
                raise _Replayed
            taken = _record(
                locked=source_locked,
                kind=TransactionKind.TRANSFER_OUT,
                signed_amount=-amount_minor,
                balance_after=source_after,
                value_date=value_date,
                entry_id=posting.entry.pk,
                key=out_key,
                channel=Channel.OFFICE,
                memo=memo,
                actor=actor,
                message_kind=MessageKind.SAVINGS_TRANSFER,
                direction="out",
            )
            added = _record(
                locked=target_locked,
                kind=TransactionKind.TRANSFER_IN,
                signed_amount=amount_minor,
                balance_after=target_after,
                value_date=value_date,
                entry_id=posting.entry.pk,
                key=in_key,
                channel=Channel.OFFICE,
                memo=memo,
                actor=actor,
                # One SMS per account (each has its own key): this one says the money came in.
                message_kind=MessageKind.SAVINGS_TRANSFER,
                direction="in",
            )
            return Transfer(taken=taken, added=added)
    except _Replayed:
        return Transfer(
            taken=_replayed(out_key, from_account_id, -amount_minor, value_date),
            added=_replayed(in_key, to_account_id, amount_minor, value_date),
        )


# --- Liens ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavingsCorrection:
    movement: SavingsTransaction  # the correction's own line in the account's history (kind correction)
    reversal: JournalEntry
    corrected: JournalEntry | None


_CORRECTABLE = (TransactionKind.DEPOSIT, TransactionKind.WITHDRAWAL)


def savings_correct(
    *,
    transaction_id: int,
    corrected_amount_minor: int,
    reason: str,
    idempotency_key: str,
    value_date: dt.date,
    actor: Any | None = None,
) -> SavingsCorrection:
    """Correct a deposit or withdrawal: the ledger reverses it and posts the right amount (0 cancels it).

    The account's history is never edited: a correction line carries the difference, linked to the
    transaction it corrects, and the member gets an SMS. Both ledger entries link to the original
    (``journal_correct``), so the savings control account and the accounts' balances stay equal.
    The same key again returns the first correction.
    """
    if isinstance(corrected_amount_minor, bool) or not isinstance(corrected_amount_minor, int):
        raise BusinessRuleViolation(
            ErrorCode.AMOUNT_INVALID,
            "The corrected amount must be a whole number of minor units.",
            fields={"corrected_amount_minor": ["A whole number, 0 to cancel."]},
        )
    earlier = SavingsTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        return _correction_replayed(earlier, transaction_id)
    with transaction.atomic():
        original = (
            SavingsTransaction.objects.select_related("entry__branch").filter(pk=transaction_id).first()
        )
        if original is None or original.kind not in _CORRECTABLE:
            raise BusinessRuleViolation(
                ErrorCode.NOT_FOUND,
                "No deposit or withdrawal with this id.",
                fields={"transaction": [f"No deposit or withdrawal {transaction_id}."]},
            )
        sign = 1 if original.kind == TransactionKind.DEPOSIT else -1
        if corrected_amount_minor < 0 or corrected_amount_minor == abs(original.amount_minor):
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "The corrected amount must differ from the original and not be negative.",
                fields={"corrected_amount_minor": [f"Not {abs(original.amount_minor)}, not below 0."]},
            )
        account, locked = _lock_for_withdrawal(original.account_id)
        # The correction's entries are dated in the original's branch, on ``value_date``.
        counter_day_open_require(branch=original.entry.branch, day=value_date, channel=Channel.OFFICE)
        difference = sign * corrected_amount_minor - original.amount_minor
        balance_after = locked.balance_minor + difference
        if balance_after < locked.lien_minor:
            raise BusinessRuleViolation(
                ErrorCode.INSUFFICIENT_BALANCE,
                "The account's balance cannot carry this correction.",
                fields={"corrected_amount_minor": [f"The balance is {locked.balance_minor}."]},
            )
        original_lines = list(original.entry.lines.select_related("account").order_by("id"))
        corrected_lines = [
            LineSpec(
                line.account.code,
                debit_minor=corrected_amount_minor if line.debit_minor else 0,
                credit_minor=corrected_amount_minor if line.credit_minor else 0,
            )
            for line in original_lines
        ]
        correction = journal_correct(
            original=original.entry,
            reason=reason,
            idempotency_key=idempotency_key,
            value_date=value_date,
            corrected_lines=corrected_lines if corrected_amount_minor else (),
            actor=actor,
        )
        SavingsAccount.objects.filter(pk=account.pk).update(balance_minor=balance_after)
        movement = SavingsTransaction.objects.create(
            account_id=account.pk,
            kind=TransactionKind.CORRECTION,
            amount_minor=difference,
            balance_after_minor=balance_after,
            value_date=value_date,
            entry=correction.reversal,
            idempotency_key=idempotency_key,
            channel=Channel.OFFICE,
            memo=reason.strip()[:300],
            created_at=timezone.now(),
            created_by_id=actor_id(actor),
            corrects=original,
        )
        outbox_enqueue(
            kind=MessageKind.CORRECTION,
            source_ref=idempotency_key,
            member=account.member,
            context={
                "account": locked.number,
                "original_minor": abs(original.amount_minor),
                "amount_minor": corrected_amount_minor,
                "balance_minor": balance_after,
                "currency": workspace_currency(),
                "value_date": value_date.isoformat(),
            },
        )
    return SavingsCorrection(movement=movement, reversal=correction.reversal, corrected=correction.corrected)


def _correction_replayed(earlier: SavingsTransaction, transaction_id: int) -> SavingsCorrection:
    if earlier.kind != TransactionKind.CORRECTION or earlier.corrects_id != transaction_id:
        raise BusinessRuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was already used for a different posting.",
            fields={"idempotency_key": [f"Used by savings transaction {earlier.pk}."]},
        )
    reversal = earlier.entry
    return SavingsCorrection(
        movement=earlier,
        reversal=reversal,
        corrected=JournalEntry.objects.filter(idempotency_key=f"{earlier.idempotency_key}:corrected").first(),
    )


@transaction.atomic
def lien_place(
    *, actor: Any | None, account_id: int, amount_minor: int, reason: str, reference: str = ""
) -> Lien:
    """Pledge part of a balance as security (a loan): that much can no longer be withdrawn."""
    _require_amount(amount_minor)
    account, locked = _lock_for_withdrawal(account_id)
    if amount_minor > locked.balance_minor - locked.lien_minor:
        raise BusinessRuleViolation(
            ErrorCode.INSUFFICIENT_BALANCE,
            "The lien is larger than the free balance.",
            fields={"amount_minor": [f"At most {locked.balance_minor - locked.lien_minor}."]},
        )
    SavingsAccount.objects.filter(pk=account_id).update(lien_minor=locked.lien_minor + amount_minor)
    lien = Lien.objects.create(
        account=account,
        amount_minor=amount_minor,
        reason=reason.strip(),
        reference=reference,
        created_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="savings.lien.place",
        target=account,
        changes={
            "lien": lien.pk,
            "amount_minor": amount_minor,
            "reason": lien.reason,
            "reference": reference,
        },
    )
    return lien


@transaction.atomic
def lien_release(*, actor: Any | None, lien_id: int) -> Lien:
    lien = Lien.objects.select_for_update().filter(pk=lien_id).first()
    if lien is None:
        raise BusinessRuleViolation(ErrorCode.NOT_FOUND, "No such lien.", fields={"lien": ["Not found."]})
    if lien.released_at is not None:
        return lien
    account, locked = _lock_for_withdrawal(lien.account_id)
    SavingsAccount.objects.filter(pk=account.pk).update(lien_minor=locked.lien_minor - lien.amount_minor)
    lien.released_at = timezone.now()
    lien.save(update_fields=["released_at"])
    audit_record(
        actor=actor,
        action="savings.lien.release",
        target=account,
        changes={"lien": lien.pk, "amount_minor": lien.amount_minor},
    )
    return lien


def product_balances_total(products: Sequence[SavingsProduct]) -> dict[int, int]:
    """Sum of the accounts' balances per product (what each control account must hold)."""
    from django.db.models import Sum

    rows = (
        SavingsAccount.objects.filter(product__in=products)
        .values("product_id")
        .annotate(total=Sum("balance_minor"))
    )
    return {row["product_id"]: int(row["total"] or 0) for row in rows}
