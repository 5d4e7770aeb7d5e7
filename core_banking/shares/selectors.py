"""Reads of share capital: settings, a member's holding and history, what an exit would pay out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from core_banking.members.models import Member
from core_banking.savings.models import AccountStatus, SavingsAccount
from core_banking.shares.exit_rules import exit_blockers
from core_banking.shares.models import MemberExit, ShareAccount, ShareSettings, ShareTransaction
from core_banking.shares.services import share_settings_defaults
from tenants.db import workspace_currency


def share_settings_current() -> ShareSettings:
    """The stored settings, or (before the first purchase or change) the defaults, unsaved."""
    stored = ShareSettings.objects.first()
    if stored is not None:
        return stored
    return share_settings_defaults(workspace_currency())


def members_visible(*, visible_branch_ids: list[int] | None) -> QuerySet[Member]:
    """Members a staff user may see: all (None) or those of their branches."""
    members = Member.objects.select_related("branch")
    if visible_branch_ids is not None:
        members = members.filter(branch_id__in=visible_branch_ids)
    return members


def member_for_staff(*, member_id: int, visible_branch_ids: list[int] | None) -> Member:
    """The member if the user may see them; ``Member.DoesNotExist`` otherwise (as if absent)."""
    return members_visible(visible_branch_ids=visible_branch_ids).get(pk=member_id)


@dataclass(frozen=True)
class SharePosition:
    member_id: int
    shares: int
    balance_minor: int
    nominal_value_minor: int
    opened_on: dt.date | None


def share_position(*, member: Member) -> SharePosition:
    """What a member holds now (zero before their first purchase)."""
    account = ShareAccount.objects.filter(member_id=member.pk).first()
    nominal = share_settings_current().nominal_value_minor
    if account is None:
        return SharePosition(member.pk, 0, 0, nominal, None)
    return SharePosition(member.pk, account.shares, account.balance_minor, nominal, account.opened_on)


def share_history(*, member: Member) -> QuerySet[ShareTransaction]:
    """A member's share movements, oldest first (the order they happened in)."""
    return ShareTransaction.objects.filter(account__member_id=member.pk).order_by("value_date", "id")


def share_capital_total() -> int:
    """Share capital held by all members together (what account 3100 carries)."""
    return int(ShareAccount.objects.aggregate(total=Sum("balance_minor"))["total"] or 0)


@dataclass(frozen=True)
class SavingsPayout:
    account_id: int
    number: str
    product: str
    balance_minor: int
    lien_minor: int


@dataclass(frozen=True)
class ExitPreview:
    """What the exit page shows before confirmation: what blocks it, and what would be paid out."""

    member: Member
    blockers: dict[str, list[str]]
    shares: int
    share_amount_minor: int
    savings: list[SavingsPayout]
    done: MemberExit | None

    @property
    def savings_total_minor(self) -> int:
        return sum(payout.balance_minor for payout in self.savings)

    @property
    def total_minor(self) -> int:
        return self.share_amount_minor + self.savings_total_minor

    @property
    def allowed(self) -> bool:
        return self.done is None and not self.blockers


def exit_preview(*, member: Member) -> ExitPreview:
    done = MemberExit.objects.filter(member_id=member.pk).first()
    position = share_position(member=member)
    accounts = (
        SavingsAccount.objects.filter(member_id=member.pk)
        .exclude(status=AccountStatus.CLOSED)
        .select_related("product")
        .order_by("id")
    )
    savings = [
        SavingsPayout(
            account.pk, account.number, account.product.name, account.balance_minor, account.lien_minor
        )
        for account in accounts
    ]
    return ExitPreview(
        member=member,
        blockers={} if done is not None else exit_blockers(member),
        shares=position.shares,
        share_amount_minor=position.balance_minor,
        savings=savings,
        done=done,
    )
