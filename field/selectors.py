"""Reads of field collection for the staff pages: who sees which records, and the sums per collector and day.

Scope: a field officer (a user whose only role is field officer) sees the records they synced and
those of the groups assigned to them (``MemberGroup.field_officer``), a group leader those of the
groups they lead (``MemberGroup.leader``); other staff see the records
of their branches (every branch for the head office view). Reviewing takes a manager's or
accountant's role in the record's branch (the roles that keep a branch's vault).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, QuerySet, Sum

from core_banking.cash import selectors as cash_selectors
from core_banking.cash.access import VAULT_KEEPER_ROLES
from core_banking.cash.models import CashHandover, CashHolder, HandoverStatus
from core_banking.lending.models import Loan, LoanStatus
from core_banking.members.models import MemberGroup
from core_banking.savings.models import AccountStatus, SavingsAccount
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Role, is_collector_only
from field.models import FieldRecord, RecordKind, RecordStatus

# What a list loads of a record: never the payload of an admission (its pictures are megabytes).
LIST_FIELDS = (
    "id",
    "client_uuid",
    "kind",
    "status",
    "reason_code",
    "reason",
    "flags",
    "received_at",
    "device_time",
    "value_date",
    "amount_minor",
    "suspense_minor",
    "collector",
    "branch",
    "group",
    "reviewed_at",
    "review_outcome",
    "review_note",
    "entry",
)


def officer_only(profile: StaffProfile) -> bool:
    """Whether this user sees only their own records and groups (a field officer or a group leader:
    no branch-wide role)."""
    return is_collector_only(profile.roles)


def _own_groups(profile: StaffProfile, prefix: str = "") -> Q:
    """The groups tied to a collector: assigned to them as officer, or led by them."""
    tied = Q(**{f"{prefix}field_officer_id": profile.user_id})
    if profile.member_id is not None:
        tied |= Q(**{f"{prefix}leader_id": profile.member_id})
    return tied


def sees_branch(profile: StaffProfile, branch_id: int | None) -> bool:
    visible = profile.visible_branch_ids()
    return visible is None or branch_id in visible


def _scope(profile: StaffProfile) -> Q:
    own = Q(collector_id=profile.user_id) | _own_groups(profile, "group__")
    if officer_only(profile):
        return own
    visible = profile.visible_branch_ids()
    if visible is None:
        return Q()
    return own | Q(branch_id__in=visible)


def records_visible(profile: StaffProfile) -> QuerySet[FieldRecord]:
    return FieldRecord.objects.filter(_scope(profile))


def record_visible(profile: StaffProfile, record: FieldRecord) -> bool:
    return records_visible(profile).filter(pk=record.pk).exists()


def may_review(profile: StaffProfile, record: FieldRecord) -> bool:
    """A manager or accountant of the record's branch (or the cooperative's admin), not read-only."""
    return (
        not profile.read_only
        and any(Role(role) in VAULT_KEEPER_ROLES for role in profile.roles)
        and sees_branch(profile, record.branch_id)
    )


def members_of_record(record: FieldRecord) -> set[int]:
    """The members a record's money may go to: its loan's or account's member, and who brought it."""
    payload = record.payload
    members: set[int] = set()
    if record.kind == RecordKind.INSTALMENT:
        members |= set(Loan.objects.filter(pk=payload["loan"]).values_list("member_id", flat=True))
    elif "account" in payload:
        members |= set(
            SavingsAccount.objects.filter(pk=payload["account"]).values_list("member_id", flat=True)
        )
    if payload.get("paid_by_member"):
        members.add(int(payload["paid_by_member"]))
    return members


def resolution_choices(record: FieldRecord) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The active loans and savings accounts of the record's members, as (id, label) choices."""
    members = members_of_record(record)
    loans = [
        (loan.pk, f"{loan.number} — {loan.member.full_name}")
        for loan in Loan.objects.select_related("member").filter(
            member_id__in=members, status=LoanStatus.ACTIVE
        )
    ]
    accounts = [
        (account.pk, f"{account.number} — {account.member.full_name}")
        for account in SavingsAccount.objects.select_related("member").filter(
            member_id__in=members, status=AccountStatus.ACTIVE
        )
    ]
    return loans, accounts


def groups_visible(profile: StaffProfile) -> QuerySet[MemberGroup]:
    groups = MemberGroup.objects.select_related("branch")
    if officer_only(profile):
        return groups.filter(_own_groups(profile))
    visible = profile.visible_branch_ids()
    return groups if visible is None else groups.filter(branch_id__in=visible)


def record_for_staff(profile: StaffProfile, record_id: int) -> FieldRecord | None:
    return (
        records_visible(profile)
        .select_related("collector", "branch", "group", "reviewed_by", "admitted_member", "device")
        .filter(pk=record_id)
        .first()
    )


# --- Per collector and day ----------------------------------------------------------------------


@dataclass
class KindTotal:
    kind: str
    count: int = 0
    amount_minor: int = 0

    @property
    def label(self) -> str:
        return str(RecordKind(self.kind).label)


@dataclass
class CollectorDay:
    collector_id: int
    collector_name: str
    day: dt.date
    kinds: list[KindTotal] = field(default_factory=list)
    records: int = 0
    last_received_at: dt.datetime | None = None
    pending_review: int = 0
    # Cash the day's records put in (instalments, deposits, suspense) less what they paid out.
    cash_minor: int = 0


def cash_effect(kind: str, status: str, amount: int) -> int:
    """What posted records of this kind did to the collector's cash (held-in-suspense money aside)."""
    if status != RecordStatus.CREATED:
        return 0
    if kind in (RecordKind.INSTALMENT, RecordKind.SAVINGS_DEPOSIT):
        return amount
    if kind == RecordKind.WITHDRAWAL_REQUEST:
        return -amount
    return 0


def collector_days(
    profile: StaffProfile, *, start: dt.date, end: dt.date, branch_id: int | None = None
) -> list[CollectorDay]:
    """Per collector and value date: counts and totals by kind, last sync, open reviews, net cash."""
    records = records_visible(profile).filter(value_date__gte=start, value_date__lte=end)
    if branch_id is not None:
        records = records.filter(branch_id=branch_id)
    rows = (
        records.values("collector_id", "value_date", "kind", "status")
        .annotate(
            count=Count("id"),
            amount=Sum("amount_minor"),
            suspense=Sum("suspense_minor"),
            last=Max("received_at"),
            open_reviews=Count("id", filter=Q(status=RecordStatus.NEEDS_REVIEW, reviewed_at__isnull=True)),
        )
        .order_by()
    )
    days: dict[tuple[int, dt.date], CollectorDay] = {}
    kinds: dict[tuple[int, dt.date], dict[str, KindTotal]] = defaultdict(dict)
    names = {
        user.pk: user.get_full_name() or user.get_username()
        for user in get_user_model().objects.filter(pk__in={row["collector_id"] for row in rows})
    }
    for row in rows:
        value_date = cast(dt.date, row["value_date"])  # within the range asked: never empty
        key = (row["collector_id"], value_date)
        day = days.setdefault(
            key, CollectorDay(row["collector_id"], names.get(row["collector_id"], ""), value_date)
        )
        total = kinds[key].setdefault(row["kind"], KindTotal(row["kind"]))
        total.count += row["count"]
        total.amount_minor += int(row["amount"] or 0)
        day.records += row["count"]
        day.pending_review += row["open_reviews"]
        day.last_received_at = max(filter(None, (day.last_received_at, row["last"])), default=None)
        day.cash_minor += _group_cash(dict(row))
    for key, day in days.items():
        order = list(RecordKind.values)
        day.kinds = sorted(kinds[key].values(), key=lambda total: order.index(total.kind))
    return sorted(days.values(), key=lambda day: (-day.day.toordinal(), day.collector_name.casefold()))


def record_cash_minor(record: FieldRecord) -> int:
    """What one record put into (or took out of) the collector's cash on its day."""
    return record.suspense_minor + cash_effect(record.kind, record.status, record.amount_minor)


def _group_cash(row: dict[str, Any]) -> int:
    # Money held in suspense was taken from the member too: it is in the collector's cash.
    return int(row["suspense"] or 0) + cash_effect(row["kind"], row["status"], int(row["amount"] or 0))


def records_of_day(profile: StaffProfile, *, collector_id: int, day: dt.date) -> list[FieldRecord]:
    return list(
        records_visible(profile)
        .filter(collector_id=collector_id, value_date=day)
        .select_related("group", "branch", "reviewed_by")
        .only(*LIST_FIELDS, "group__name", "group__code", "branch__name", "reviewed_by__username")
        .order_by("received_at", "id")
    )


def review_queue(profile: StaffProfile, *, branch_id: int | None = None) -> QuerySet[FieldRecord]:
    records = records_visible(profile).filter(status=RecordStatus.NEEDS_REVIEW, reviewed_at__isnull=True)
    if branch_id is not None:
        records = records.filter(branch_id=branch_id)
    return (
        records.select_related("collector", "group", "branch")
        .only(
            *LIST_FIELDS,
            "collector__username",
            "collector__first_name",
            "collector__last_name",
            "group__name",
            "group__code",
            "branch__name",
        )
        .order_by("id")
    )


def suspense_open_minor(profile: StaffProfile) -> int:
    """Collected cash of these records still held in suspense (not yet moved on by a review)."""
    total = (
        records_visible(profile)
        .filter(suspense_minor__gt=0, reviewed_at__isnull=True)
        .aggregate(total=Sum("suspense_minor"))["total"]
    )
    return int(total or 0)


def attendance_latest(profile: StaffProfile, *, group_id: int, meeting_date: dt.date) -> FieldRecord | None:
    """The attendance of a group's meeting as shown: the latest taken (by device time, then arrival)."""
    return (
        records_visible(profile)
        .filter(kind=RecordKind.ATTENDANCE, group_id=group_id, value_date=meeting_date)
        .order_by("-device_time", "-id")
        .first()
    )


def superseded_attendance_ids(records: list[FieldRecord]) -> set[int]:
    """Attendance records another one of the same group and date replaces for display."""
    latest: dict[tuple[int | None, dt.date | None], FieldRecord] = {}
    for record in records:
        if record.kind != RecordKind.ATTENDANCE:
            continue
        key = (record.group_id, record.value_date)
        best = latest.get(key)
        if best is None or (record.device_time, record.pk) > (best.device_time, best.pk):
            latest[key] = record
    keep = {record.pk for record in latest.values()}
    return {r.pk for r in records if r.kind == RecordKind.ATTENDANCE and r.pk not in keep}


# --- The collector's cash -----------------------------------------------------------------------


@dataclass(frozen=True)
class TillDay:
    """A collector's cash at one branch, from the books: what they held at the end of the day."""

    holder: CashHolder
    book_minor: int  # the till's balance through the day
    handed_over: list[CashHandover]

    @property
    def handed_over_minor(self) -> int:
        return sum(h.amount_minor for h in self.handed_over if h.status == HandoverStatus.CONFIRMED)

    @property
    def pending_minor(self) -> int:
        return sum(h.amount_minor for h in self.handed_over if h.status == HandoverStatus.PENDING)


def tills_of(profile: StaffProfile, *, collector_id: int, day: dt.date) -> list[TillDay]:
    """The collector's tills in the branches seen, with their book balance and the day's handovers."""
    holders = CashHolder.objects.select_related("branch", "account", "user").filter(user_id=collector_id)
    visible = profile.visible_branch_ids()
    if visible is not None and profile.user_id != collector_id:
        holders = holders.filter(branch_id__in=visible)
    holders_list = list(holders.order_by("branch_id"))
    balances = cash_selectors.balances_minor([h.account_id for h in holders_list], through=day)
    handovers: dict[int, list[CashHandover]] = defaultdict(list)
    for handover in (
        CashHandover.objects.select_related("receiver", "receiver__user", "giver")
        .filter(giver__in=holders_list, value_date=day)
        .order_by("id")
    ):
        handovers[handover.giver_id].append(handover)
    return [TillDay(h, balances.get(h.account_id, 0), handovers[h.pk]) for h in holders_list]
