"""Writes to the organisation: branches and regions, and the working-day calendar (weekly off-days
and holidays)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.organisation import calendar_listeners
from core_banking.organisation.calendar_listeners import CalendarChange, CalendarChangeKind
from core_banking.organisation.models import Branch, Holiday, Region, WeeklyOffDays
from core_banking.organisation.working_days import WEEKDAYS, weekly_off_days_for_country

NAME_MAX_LENGTH = 120


@transaction.atomic
def branch_create(
    *, actor: Any | None, code: str, name: str, is_head_office: bool = False, region: Region | None = None
) -> Branch:
    from core_banking.ledger.services import branch_cash_account_ensure
    from tenants.db import current_cooperative

    branch = Branch.objects.create(
        code=code.strip(), name=name.strip(), is_head_office=is_head_office, region=region
    )
    cooperative = current_cooperative()
    branch_cash_account_ensure(branch=branch, language=cooperative.default_language if cooperative else "en")
    audit_record(
        actor=actor,
        action="branch.create",
        target=branch,
        changes={"code": branch.code, "name": branch.name, "is_head_office": is_head_office},
    )
    return branch


# --- The working-day calendar --------------------------------------------------------------------
# Calendar changes take the cooperative's weekly-off-days row lock first, so they happen one at a time.


def weekly_off_days_seed(*, country: str) -> WeeklyOffDays:
    """The cooperative's weekly off-days as its country keeps them; left alone once set."""
    row, _created = WeeklyOffDays.objects.get_or_create(
        branch=None, defaults={"weekdays": sorted(weekly_off_days_for_country(country))}
    )
    return row


def _person(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _calendar_lock() -> WeeklyOffDays | None:
    return WeeklyOffDays.objects.select_for_update().filter(branch__isnull=True).first()


def _holiday_clash(*, day: dt.date, branch: Branch | None, every_year: bool) -> Holiday | None:
    """A holiday of the same scope that falls on a day the new one would also fall on."""
    same_day = Holiday.objects.filter(branch=branch, day__month=day.month, day__day=day.day)
    for other in same_day.order_by("day"):
        if other.day == day:
            return other
        if every_year and (other.every_year or other.day.year > day.year):
            return other  # both repeat, or the new one repeats into the other's year
        if other.every_year and other.day.year < day.year:
            return other  # the other repeats into the new one's year
    return None


@transaction.atomic
def holiday_create(
    *, actor: Any | None, day: dt.date, name: str, branch: Branch | None = None, every_year: bool = False
) -> Holiday:
    """A day off for every branch (``branch`` None) or one branch; ``every_year`` repeats it on that day
    and month from ``day``'s year on. Listeners hear of it in this transaction."""
    name = name.strip()
    if not name:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("A holiday needs a name."),
            fields={"name": [_("A name is required.")]},
        )
    if len(name) > NAME_MAX_LENGTH:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR,
            _("The name is too long."),
            fields={"name": [_("At most %(count)d characters.") % {"count": NAME_MAX_LENGTH}]},
        )
    _calendar_lock()
    clash = _holiday_clash(day=day, branch=branch, every_year=every_year)
    if clash is not None:
        raise _holiday_exists(clash)
    try:
        with transaction.atomic():
            holiday = Holiday.objects.create(
                day=day, name=name, branch=branch, every_year=every_year, created_by=_person(actor)
            )
    except IntegrityError as error:  # the same day, added at the same moment by someone else
        clash = Holiday.objects.filter(day=day, branch=branch).first()
        if clash is None:
            raise
        raise _holiday_exists(clash) from error
    audit_record(
        actor=actor,
        action="holiday.create",
        target=holiday,
        changes={
            "day": day.isoformat(),
            "name": name,
            "branch": branch.code if branch is not None else None,
            "every_year": every_year,
        },
    )
    calendar_listeners.notify(
        CalendarChange(
            kind=CalendarChangeKind.HOLIDAY_ADDED,
            branch=branch,
            actor=actor,
            holiday=day,
            every_year=every_year,
        )
    )
    return holiday


def _holiday_exists(clash: Holiday) -> BusinessRuleViolation:
    values = {"day": clash.day.isoformat(), "name": clash.name}
    if clash.every_year:
        message = _("%(day)s is already a holiday: %(name)s (every year).") % values
    else:
        message = _("%(day)s is already a holiday: %(name)s.") % values
    return BusinessRuleViolation(ErrorCode.HOLIDAY_EXISTS, message, fields={"day": [message]})


@transaction.atomic
def holiday_delete(*, actor: Any | None, holiday_id: int) -> None:
    """Remove a holiday (every year's, for a yearly one); listeners hear of it in this transaction."""
    _calendar_lock()
    holiday = (
        Holiday.objects.select_for_update(of=("self",)).select_related("branch").filter(pk=holiday_id).first()
    )
    if holiday is None:
        raise BusinessRuleViolation(
            ErrorCode.HOLIDAY_UNKNOWN, _("There is no holiday %(id)s.") % {"id": holiday_id}
        )
    branch = holiday.branch
    audit_record(
        actor=actor,
        action="holiday.delete",
        target=holiday,
        changes={
            "day": holiday.day.isoformat(),
            "name": holiday.name,
            "branch": branch.code if branch is not None else None,
            "every_year": holiday.every_year,
        },
    )
    day, every_year = holiday.day, holiday.every_year
    holiday.delete()
    calendar_listeners.notify(
        CalendarChange(
            kind=CalendarChangeKind.HOLIDAY_REMOVED,
            branch=branch,
            actor=actor,
            holiday=day,
            every_year=every_year,
        )
    )


def _valid_weekdays(weekdays: Iterable[int]) -> frozenset[int]:
    given = list(weekdays)
    wrong = [day for day in given if isinstance(day, bool) or not isinstance(day, int) or day not in WEEKDAYS]
    if wrong:
        message = _("Weekdays are numbers from 0 (Monday) to 6 (Sunday).")
        raise BusinessRuleViolation(ErrorCode.WEEKDAYS_INVALID, message, fields={"weekdays": [message]})
    days = frozenset(given)
    if days == WEEKDAYS:
        message = _("At least one day of the week must be a working day.")
        raise BusinessRuleViolation(ErrorCode.WEEKDAYS_INVALID, message, fields={"weekdays": [message]})
    return days


@transaction.atomic
def weekly_off_days_set(
    *, actor: Any | None, weekdays: Iterable[int], branch: Branch | None = None
) -> frozenset[int]:
    """Set the cooperative's weekly off-days (``branch`` None) or one branch's own; for a branch, no days
    means it keeps the cooperative's. Returns the days off that now apply to that scope; listeners hear
    of the change in this transaction when those days changed."""
    days = _valid_weekdays(weekdays)
    cooperative = _calendar_lock()
    if cooperative is None:
        cooperative = WeeklyOffDays.objects.create(branch=None, weekdays=[], updated_by=_person(actor))
    cooperative_days = frozenset(cooperative.weekdays)
    unaffected: frozenset[int] = frozenset()
    if branch is None:
        before, after = cooperative_days, days
        if before != after:
            cooperative.weekdays = sorted(days)
            cooperative.updated_by = _person(actor)
            cooperative.save(update_fields=["weekdays", "updated_by", "updated_at"])
        own = WeeklyOffDays.objects.filter(branch__isnull=False).exclude(weekdays=[])
        unaffected = frozenset(own.values_list("branch_id", flat=True))
    else:
        row = WeeklyOffDays.objects.select_for_update().filter(branch=branch).first()
        stored_before = frozenset(row.weekdays) if row is not None else frozenset()
        before = stored_before or cooperative_days
        after = days or cooperative_days
        if stored_before == days:
            return after
        if not days:
            assert row is not None  # stored_before differs from the empty set
            row.delete()
        elif row is None:
            WeeklyOffDays.objects.create(branch=branch, weekdays=sorted(days), updated_by=_person(actor))
        else:
            row.weekdays = sorted(days)
            row.updated_by = _person(actor)
            row.save(update_fields=["weekdays", "updated_by", "updated_at"])
    if branch is None and before == after:
        return after
    audit_record(
        actor=actor,
        action="weekly_off_days.set",
        target=branch,
        object_type="" if branch is not None else "organisation.weeklyoffdays",
        object_id="" if branch is not None else "cooperative",
        changes={
            "branch": branch.code if branch is not None else None,
            "weekdays": [sorted(before), sorted(after)],
            "inherits": branch is not None and not days,
        },
    )
    if before != after:
        calendar_listeners.notify(
            CalendarChange(
                kind=CalendarChangeKind.WEEKLY_OFF_DAYS_CHANGED,
                branch=branch,
                actor=actor,
                weekdays_before=before,
                weekdays_after=after,
                branches_unaffected=unaffected,
            )
        )
    return after
