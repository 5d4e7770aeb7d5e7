"""Listeners hear every calendar change inside the change's own transaction: they commit or roll back
with it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from control_plane.audit.models import AuditEvent
from control_plane.audit.services import audit_record
from control_plane.identity.models import User
from core_banking.organisation import calendar_listeners
from core_banking.organisation.calendar_listeners import CalendarChange, CalendarChangeKind
from core_banking.organisation.models import Branch, Holiday, WeeklyOffDays
from core_banking.organisation.services import holiday_create, holiday_delete, weekly_off_days_set
from tests.conftest import ALPHA

D = dt.date
FRIDAY, SATURDAY, SUNDAY = 4, 5, 6


def test_adding_and_removing_a_holiday_is_heard(br1: Branch, heard: list[CalendarChange]) -> None:
    admin = User.objects.get(username=ALPHA.admin)
    holiday = holiday_create(actor=admin, day=D(2026, 3, 26), name="Independence Day", every_year=True)
    holiday_delete(actor=admin, holiday_id=holiday.pk)
    local = holiday_create(actor=None, day=D(2026, 9, 9), name="Branch day", branch=br1)
    added, removed, branch_added = heard
    assert (added.kind, added.branch, added.actor, added.holiday, added.every_year) == (
        CalendarChangeKind.HOLIDAY_ADDED, None, admin, D(2026, 3, 26), True,
    )  # fmt: skip
    assert (removed.kind, removed.holiday, removed.every_year) == (
        CalendarChangeKind.HOLIDAY_REMOVED, D(2026, 3, 26), True,
    )  # fmt: skip
    # A yearly holiday touches its day in every year from its first on, a one-off only its date.
    assert added.affects(D(2031, 3, 26)) and not added.affects(D(2025, 3, 26))
    assert not added.affects(D(2031, 3, 27))
    assert branch_added.branch == br1 and branch_added.applies_to_branch(br1.pk)
    assert not branch_added.applies_to_branch(br1.pk + 1000)
    assert branch_added.affects(local.day) and not branch_added.affects(D(2027, 9, 9))


def test_a_listener_runs_inside_the_change_and_sees_it(head_office: Branch) -> None:
    seen: list[tuple[bool, bool]] = []

    def listener(change: CalendarChange) -> None:
        seen.append(
            (
                connection.in_atomic_block,
                Holiday.objects.filter(day=change.holiday, name="Victory Day").exists(),
            )
        )

    calendar_listeners.register(listener)
    calendar_listeners.register(listener)  # registering twice still calls it once
    try:
        holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")
    finally:
        calendar_listeners.unregister(listener)
    assert seen == [(True, True)]
    assert listener not in calendar_listeners.listeners()


def test_a_failing_listener_rolls_the_change_back_with_what_it_wrote(
    head_office: Branch, br1: Branch
) -> None:
    def listener(change: CalendarChange) -> None:
        audit_record(actor=None, action="loan.reschedule", changes={"kind": str(change.kind)})
        raise RuntimeError("the loans could not be moved")

    calendar_listeners.register(listener)
    try:
        with pytest.raises(RuntimeError, match="could not be moved"):
            holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")
        with pytest.raises(RuntimeError):
            weekly_off_days_set(actor=None, weekdays=[FRIDAY, SATURDAY], branch=br1)
    finally:
        calendar_listeners.unregister(listener)
    assert not Holiday.objects.exists()
    assert not WeeklyOffDays.objects.filter(branch=br1).exists()
    assert not AuditEvent.objects.filter(
        action__in=["holiday.create", "weekly_off_days.set", "loan.reschedule"]
    ).exists()
    # With the listener gone, the same changes go through.
    holiday = holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")
    assert list(Holiday.objects.all()) == [holiday]


def test_a_removal_refused_by_a_listener_keeps_the_holiday(head_office: Branch) -> None:
    holiday = holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")

    def listener(change: CalendarChange) -> None:
        raise RuntimeError("no")

    calendar_listeners.register(listener)
    try:
        with pytest.raises(RuntimeError):
            holiday_delete(actor=None, holiday_id=holiday.pk)
    finally:
        calendar_listeners.unregister(listener)
    assert Holiday.objects.filter(pk=holiday.pk).exists()
    assert not AuditEvent.objects.filter(action="holiday.delete").exists()


def test_changed_weekly_off_days_name_the_weekdays_and_the_branches_left_alone(
    head_office: Branch, br1: Branch, heard: list[CalendarChange]
) -> None:
    weekly_off_days_set(actor=None, weekdays=[FRIDAY, SATURDAY], branch=br1)
    weekly_off_days_set(actor=None, weekdays=[SATURDAY, SUNDAY])
    weekly_off_days_set(actor=None, weekdays=[SATURDAY, SUNDAY])  # no change: not heard
    own, cooperative = heard
    assert (own.kind, own.branch, own.weekdays_before, own.weekdays_after) == (
        CalendarChangeKind.WEEKLY_OFF_DAYS_CHANGED, br1, {FRIDAY}, {FRIDAY, SATURDAY},
    )  # fmt: skip
    assert own.weekdays_changed == {SATURDAY}
    assert own.affects(D(2026, 3, 28)) and not own.affects(D(2026, 3, 27))  # a Saturday, a Friday
    assert cooperative.branch is None and cooperative.weekdays_changed == {FRIDAY, SATURDAY, SUNDAY}
    assert cooperative.branches_unaffected == {br1.pk}
    assert cooperative.applies_to_branch(head_office.pk) and not cooperative.applies_to_branch(br1.pk)
