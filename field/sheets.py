"""What a collector downloads before going out: the day's collection sheets and their whole book.

Both are read for the groups the collector works: a field officer only the groups assigned to
them (``MemberGroup.field_officer``), a group leader the groups they lead; a cooperative admin or
branch manager every group of their branches. Amounts are exact integer minor units, worked out
as the group collection sheet (R4) and the loan's schedule page work them out: an instalment is
unpaid while any of its principal, interest (less what was waived), fee or penalty is unpaid
(``reporting.lending_selectors``), and what is still owed on it is
``LoanInstallment.outstanding_minor``.

A book of thousands of members is a fixed handful of queries, whatever its size: groups, members,
loans, their unpaid instalments, their next instalments, savings accounts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from babel.numbers import get_currency_precision
from django.db.models import QuerySet

from core_banking.lending.models import Loan, LoanInstallment, LoanStatus
from core_banking.members.models import Member, MemberGroup, MemberStatus
from core_banking.members.selectors import groups_visible_to
from core_banking.reporting.lending_selectors import _UNPAID as UNPAID
from core_banking.savings.models import AccountStatus, SavingsAccount
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Role, is_group_leader
from tenants.db import workspace_business_date, workspace_currency

# Roles that collect for every group of their branches, not only the groups assigned to them.
BRANCH_WIDE_ROLES = frozenset({Role.COOPERATIVE_ADMIN.value, Role.BRANCH_MANAGER.value})


def field_groups(profile: StaffProfile) -> QuerySet[MemberGroup]:
    """The active groups this collector works, in code order."""
    groups = groups_visible_to(profile).filter(is_active=True)  # a group leader's: the groups they lead
    if not BRANCH_WIDE_ROLES.intersection(profile.roles) and not is_group_leader(profile.roles):
        groups = groups.filter(field_officer_id=profile.user_id)
    return groups.order_by("code")


@dataclass
class LoanLine:
    id: int
    number: str
    due_today_minor: int = 0  # unpaid of the instalments due on the day
    overdue_minor: int = 0  # unpaid of the instalments due before the day
    instalment_minor: int = 0  # the full amount of the instalment due on the day, or the next one
    outstanding_minor: int = 0  # unpaid of every instalment of the schedule


@dataclass
class SavingsLine:
    id: int
    number: str
    product: str
    balance_minor: int
    available_minor: int  # the balance less what is pledged (a lien): what may be withdrawn
    savings_instalment_minor: int | None  # a recurring deposit's instalment; None for others


@dataclass
class MemberLine:
    id: int
    number: str
    name: str
    phone: str
    group: int | None  # never None here: only members of the collector's groups are read
    loans: list[LoanLine] = field(default_factory=list)
    savings: list[SavingsLine] = field(default_factory=list)


@dataclass
class GroupSheet:
    id: int
    code: str
    name: str
    meeting_weekday: int  # 0 Monday … 6 Sunday
    meeting_place: str
    leader: dict[str, Any] | None
    members: list[MemberLine] = field(default_factory=list)


@dataclass(frozen=True)
class FieldSheet:
    day: dt.date
    business_date: dt.date
    currency: str
    exponent: int
    groups: list[GroupSheet]


def _members_with_accounts(groups: list[MemberGroup], day: dt.date) -> dict[int | None, list[MemberLine]]:
    """Members of ``groups`` not exited, with their active loans and savings accounts, by group id."""
    members_query = Member.objects.filter(group_id__in=[group.pk for group in groups]).exclude(
        status=MemberStatus.EXITED
    )
    members = {
        row.pk: MemberLine(
            id=row.pk, number=row.number, name=row.full_name, phone=row.phone, group=row.group_id
        )
        for row in members_query.only("id", "number", "full_name", "phone", "group_id").order_by("number")
    }
    loans_query = Loan.objects.filter(
        member__in=members_query, status=LoanStatus.ACTIVE, disbursed_on__lte=day
    ).order_by("number")
    loans: dict[int, LoanLine] = {}
    for loan in loans_query.only("id", "number", "member_id"):
        loans[loan.pk] = line = LoanLine(id=loan.pk, number=loan.number)
        members[loan.member_id].loans.append(line)
    for installment in LoanInstallment.objects.filter(UNPAID, loan__in=loans_query):
        line = loans[installment.loan_id]
        owed = installment.outstanding_minor
        line.outstanding_minor += owed
        if installment.due_date == day:
            line.due_today_minor += owed
        elif installment.due_date < day:
            line.overdue_minor += owed
    # The instalment due on the day or the next one after it (PostgreSQL's DISTINCT ON).
    upcoming = (
        LoanInstallment.objects.filter(loan__in=loans_query, due_date__gte=day)
        .order_by("loan_id", "due_date", "number")
        .distinct("loan_id")
    )
    for installment in upcoming:
        loans[installment.loan_id].instalment_minor = installment.due_minor
    accounts = (
        SavingsAccount.objects.filter(member__in=members_query, status=AccountStatus.ACTIVE)
        .select_related("product")
        .order_by("number")
    )
    for account in accounts:
        members[account.member_id].savings.append(
            SavingsLine(
                id=account.pk,
                number=account.number,
                product=account.product.name,
                balance_minor=account.balance_minor,
                available_minor=account.available_minor,
                savings_instalment_minor=account.product.installment_minor,
            )
        )
    by_group: dict[int | None, list[MemberLine]] = defaultdict(list)
    for member in members.values():
        by_group[member.group].append(member)
    return by_group


def _sheet(groups: list[MemberGroup], day: dt.date) -> FieldSheet:
    members = _members_with_accounts(groups, day) if groups else {}
    currency = workspace_currency()
    return FieldSheet(
        day=day,
        business_date=workspace_business_date(),
        currency=currency,
        exponent=int(get_currency_precision(currency)),
        groups=[
            GroupSheet(
                id=group.pk,
                code=group.code,
                name=group.name,
                meeting_weekday=group.meeting_weekday,
                meeting_place=group.meeting_place,
                leader=(
                    {"id": group.leader.pk, "number": group.leader.number, "name": group.leader.full_name}
                    if group.leader is not None
                    else None
                ),
                members=members.get(group.pk, []),
            )
            for group in groups
        ],
    )


def collection_sheet(*, profile: StaffProfile, day: dt.date) -> FieldSheet:
    """The groups of this collector that meet on ``day``, each member with what is due and overdue."""
    return _sheet(list(field_groups(profile).filter(meeting_weekday=day.weekday())), day)


def collector_book(*, profile: StaffProfile) -> FieldSheet:
    """Every member of every group this collector works, as of the business date (offline search)."""
    return _sheet(list(field_groups(profile)), workspace_business_date())
