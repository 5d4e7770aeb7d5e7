"""The calendar's services and selector: seeded weekly off-days, holidays once per date, yearly
holidays, branch overrides, the audit trail, and the calendar schedules are built on."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.organisation.models import Branch, Holiday, WeeklyOffDays
from core_banking.organisation.selectors import MAX_CALENDAR_YEARS, holidays_in_year, working_calendar
from core_banking.organisation.services import holiday_create, holiday_delete, weekly_off_days_set
from tests.conftest import ALPHA

D = dt.date
FRIDAY, SATURDAY, SUNDAY = 4, 5, 6


def _violation(excinfo: pytest.ExceptionInfo[BusinessRuleViolation]) -> tuple[ErrorCode, int]:
    return excinfo.value.code, excinfo.value.http_status


def test_provisioning_seeds_the_countrys_weekly_off_days(in_alpha: object) -> None:
    assert WeeklyOffDays.objects.get(branch=None).weekdays == [FRIDAY]  # alpha is a Bangladeshi samity
    with schema_context("coop_beta"):  # beta is Vietnamese
        assert WeeklyOffDays.objects.get(branch=None).weekdays == [SATURDAY, SUNDAY]
    with schema_context(
        settings.TENANT_BASE_SCHEMA
    ):  # the template stays empty: it is cloned for every country
        assert not WeeklyOffDays.objects.exists()


def test_the_data_migration_gives_existing_workspaces_their_countrys_days(in_alpha: object) -> None:
    seed = importlib.import_module(
        "core_banking.organisation.migrations.0003_weekly_off_days_of_existing_workspaces"
    ).seed

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    WeeklyOffDays.objects.all().delete()
    seed(apps, editor)
    assert WeeklyOffDays.objects.get(branch=None).weekdays == [FRIDAY]
    seed(apps, editor)  # run again: nothing more, nothing changed
    assert WeeklyOffDays.objects.count() == 1
    with schema_context(settings.TENANT_BASE_SCHEMA):
        seed(apps, editor)
        assert not WeeklyOffDays.objects.exists()


def test_a_holiday_is_recorded_with_who_added_it_and_audited(head_office: Branch) -> None:
    admin = User.objects.get(username=ALPHA.admin)
    holiday = holiday_create(actor=admin, day=D(2026, 3, 26), name="  Independence Day ", every_year=True)
    holiday.refresh_from_db()
    assert (holiday.name, holiday.branch, holiday.every_year, holiday.created_by) == (
        "Independence Day", None, True, admin,
    )  # fmt: skip
    event = AuditEvent.objects.get(action="holiday.create", object_id=str(holiday.pk))
    assert event.actor_label == ALPHA.admin
    assert event.changes == {
        "day": "2026-03-26",
        "name": "Independence Day",
        "branch": None,
        "every_year": True,
    }
    holiday_delete(actor=admin, holiday_id=holiday.pk)
    assert not Holiday.objects.filter(pk=holiday.pk).exists()
    removed = AuditEvent.objects.get(action="holiday.delete", object_id=str(holiday.pk))
    assert removed.changes["day"] == "2026-03-26" and removed.object_type == "organisation.holiday"


def test_a_date_is_a_holiday_once_per_branch(br1: Branch) -> None:
    holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")
    with pytest.raises(BusinessRuleViolation) as excinfo:
        holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day again")
    assert _violation(excinfo) == (ErrorCode.HOLIDAY_EXISTS, 409)
    assert excinfo.value.fields == {"day": ["2026-12-16 is already a holiday: Victory Day."]}
    # A branch may have its own holiday on the same date, once.
    holiday_create(actor=None, day=D(2026, 12, 16), name="Branch fair", branch=br1)
    with pytest.raises(BusinessRuleViolation):
        holiday_create(actor=None, day=D(2026, 12, 16), name="Branch fair", branch=br1)
    assert Holiday.objects.filter(day=D(2026, 12, 16)).count() == 2


def test_a_yearly_holiday_clashes_with_the_same_day_in_its_years(head_office: Branch) -> None:
    holiday_create(actor=None, day=D(2026, 5, 1), name="May Day", every_year=True)
    # A one-off holiday on 1 May of a later year is already a holiday; of an earlier year it is not.
    with pytest.raises(BusinessRuleViolation) as excinfo:
        holiday_create(actor=None, day=D(2029, 5, 1), name="Labour Day")
    assert excinfo.value.code == ErrorCode.HOLIDAY_EXISTS
    assert "(every year)" in excinfo.value.message
    holiday_create(actor=None, day=D(2025, 5, 1), name="Labour Day")
    # Another yearly one on the same day and month clashes whatever its first year.
    with pytest.raises(BusinessRuleViolation):
        holiday_create(actor=None, day=D(2020, 5, 1), name="Workers' Day", every_year=True)
    # A yearly one from 2024 would repeat into the one-off of 2025.
    holiday_create(actor=None, day=D(2027, 8, 15), name="Mourning Day")
    with pytest.raises(BusinessRuleViolation):
        holiday_create(actor=None, day=D(2024, 8, 15), name="Mourning Day", every_year=True)


def test_a_holiday_needs_a_name(head_office: Branch) -> None:
    with pytest.raises(BusinessRuleViolation) as excinfo:
        holiday_create(actor=None, day=D(2026, 1, 1), name="   ")
    assert excinfo.value.code == ErrorCode.VALIDATION_ERROR
    assert excinfo.value.fields == {"name": ["A name is required."]}


def test_removing_an_unknown_holiday_is_refused(head_office: Branch) -> None:
    with pytest.raises(BusinessRuleViolation) as excinfo:
        holiday_delete(actor=None, holiday_id=987654)
    assert _violation(excinfo) == (ErrorCode.HOLIDAY_UNKNOWN, 404)


def test_yearly_holidays_fall_in_every_year_of_the_range_from_their_first(head_office: Branch) -> None:
    holiday_create(actor=None, day=D(2026, 3, 26), name="Independence Day", every_year=True)
    holiday_create(actor=None, day=D(2024, 2, 29), name="Leap day", every_year=True)
    holiday_create(actor=None, day=D(2027, 4, 14), name="Pohela Boishakh")
    calendar = working_calendar(branch=head_office, start=D(2025, 6, 1), end=D(2028, 1, 31))
    assert calendar.holidays == {
        D(2026, 3, 26), D(2027, 3, 26), D(2028, 3, 26),  # not 2025: it starts in 2026
        D(2028, 2, 29),  # 2025-2027 have no 29 February
        D(2027, 4, 14),
    }  # fmt: skip
    assert calendar.weekly_off_days == {FRIDAY}
    # 26 March 2026 is a Thursday and Friday is off: an instalment due then is due on Saturday.
    assert calendar.next_working_day(D(2026, 3, 26)) == D(2026, 3, 28)
    assert calendar.next_working_day(D(2027, 3, 26)) == D(2027, 3, 27)
    assert calendar.next_working_day(D(2027, 3, 25)) == D(2027, 3, 25)


def test_a_branch_keeps_the_cooperatives_holidays_and_its_own(head_office: Branch, br1: Branch) -> None:
    holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")
    holiday_create(actor=None, day=D(2026, 9, 9), name="Branch foundation day", branch=br1)
    start, end = D(2026, 1, 1), D(2026, 12, 31)
    assert working_calendar(branch=br1, start=start, end=end).holidays == {D(2026, 12, 16), D(2026, 9, 9)}
    assert working_calendar(branch=head_office, start=start, end=end).holidays == {D(2026, 12, 16)}
    assert working_calendar(branch=None, start=start, end=end).holidays == {D(2026, 12, 16)}


def test_a_branch_may_keep_its_own_weekly_off_days_and_go_back_to_the_cooperatives(
    head_office: Branch, br1: Branch
) -> None:
    admin = User.objects.get(username=ALPHA.admin)
    start, end = D(2026, 1, 1), D(2026, 12, 31)
    assert weekly_off_days_set(actor=admin, weekdays=[SATURDAY, FRIDAY, FRIDAY], branch=br1) == {
        FRIDAY,
        SATURDAY,
    }
    assert working_calendar(branch=br1, start=start, end=end).weekly_off_days == {FRIDAY, SATURDAY}
    assert working_calendar(branch=head_office, start=start, end=end).weekly_off_days == {FRIDAY}
    event = AuditEvent.objects.get(action="weekly_off_days.set")
    assert (event.object_type, event.object_id) == ("organisation.branch", str(br1.pk))
    assert event.changes == {"branch": "BR1", "weekdays": [[FRIDAY], [FRIDAY, SATURDAY]], "inherits": False}
    # The cooperative's days change; the branch keeps its own.
    assert weekly_off_days_set(actor=admin, weekdays=[SATURDAY, SUNDAY]) == {SATURDAY, SUNDAY}
    assert working_calendar(branch=head_office, start=start, end=end).weekly_off_days == {SATURDAY, SUNDAY}
    assert working_calendar(branch=br1, start=start, end=end).weekly_off_days == {FRIDAY, SATURDAY}
    # No days for the branch: it keeps the cooperative's again.
    assert weekly_off_days_set(actor=admin, weekdays=[], branch=br1) == {SATURDAY, SUNDAY}
    assert not WeeklyOffDays.objects.filter(branch=br1).exists()
    assert working_calendar(branch=br1, start=start, end=end).weekly_off_days == {SATURDAY, SUNDAY}
    assert AuditEvent.objects.filter(action="weekly_off_days.set").count() == 3


def test_setting_the_same_days_again_changes_and_audits_nothing(head_office: Branch) -> None:
    assert weekly_off_days_set(actor=None, weekdays=[FRIDAY]) == {FRIDAY}
    assert not AuditEvent.objects.filter(action="weekly_off_days.set").exists()


def test_a_cooperative_may_work_every_day(head_office: Branch) -> None:
    assert weekly_off_days_set(actor=None, weekdays=[]) == frozenset()
    calendar = working_calendar(branch=head_office, start=D(2026, 1, 1), end=D(2026, 1, 31))
    assert calendar.next_working_day(D(2026, 1, 2)) == D(2026, 1, 2)  # a Friday


@pytest.mark.parametrize("weekdays", [[0, 1, 2, 3, 4, 5, 6], [7], [-1], ["4"], [True]])
def test_impossible_weekdays_are_refused(head_office: Branch, weekdays: list[object]) -> None:
    with pytest.raises(BusinessRuleViolation) as excinfo:
        weekly_off_days_set(actor=None, weekdays=weekdays)  # type: ignore[arg-type]
    assert excinfo.value.code == ErrorCode.WEEKDAYS_INVALID
    assert list(excinfo.value.fields) == ["weekdays"]
    assert WeeklyOffDays.objects.get(branch=None).weekdays == [FRIDAY]


def test_the_calendar_costs_two_queries(br1: Branch, django_assert_num_queries: object) -> None:
    for year in range(2026, 2030):
        holiday_create(actor=None, day=D(year, 1, 1), name="New year", branch=br1)
    holiday_create(actor=None, day=D(2020, 12, 16), name="Victory Day", every_year=True)
    with django_assert_num_queries(2):  # type: ignore[operator]
        calendar = working_calendar(branch=br1, start=D(2026, 1, 1), end=D(2055, 12, 31))
    assert len(calendar.holidays) == 4 + 30


@pytest.mark.parametrize(
    ("start", "end"), [(D(2026, 2, 1), D(2026, 1, 31)), (D(2026, 1, 1), D(2026 + MAX_CALENDAR_YEARS, 1, 1))]
)
def test_a_calendar_over_an_impossible_range_is_refused(
    head_office: Branch, start: dt.date, end: dt.date
) -> None:
    with pytest.raises(BusinessRuleViolation) as excinfo:
        working_calendar(branch=head_office, start=start, end=end)
    assert excinfo.value.code == ErrorCode.CALENDAR_RANGE_INVALID


def test_the_holidays_of_a_year_in_date_order(head_office: Branch, br1: Branch) -> None:
    holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")
    holiday_create(actor=None, day=D(2026, 12, 16), name="Branch day", branch=br1)
    holiday_create(actor=None, day=D(2020, 3, 26), name="Independence Day", every_year=True)
    holiday_create(actor=None, day=D(2027, 1, 1), name="Next year")
    found = holidays_in_year(year=2026, visible_branch_ids=None)
    assert [(item.on, item.holiday.name) for item in found] == [
        (D(2026, 3, 26), "Independence Day"),
        (D(2026, 12, 16), "Victory Day"),  # the cooperative's first on a shared date
        (D(2026, 12, 16), "Branch day"),
    ]
    # Staff of the head office alone do not see another branch's own holidays.
    only_head_office = holidays_in_year(year=2026, visible_branch_ids=[head_office.pk])
    assert [item.holiday.name for item in only_head_office] == ["Independence Day", "Victory Day"]
