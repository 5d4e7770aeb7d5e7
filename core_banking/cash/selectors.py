"""Reads of cash custody: holders and their balances, handovers, day closes.

A holder's balance is its ledger account's balance, summed from the daily balances the ledger
keeps as postings land (never a scan of the journal).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from core_banking.cash import access
from core_banking.cash.models import CashDayClose, CashHandover, CashHolder, HandoverStatus, HolderKind
from core_banking.ledger.models import Account, AccountDayBalance
from core_banking.ledger.presets import cash_account_code
from core_banking.organisation.models import Branch
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Role


def person_label(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())


def holder_label(holder: CashHolder) -> str:
    return holder.display_name


def balances_minor(account_ids: Iterable[int], *, through: dt.date | None = None) -> dict[int, int]:
    """Debits minus credits per account (cash is an asset), over every day up to ``through``."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    rows = AccountDayBalance.objects.filter(account_id__in=ids)
    if through is not None:
        rows = rows.filter(day__lte=through)
    sums = rows.values("account_id").annotate(debit=Sum("debit_minor"), credit=Sum("credit_minor"))
    found = {row["account_id"]: int(row["debit"]) - int(row["credit"]) for row in sums}
    return {account_id: found.get(account_id, 0) for account_id in ids}


def balance_minor(account_id: int, *, through: dt.date | None = None) -> int:
    return balances_minor([account_id], through=through)[account_id]


def balance_minor_of_code(*, branch_code: str, through: dt.date | None = None) -> int:
    """The balance of a branch's own cash account (the vault's), before the vault has a holder row."""
    account_id = (
        Account.objects.filter(code=cash_account_code(branch_code)).values_list("id", flat=True).first()
    )
    return balance_minor(account_id, through=through) if account_id is not None else 0


def holder_of(*, branch_id: int, user_id: int | None) -> CashHolder | None:
    holders = CashHolder.objects.select_related("account", "branch", "user").filter(branch_id=branch_id)
    if user_id is None:
        return holders.filter(kind=HolderKind.VAULT).first()
    return holders.filter(user_id=user_id).first()


def holder_account_code_for(*, user: Any, branch: Branch) -> str | None:
    """The ledger account of the cash this user holds at this branch, for postings to name.

    None when the user holds no cash there yet; callers then fall back to the branch's cash
    (the vault). ``services.cash_holder_account`` creates the holder when a posting needs one.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    code = (
        CashHolder.objects.filter(branch_id=branch.pk, user_id=user.pk)
        .values_list("account__code", flat=True)
        .first()
    )
    return str(code) if code else None


@dataclass(frozen=True)
class HolderRow:
    branch: Branch
    kind: str
    user_id: int | None
    label: str
    account_code: str
    balance_minor: int
    pending_in_minor: int
    pending_out_minor: int
    last_closed: dt.date | None
    holder_id: int | None

    @property
    def kind_label(self) -> str:
        return str(HolderKind(self.kind).label)


def branches_visible(visible_branch_ids: Sequence[int] | None) -> QuerySet[Branch]:
    branches = Branch.objects.all()
    if visible_branch_ids is not None:
        branches = branches.filter(pk__in=visible_branch_ids)
    return branches


def holder_rows(*, visible_branch_ids: Sequence[int] | None, branch_id: int | None = None) -> list[HolderRow]:
    """Every holder of the branches seen, with its balance now: each branch's vault first, then tills.

    The vault is listed even before anything was handed to or from it: it holds the branch's cash.
    """
    branches = branches_visible(visible_branch_ids)
    if branch_id is not None:
        branches = branches.filter(pk=branch_id)
    branch_list = list(branches)
    by_branch = {branch.pk: branch for branch in branch_list}
    holders = list(
        CashHolder.objects.select_related("account", "user").filter(branch_id__in=by_branch).order_by("id")
    )
    vault_codes = {cash_account_code(branch.code): branch.pk for branch in branch_list}
    vault_accounts = dict(Account.objects.filter(code__in=vault_codes).values_list("code", "id"))
    account_ids = [holder.account_id for holder in holders] + list(vault_accounts.values())
    balances = balances_minor(account_ids)
    pending_in: dict[int, int] = defaultdict(int)
    pending_out: dict[int, int] = defaultdict(int)
    pending = CashHandover.objects.filter(status=HandoverStatus.PENDING, branch_id__in=by_branch)
    for giver_id, receiver_id, amount in pending.values_list("giver_id", "receiver_id", "amount_minor"):
        pending_out[giver_id] += amount
        pending_in[receiver_id] += amount
    closed = dict(
        CashDayClose.objects.filter(holder__in=holders)
        .values("holder_id")
        .annotate(last=Max("business_date"))
        .values_list("holder_id", "last")
    )
    rows: list[HolderRow] = []
    for branch in branch_list:
        vault = next((h for h in holders if h.branch_id == branch.pk and h.user_id is None), None)
        code = cash_account_code(branch.code)
        rows.append(
            HolderRow(
                branch=branch,
                kind=HolderKind.VAULT,
                user_id=None,
                label=str(HolderKind.VAULT.label),
                account_code=code,
                balance_minor=balances.get(vault_accounts.get(code, 0), 0),
                pending_in_minor=pending_in[vault.pk] if vault else 0,
                pending_out_minor=pending_out[vault.pk] if vault else 0,
                last_closed=closed.get(vault.pk) if vault else None,
                holder_id=vault.pk if vault else None,
            )
        )
        tills = sorted(
            (h for h in holders if h.branch_id == branch.pk and h.user_id is not None),
            key=lambda h: holder_label(h).casefold(),
        )
        rows.extend(
            HolderRow(
                branch=branch,
                kind=holder.kind,
                user_id=holder.user_id,
                label=holder_label(holder),
                account_code=holder.account.code,
                balance_minor=balances.get(holder.account_id, 0),
                pending_in_minor=pending_in[holder.pk],
                pending_out_minor=pending_out[holder.pk],
                last_closed=closed.get(holder.pk),
                holder_id=holder.pk,
            )
            for holder in tills
        )
    return rows


def handovers_visible(*, visible_branch_ids: Sequence[int] | None) -> QuerySet[CashHandover]:
    handovers = CashHandover.objects.select_related(
        "branch",
        "giver__user",
        "receiver__user",
        "giver__account",
        "receiver__account",
        "sent_by",
        "decided_by",
    )
    if visible_branch_ids is not None:
        handovers = handovers.filter(branch_id__in=visible_branch_ids)
    return handovers


def _acting_for(profile: StaffProfile) -> Q:
    """Holders this person acts for: their own tills, and the vaults of branches they keep."""
    own = Q(user_id=profile.user_id)
    if not any(Role(role) in access.VAULT_KEEPER_ROLES for role in profile.roles) or profile.read_only:
        return own
    visible = profile.visible_branch_ids()
    vaults = Q(kind=HolderKind.VAULT) if visible is None else Q(kind=HolderKind.VAULT, branch_id__in=visible)
    return own | vaults


def handovers_awaiting(profile: StaffProfile) -> QuerySet[CashHandover]:
    """Pending handovers this person may confirm or reject (not those they sent themselves)."""
    holders = CashHolder.objects.filter(_acting_for(profile))
    return (
        handovers_visible(visible_branch_ids=profile.visible_branch_ids())
        .filter(status=HandoverStatus.PENDING, receiver__in=holders)
        .exclude(sent_by_id=profile.user_id)
        .order_by("id")
    )


def handovers_sent_pending(profile: StaffProfile) -> QuerySet[CashHandover]:
    return (
        handovers_visible(visible_branch_ids=profile.visible_branch_ids())
        .filter(status=HandoverStatus.PENDING, sent_by_id=profile.user_id)
        .order_by("id")
    )


def handover_for_staff(*, handover_id: int, visible_branch_ids: Sequence[int] | None) -> CashHandover | None:
    return handovers_visible(visible_branch_ids=visible_branch_ids).filter(pk=handover_id).first()


def day_closes_visible(*, visible_branch_ids: Sequence[int] | None) -> QuerySet[CashDayClose]:
    closes = CashDayClose.objects.select_related(
        "holder__branch", "holder__user", "holder__account", "closed_by", "entry"
    )
    if visible_branch_ids is not None:
        closes = closes.filter(holder__branch_id__in=visible_branch_ids)
    return closes


def possible_holders(branch: Branch) -> list[Any]:
    """Staff users who may hold cash at this branch (receivers offered on the handover form)."""
    profiles = (
        StaffProfile.objects.select_related("user")
        .filter(user__is_active=True)
        .filter(
            Q(home_branch=branch)
            | Q(branches=branch)
            | Q(all_branches=True)
            | Q(roles__contains=[Role.COOPERATIVE_ADMIN.value])
        )
        .distinct()
    )
    users = [profile.user for profile in profiles if access.may_hold_cash(profile, branch.pk)]
    return sorted(users, key=lambda user: person_label(user).casefold())


def pending_handovers_of(holder: CashHolder, *, through: dt.date) -> QuerySet[CashHandover]:
    return CashHandover.objects.filter(
        Q(giver=holder) | Q(receiver=holder), status=HandoverStatus.PENDING, value_date__lte=through
    )


def pending_out_minor(holder: CashHolder) -> int:
    total = CashHandover.objects.filter(giver=holder, status=HandoverStatus.PENDING).aggregate(
        total=Sum("amount_minor")
    )["total"]
    return int(total or 0)


def describe_direction(handover: CashHandover) -> str:
    return _("%(giver)s to %(receiver)s") % {
        "giver": holder_label(handover.giver),
        "receiver": holder_label(handover.receiver),
    }
