"""The working-day arithmetic on its own: plain dates, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from core_banking.organisation.working_days import (
    WorkingCalendar,
    holidays_between,
    weekly_off_days_for_country,
    yearly_occurrence,
)

D = dt.date
FRIDAY = 4


def test_a_working_day_stays_where_it_is() -> None:
    calendar = WorkingCalendar(weekly_off_days=frozenset({FRIDAY}), holidays=frozenset())
    assert calendar.next_working_day(D(2026, 3, 26)) == D(2026, 3, 26)  # a Thursday


def test_a_weekly_off_day_moves_to_the_next_day() -> None:
    bangladesh = WorkingCalendar(weekly_off_days=frozenset({FRIDAY}), holidays=frozenset())
    assert bangladesh.next_working_day(D(2027, 3, 26)) == D(2027, 3, 27)  # Friday -> Saturday
    vietnam = WorkingCalendar(weekly_off_days=frozenset({5, 6}), holidays=frozenset())
    assert vietnam.next_working_day(D(2026, 2, 21)) == D(2026, 2, 23)  # Saturday -> Monday


def test_a_holiday_next_to_an_off_day_moves_past_both() -> None:
    # 26 March 2026 is a Thursday, independence day; Friday is off: due on Saturday the 28th.
    calendar = WorkingCalendar(weekly_off_days=frozenset({FRIDAY}), holidays=frozenset({D(2026, 3, 26)}))
    assert calendar.next_working_day(D(2026, 3, 26)) == D(2026, 3, 28)
    assert not calendar.is_working_day(D(2026, 3, 27))
    assert calendar.is_working_day(D(2026, 3, 28))


def test_weeks_of_holidays_are_walked_through() -> None:
    # Every working day of three weeks is a holiday (an Eid break, say): the walk reaches the fourth week.
    start = D(2026, 3, 14)  # a Saturday
    days = frozenset(
        start + dt.timedelta(days=n) for n in range(21) if (start + dt.timedelta(days=n)).weekday() != FRIDAY
    )
    calendar = WorkingCalendar(weekly_off_days=frozenset({FRIDAY}), holidays=days)
    assert calendar.next_working_day(start) == D(2026, 4, 4)


@pytest.mark.parametrize(
    ("weekdays", "message"), [({0, 1, 2, 3, 4, 5, 6}, "at least one working day"), ({7}, "0 \\(Monday\\)")]
)
def test_impossible_weeks_are_refused(weekdays: set[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(weekly_off_days=frozenset(weekdays), holidays=frozenset())


def test_a_yearly_holiday_starts_in_its_own_year_and_skips_years_without_its_day() -> None:
    assert yearly_occurrence(D(2026, 3, 26), 2025) is None
    assert yearly_occurrence(D(2026, 3, 26), 2031) == D(2031, 3, 26)
    assert yearly_occurrence(D(2024, 2, 29), 2027) is None
    assert yearly_occurrence(D(2024, 2, 29), 2028) == D(2028, 2, 29)


def test_holidays_between_takes_whole_years() -> None:
    days = holidays_between(
        one_off=[D(2025, 12, 31), D(2026, 4, 14), D(2028, 1, 1)],
        yearly=[D(2026, 5, 1), D(2020, 12, 16)],
        first_year=2026,
        last_year=2027,
    )
    assert days == {
        D(2026, 4, 14),
        D(2026, 5, 1), D(2027, 5, 1),
        D(2026, 12, 16), D(2027, 12, 16),
    }  # fmt: skip


def test_country_defaults() -> None:
    assert weekly_off_days_for_country("bd") == {FRIDAY}
    assert weekly_off_days_for_country("VN") == weekly_off_days_for_country("TH") == {5, 6}
    assert weekly_off_days_for_country("KE") == {5, 6}
