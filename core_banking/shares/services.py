"""The one write path for share capital and member exit.

Each money movement commits, in one transaction: the ledger entry (``journal_post_result``), the
share account's new holding, a ``ShareTransaction`` and the member's SMS in the outbox. Locks are
taken in one order everywhere: the share settings row (shared), the member row, the member's
share account, the member's savings accounts (by id), then the ledger's chain head.

A purchase is Dr cash of the member's branch (1100-<branch>) / Cr share capital (3100); the exit
withdrawal is the reverse. A replay of an idempotency key with the same content answers with what
was recorded the first time and writes nothing; with other content it is refused.

A branch's closed day takes no more office purchases or exits (``counter_day_open_require``, after
the rows above and before the chain head); field, import and system purchases still land.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from babel.numbers import get_currency_precision
from django.db import transaction
from django.utils import timezone, translation

from control_plane.audit.services import audit_record, diff
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting.day_rules import counter_day_open_require
from core_banking.ledger import presets
from core_banking.ledger.services import LineSpec, actor_id, journal_post_result
from core_banking.members.models import Member, MemberStatus
from core_banking.organisation.models import Branch
from core_banking.savings.models import AccountStatus, Channel, SavingsAccount, SavingsTransaction
from core_banking.savings.models import TransactionKind as SavingsTransactionKind
from core_banking.shares.exit_rules import exit_blockers
from core_banking.shares.models import (
    SETTINGS_ROW_ID,
    MemberExit,
    ShareAccount,
    ShareSettings,
    ShareTransaction,
    ShareTransactionKind,
)
from notifications.models import MessageKind
from notifications.services import outbox_enqueue
from tenants.db import workspace_currency, workspace_language

SHARE_CAPITAL_CODE = "3100"
# A sensible first share value per currency, in whole units (changed in the share settings).
DEFAULT_NOMINAL_UNITS = {"BDT": 100, "THB": 10, "VND": 100_000}
DEFAULT_NOMINAL_UNITS_OTHERWISE = 100
# Exit keys get suffixes (":shares", ":savings:<id>") for the postings they make; the ledger's
# keys are at most 120 characters.
EXIT_KEY_MAX_LENGTH = 80
# Amounts are BIGINT in PostgreSQL; anything near that is a typing mistake, not a purchase.
LARGEST_AMOUNT_MINOR = 2**62


def _key_reused(detail: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        "This idempotency key was already used for a different request.",
        fields={"idempotency_key": [detail]},
    )


def _member_not_found(member_id: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.NOT_FOUND, "No such member.", fields={"member": [f"No member {member_id}."]}
    )


def _whole_positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


# --- Settings ------------------------------------------------------------------------------------


def share_settings_defaults(currency: str) -> ShareSettings:
    """Unsaved settings a cooperative starts with: one share of a round value, at least one share."""
    exponent = get_currency_precision(currency)
    units = DEFAULT_NOMINAL_UNITS.get(currency, DEFAULT_NOMINAL_UNITS_OTHERWISE)
    return ShareSettings(
        id=SETTINGS_ROW_ID, nominal_value_minor=units * 10**exponent, minimum_shares=1, maximum_shares=None
    )


_SETTINGS_FOR_SHARE = "SELECT * FROM shares_sharesettings WHERE id = %s FOR SHARE"
_SETTINGS_FOR_UPDATE = "SELECT * FROM shares_sharesettings WHERE id = %s FOR UPDATE"


def _settings_row(*, for_update: bool) -> ShareSettings:
    """The settings row, created with the defaults on first use, locked for the caller's transaction.

    Purchases take it shared (FOR SHARE: they do not wait for each other); a settings change takes
    it exclusively, so a new share value never lands between a purchase's read and its commit.
    """
    statement = _SETTINGS_FOR_UPDATE if for_update else _SETTINGS_FOR_SHARE
    rows = list(ShareSettings.objects.raw(statement, [SETTINGS_ROW_ID]))
    if not rows:
        # Two first uses at once: one inserts, the other's insert does nothing; both then lock it.
        ShareSettings.objects.bulk_create(
            [share_settings_defaults(workspace_currency())], ignore_conflicts=True
        )
        rows = list(ShareSettings.objects.raw(statement, [SETTINGS_ROW_ID]))
    return rows[0]


@transaction.atomic
def share_settings_update(
    *,
    actor: Any | None,
    nominal_value_minor: int,
    minimum_shares: int,
    maximum_shares: int | None,
) -> ShareSettings:
    """Change the share terms. The value of a share is fixed while any member holds shares."""
    problems: dict[str, list[str]] = {}
    if not _whole_positive(nominal_value_minor) or nominal_value_minor > LARGEST_AMOUNT_MINOR:
        problems["nominal_value_minor"] = ["A positive whole number of minor units."]
    if isinstance(minimum_shares, bool) or not isinstance(minimum_shares, int) or minimum_shares < 0:
        problems["minimum_shares"] = ["A whole number, 0 or more."]
    if maximum_shares is not None and (
        not _whole_positive(maximum_shares)
        or (isinstance(minimum_shares, int) and maximum_shares < minimum_shares)
    ):
        problems["maximum_shares"] = ["Empty, or a whole number not below the minimum."]
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "Some share settings are not valid.", fields=problems
        )
    current = _settings_row(for_update=True)
    before = _settings_values(current)
    if (
        nominal_value_minor != current.nominal_value_minor
        and ShareAccount.objects.filter(shares__gt=0).exists()
    ):
        raise BusinessRuleViolation(
            ErrorCode.SHARE_VALUE_LOCKED,
            "The value of a share cannot change while members hold shares.",
            fields={"nominal_value_minor": [f"Stays {current.nominal_value_minor} while shares are held."]},
        )
    current.nominal_value_minor = nominal_value_minor
    current.minimum_shares = minimum_shares
    current.maximum_shares = maximum_shares
    current.updated_at = timezone.now()
    current.save()
    changes = diff(before, _settings_values(current))
    if changes:
        audit_record(actor=actor, action="shares.settings.update", target=current, changes=changes)
    return current


def _settings_values(settings_row: ShareSettings) -> dict[str, Any]:
    return {
        "nominal_value_minor": settings_row.nominal_value_minor,
        "minimum_shares": settings_row.minimum_shares,
        "maximum_shares": settings_row.maximum_shares,
    }


# --- Purchases -----------------------------------------------------------------------------------


class _Replayed(Exception):
    """Raised inside a movement's transaction when its key was used before: undo, then answer."""


def _lock_member(member_id: int) -> Member:
    # FOR NO KEY UPDATE: purchases and an exit of one member queue behind each other, while rows
    # that merely reference the member (savings movements, outbox) are not held up.
    member = (
        Member.objects.select_for_update(of=("self",), no_key=True)
        .select_related("branch")
        .filter(pk=member_id)
        .first()
    )
    if member is None:
        raise _member_not_found(member_id)
    return member


def _lock_share_account(member: Member, opened_on: dt.date | None) -> ShareAccount | None:
    """The member's share account, locked; created (empty) when ``opened_on`` is given and none exists."""
    account = ShareAccount.objects.select_for_update().filter(member_id=member.pk).first()
    if account is None and opened_on is not None:
        # The member's row is locked, so no one else creates it meanwhile.
        account = ShareAccount.objects.create(member=member, opened_on=opened_on)
    return account


def _memo(label: Any, member: Member, memo: str) -> str:
    with translation.override(workspace_language()):
        text = str(label)
    return f"{text} {member.number}{' — ' + memo if memo else ''}"[:300]


def _record(
    *,
    account: ShareAccount,
    member: Member,
    kind: ShareTransactionKind,
    shares: int,
    amount_minor: int,
    value_date: dt.date,
    entry_id: int,
    key: str,
    channel: str,
    memo: str,
    actor: Any | None,
    message_kind: MessageKind,
) -> ShareTransaction:
    movement = ShareTransaction.objects.create(
        account=account,
        kind=kind,
        shares=shares,
        amount_minor=amount_minor,
        shares_after=account.shares,
        balance_after_minor=account.balance_minor,
        value_date=value_date,
        entry_id=entry_id,
        idempotency_key=key,
        channel=channel,
        memo=memo,
        created_at=timezone.now(),
        created_by_id=actor_id(actor),
    )
    outbox_enqueue(
        kind=message_kind,
        source_ref=key,
        member=member,
        context={
            "amount_minor": abs(amount_minor),
            "shares": abs(shares),
            "shares_held": account.shares,
            "balance_minor": account.balance_minor,
            "currency": workspace_currency(),
            "member": member.number,
            "value_date": value_date.isoformat(),
        },
    )
    return movement


def _replayed_purchase(key: str, member_id: int, shares: int, value_date: dt.date) -> ShareTransaction:
    existing = ShareTransaction.objects.select_related("account").filter(idempotency_key=key).first()
    if existing is None:  # the key carries another kind of posting
        raise _key_reused("Used by another posting.")
    if (existing.kind, existing.account.member_id, existing.shares, existing.value_date) != (
        ShareTransactionKind.PURCHASE,
        member_id,
        shares,
        value_date,
    ):
        raise _key_reused(f"Used by share transaction {existing.pk} with other content.")
    return existing


def share_purchase(
    *,
    member_id: int,
    shares: int,
    value_date: dt.date,
    idempotency_key: str,
    actor: Any | None = None,
    channel: str = Channel.OFFICE,
    memo: str = "",
    cash_account_code: str | None = None,
) -> ShareTransaction:
    """A member buys shares for cash at their branch: Dr 1100-<branch> / Cr 3100, one SMS.

    ``cash_account_code`` names the account of the person who took the cash (a teller's till);
    without it the cash lands in the branch's cash account.

    The holding must stay within the cooperative's minimum and maximum. The same key again
    returns the first transaction; nothing is posted or messaged twice.
    """
    if not _whole_positive(shares):
        raise BusinessRuleViolation(
            ErrorCode.AMOUNT_INVALID,
            "The number of shares must be a positive whole number.",
            fields={"shares": ["A positive whole number."]},
        )
    if channel not in Channel.values:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "Unknown channel.", fields={"channel": list(Channel.values)}
        )
    try:
        with transaction.atomic():
            terms = _settings_row(for_update=False)
            member = _lock_member(member_id)
            # After the lock: a concurrent request with this key has committed by now if it ran.
            if ShareTransaction.objects.filter(idempotency_key=idempotency_key).exists():
                raise _Replayed
            if member.status == MemberStatus.EXITED:
                raise BusinessRuleViolation(
                    ErrorCode.MEMBER_EXITED,
                    "An exited member cannot buy shares.",
                    fields={"member": ["Exited."]},
                )
            amount_minor = shares * terms.nominal_value_minor
            if amount_minor > LARGEST_AMOUNT_MINOR:
                raise BusinessRuleViolation(
                    ErrorCode.AMOUNT_INVALID, "Too many shares.", fields={"shares": ["Far too large."]}
                )
            account = _lock_share_account(member, opened_on=value_date)
            assert account is not None
            counter_day_open_require(branch=member.branch, day=value_date, channel=channel)
            held_after = account.shares + shares
            if terms.maximum_shares is not None and held_after > terms.maximum_shares:
                room = max(terms.maximum_shares - account.shares, 0)
                raise BusinessRuleViolation(
                    ErrorCode.SHARES_ABOVE_MAXIMUM,
                    f"A member may hold at most {terms.maximum_shares} shares; "
                    f"{member.number} holds {account.shares}.",
                    fields={"shares": [f"At most {room}."]},
                )
            if held_after < terms.minimum_shares:
                raise BusinessRuleViolation(
                    ErrorCode.SHARES_BELOW_MINIMUM,
                    f"A member holds at least {terms.minimum_shares} shares; "
                    f"{member.number} would hold {held_after}.",
                    fields={"shares": [f"At least {terms.minimum_shares - account.shares}."]},
                )
            account.shares = held_after
            account.balance_minor += amount_minor
            account.save(update_fields=["shares", "balance_minor"])
            posting = journal_post_result(
                idempotency_key=idempotency_key,
                value_date=value_date,
                branch=member.branch,
                memo=_memo(ShareTransactionKind.PURCHASE.label, member, memo),
                lines=[
                    LineSpec(
                        cash_account_code or presets.cash_account_code(member.branch.code),
                        debit_minor=amount_minor,
                    ),
                    LineSpec(SHARE_CAPITAL_CODE, credit_minor=amount_minor),
                ],
                actor=actor,
            )
            if posting.replayed:
                raise _Replayed
            movement = _record(
                account=account,
                member=member,
                kind=ShareTransactionKind.PURCHASE,
                shares=shares,
                amount_minor=amount_minor,
                value_date=value_date,
                entry_id=posting.entry.pk,
                key=idempotency_key,
                channel=channel,
                memo=memo,
                actor=actor,
                message_kind=MessageKind.SHARE_PURCHASE,
            )
            audit_record(
                actor=actor,
                action="shares.purchase",
                target=member,
                changes={
                    "shares": shares,
                    "amount_minor": amount_minor,
                    "shares_held": account.shares,
                    "entry": posting.entry.pk,
                },
            )
            return movement
    except _Replayed:
        return _replayed_purchase(idempotency_key, member_id, shares, value_date)


# --- Member exit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExitSettlement:
    exit: MemberExit
    share_withdrawal: ShareTransaction | None
    savings_payouts: list[SavingsTransaction]


def _shares_key(key: str) -> str:
    return f"{key}:shares"


def _savings_key(key: str, account_id: int) -> str:
    return f"{key}:savings:{account_id}"


def _settlement_of(record: MemberExit) -> ExitSettlement:
    key = record.idempotency_key
    return ExitSettlement(
        exit=record,
        share_withdrawal=ShareTransaction.objects.filter(idempotency_key=_shares_key(key)).first(),
        savings_payouts=list(
            SavingsTransaction.objects.filter(
                idempotency_key__startswith=f"{key}:savings:", account__member_id=record.member_id
            ).order_by("id")
        ),
    )


def _close_savings_account(*, actor: Any | None, account: SavingsAccount, closed_on: dt.date) -> None:
    """Mark a paid-out savings account closed (the savings module has no closing service yet)."""
    SavingsAccount.objects.filter(pk=account.pk).update(status=AccountStatus.CLOSED, closed_on=closed_on)
    audit_record(
        actor=actor,
        action="savings.account.close",
        target=account,
        changes={"status": [account.status, AccountStatus.CLOSED.value], "closed_on": closed_on.isoformat()},
    )


def _pay_out_savings(
    *,
    actor: Any | None,
    account: SavingsAccount,
    exit_date: dt.date,
    key: str,
    memo: str,
    cash_account_code: str | None,
) -> SavingsTransaction:
    """The closing payout: the whole balance in cash, whatever the product's withdrawal rules say.

    Minimum balance, withdrawal counts and "no withdrawals before closure" bind a member who stays;
    on exit everything is paid. Liens are not waived: they block the exit before this runs.
    """
    from core_banking.savings.services import _take

    return _take(
        account_id=account.pk,
        amount_minor=account.balance_minor,
        value_date=exit_date,
        idempotency_key=key,
        actor=actor,
        channel=Channel.OFFICE,
        memo=memo,
        kind=SavingsTransactionKind.WITHDRAWAL,
        message_kind=MessageKind.SAVINGS_WITHDRAWAL,
        counter_account_code=cash_account_code or "",
        check_rules=False,
    )


def _check_exit_request(idempotency_key: str, reason: str) -> None:
    problems: dict[str, list[str]] = {}
    if not idempotency_key or len(idempotency_key) > EXIT_KEY_MAX_LENGTH:
        problems["idempotency_key"] = [f"1-{EXIT_KEY_MAX_LENGTH} characters."]
    if not reason.strip():
        problems["reason"] = ["Required."]
    elif len(reason.strip()) > 300:
        problems["reason"] = ["At most 300 characters."]
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "The exit request is not complete.", fields=problems
        )


def member_exit(
    *,
    member_id: int,
    exit_date: dt.date,
    idempotency_key: str,
    actor: Any | None = None,
    reason: str,
    cash_account_code: str | None = None,
) -> ExitSettlement:
    """A member leaves: shares and savings are paid out in cash, accounts closed, status exited.

    ``cash_account_code`` names the account of the person who pays the cash out (a teller's till);
    without it the cash leaves the member's branch's cash account.

    Refused with ``EXIT_REFUSED`` (reasons per blocker in ``fields``) while any registered exit
    blocker answers (``core_banking.shares.exit_rules``). All of it commits together, audited; the
    same key again returns the first settlement and changes nothing.
    """
    _check_exit_request(idempotency_key, reason)
    reason = reason.strip()
    with transaction.atomic():
        member = _lock_member(member_id)
        earlier = MemberExit.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            if (earlier.member_id, earlier.exit_date, earlier.reason) != (member_id, exit_date, reason):
                raise _key_reused(f"Used by the exit of member {earlier.member_id} with other content.")
            return _settlement_of(earlier)
        if member.status == MemberStatus.EXITED:
            raise BusinessRuleViolation(
                ErrorCode.MEMBER_EXITED,
                f"Member {member.number} exited on {member.exit_date}.",
                fields={"member": ["Already exited."]},
            )
        if exit_date < member.join_date:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "A member cannot leave before joining.",
                fields={"exit_date": [f"On or after {member.join_date.isoformat()}."]},
            )
        share_account = _lock_share_account(member, opened_on=None)
        savings_accounts = list(
            SavingsAccount.objects.select_for_update()
            .filter(member_id=member.pk)
            .exclude(status=AccountStatus.CLOSED)
            .order_by("id")
        )
        # The share payout is dated in the member's branch, each savings payout in its account's:
        # every one of those days must be open (day locks taken in branch id order, as a month close
        # takes them).
        branch_ids = {member.branch_id} | {account.branch_id for account in savings_accounts}
        for branch in Branch.objects.filter(pk__in=branch_ids).order_by("pk"):
            counter_day_open_require(branch=branch, day=exit_date, channel=Channel.OFFICE)
        blockers = exit_blockers(member)
        if blockers:
            raise BusinessRuleViolation(
                ErrorCode.EXIT_REFUSED,
                f"Member {member.number} cannot exit yet.",
                fields=blockers,
            )
        with translation.override(workspace_language()):
            exit_memo = translation.gettext("Exit of member %(number)s") % {"number": member.number}
        withdrawal = None
        if share_account is not None and share_account.shares > 0:
            withdrawal = _withdraw_all_shares(
                account=share_account,
                member=member,
                exit_date=exit_date,
                key=idempotency_key,
                actor=actor,
                cash_account_code=cash_account_code,
            )
        payouts = []
        for account in savings_accounts:
            if account.balance_minor > 0:
                payouts.append(
                    _pay_out_savings(
                        actor=actor,
                        account=account,
                        exit_date=exit_date,
                        key=_savings_key(idempotency_key, account.pk),
                        memo=exit_memo,
                        cash_account_code=cash_account_code,
                    )
                )
            _close_savings_account(actor=actor, account=account, closed_on=exit_date)
        previous_status = member.status
        Member.objects.filter(pk=member.pk).update(status=MemberStatus.EXITED, exit_date=exit_date)
        record = MemberExit.objects.create(
            member=member,
            exit_date=exit_date,
            reason=reason,
            idempotency_key=idempotency_key,
            shares_paid_out=-withdrawal.shares if withdrawal else 0,
            share_amount_minor=-withdrawal.amount_minor if withdrawal else 0,
            savings_paid_out_minor=sum(-payout.amount_minor for payout in payouts),
            created_at=timezone.now(),
            created_by_id=actor_id(actor),
        )
        audit_record(
            actor=actor,
            action="member.exit",
            target=member,
            changes={
                "status": [previous_status, MemberStatus.EXITED.value],
                "exit_date": exit_date.isoformat(),
                "reason": reason,
                "shares_paid_out": record.shares_paid_out,
                "share_amount_minor": record.share_amount_minor,
                "savings_paid_out_minor": record.savings_paid_out_minor,
                "savings_accounts_closed": [account.number for account in savings_accounts],
            },
        )
        return ExitSettlement(exit=record, share_withdrawal=withdrawal, savings_payouts=payouts)


def _withdraw_all_shares(
    *,
    account: ShareAccount,
    member: Member,
    exit_date: dt.date,
    key: str,
    actor: Any | None,
    cash_account_code: str | None,
) -> ShareTransaction:
    """Pay the member's whole holding back in cash: Dr 3100 / Cr the till or 1100-<branch>."""
    shares, amount_minor = account.shares, account.balance_minor
    account.shares, account.balance_minor = 0, 0
    account.save(update_fields=["shares", "balance_minor"])
    posting = journal_post_result(
        idempotency_key=_shares_key(key),
        value_date=exit_date,
        branch=member.branch,
        memo=_memo(ShareTransactionKind.WITHDRAWAL.label, member, ""),
        lines=[
            LineSpec(SHARE_CAPITAL_CODE, debit_minor=amount_minor),
            LineSpec(
                cash_account_code or presets.cash_account_code(member.branch.code), credit_minor=amount_minor
            ),
        ],
        actor=actor,
    )
    if posting.replayed:  # the derived key was taken by some other posting
        raise _key_reused(f"{_shares_key(key)} is used by entry {posting.entry.pk}.")
    return _record(
        account=account,
        member=member,
        kind=ShareTransactionKind.WITHDRAWAL,
        shares=-shares,
        amount_minor=-amount_minor,
        value_date=exit_date,
        entry_id=posting.entry.pk,
        key=_shares_key(key),
        channel=Channel.OFFICE,
        memo="",
        actor=actor,
        message_kind=MessageKind.SHARE_WITHDRAWAL,
    )
