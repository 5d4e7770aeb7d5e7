"""Reads of the organisation: branches, and the working-day calendar that schedules are built on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.organisation.models import Branch, Holiday, WeeklyOffDays
from core_banking.organisation.working_days import WorkingCalendar, holidays_between, yearly_occurrence

# The longest span a calendar is built for: a long loan's schedule, with room to spare.
MAX_CALENDAR_YEARS = 60


def branches_visible(visible_branch_ids: list[int] | None) -> QuerySet[Branch]:
    branches = Branch.objects.all()
    return branches if visible_branch_ids is None else branches.filter(pk__in=visible_branch_ids)


def _scope(branch_id: int | None) -> Q:
    """Rows for the whole cooperative, and the branch's own."""
    everywhere = Q(branch__isnull=True)
    return everywhere if branch_id is None else everywhere | Q(branch_id=branch_id)


def working_calendar(*, branch: Branch | None, start: dt.date, end: dt.date) -> WorkingCalendar:
    """The weekly off-days and holidays of ``branch`` (None: the cooperative's, without any branch's
    own) for the whole years from ``start`` to ``end``: the cooperative-wide holidays and the branch's
    own, yearly ones on their day in each of those years. Two queries."""
    if start > end:
        message = _("The start is after the end.")
        raise BusinessRuleViolation(ErrorCode.CALENDAR_RANGE_INVALID, message, fields={"start": [message]})
    if end.year - start.year >= MAX_CALENDAR_YEARS:
        message = _("At most %(count)d years at once.") % {"count": MAX_CALENDAR_YEARS}
        raise BusinessRuleViolation(ErrorCode.CALENDAR_RANGE_INVALID, message, fields={"end": [message]})
    branch_id = branch.pk if branch is not None else None
    cooperative_days: frozenset[int] = frozenset()
    own_days: frozenset[int] = frozenset()
    for row_branch_id, weekdays in WeeklyOffDays.objects.filter(_scope(branch_id)).values_list(
        "branch_id", "weekdays"
    ):
        if row_branch_id is None:
            cooperative_days = frozenset(weekdays)
        else:
            own_days = frozenset(weekdays)
    first, last = dt.date(start.year, 1, 1), dt.date(end.year, 12, 31)
    rows = Holiday.objects.filter(_scope(branch_id)).filter(
        Q(day__range=(first, last)) | Q(every_year=True, day__lt=first)
    )
    one_off: list[dt.date] = []
    yearly: list[dt.date] = []
    for day, every_year in rows.values_list("day", "every_year"):
        (yearly if every_year else one_off).append(day)
    return WorkingCalendar(
        weekly_off_days=own_days or cooperative_days,
        holidays=holidays_between(one_off=one_off, yearly=yearly, first_year=start.year, last_year=end.year),
        start=start,
        end=end,
    )


@dataclass(frozen=True)
class HolidayOccurrence:
    """A holiday on the date it falls on in one year (a yearly one's first date is ``holiday.day``)."""

    holiday: Holiday
    on: dt.date


def _visible_holidays(visible_branch_ids: list[int] | None) -> QuerySet[Holiday]:
    holidays = Holiday.objects.select_related("branch", "created_by")
    if visible_branch_ids is None:
        return holidays
    return holidays.filter(Q(branch__isnull=True) | Q(branch_id__in=visible_branch_ids))


def holidays_in_year(
    *, year: int, visible_branch_ids: list[int] | None, branch_id: int | None = None
) -> list[HolidayOccurrence]:
    """The holidays of ``year`` the user may see, by date (cooperative-wide first on a shared date);
    with ``branch_id``, only the cooperative-wide ones and that branch's own."""
    holidays = _visible_holidays(visible_branch_ids)
    if branch_id is not None:
        holidays = holidays.filter(_scope(branch_id))
    holidays = holidays.filter(Q(day__year=year) | Q(every_year=True, day__year__lt=year))
    found = []
    for holiday in holidays:
        on = yearly_occurrence(holiday.day, year) if holiday.every_year else holiday.day
        if on is not None:
            found.append(HolidayOccurrence(holiday=holiday, on=on))
    found.sort(key=lambda item: (item.on, item.holiday.branch is not None, item.holiday.branch_id or 0))
    return found


def holiday_visible(*, holiday_id: int, visible_branch_ids: list[int] | None) -> Holiday | None:
    return _visible_holidays(visible_branch_ids).filter(pk=holiday_id).first()


@dataclass(frozen=True)
class BranchOffDays:
    branch: Branch
    own: frozenset[int]  # empty: the branch keeps the cooperative's days
    applied: frozenset[int]


@dataclass(frozen=True)
class WeeklyOffDaysOverview:
    cooperative: frozenset[int]
    branches: list[BranchOffDays]


def weekly_off_days_overview(*, visible_branch_ids: list[int] | None) -> WeeklyOffDaysOverview:
    """The cooperative's weekly off-days and, for each branch the user may see, its own and those that
    apply to it."""
    cooperative: frozenset[int] = frozenset()
    own: dict[int, frozenset[int]] = {}
    for branch_id, weekdays in WeeklyOffDays.objects.values_list("branch_id", "weekdays"):
        if branch_id is None:
            cooperative = frozenset(weekdays)
        else:
            own[branch_id] = frozenset(weekdays)
    branches = [
        BranchOffDays(
            branch=branch,
            own=own.get(branch.pk, frozenset()),
            applied=own.get(branch.pk) or cooperative,
        )
        for branch in branches_visible(visible_branch_ids)
    ]
    return WeeklyOffDaysOverview(cooperative=cooperative, branches=branches)
