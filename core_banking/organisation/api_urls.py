"""REST API of the organisation: the working-day calendar (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.organisation import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("organisation/calendar/holidays/", api.HolidayListView.as_view(), name="api_calendar_holidays"),
    path(
        "organisation/calendar/holidays/<int:holiday_id>/",
        api.HolidayDetailView.as_view(),
        name="api_calendar_holiday",
    ),
    path(
        "organisation/calendar/weekly-off-days/",
        api.WeeklyOffDaysView.as_view(),
        name="api_calendar_weekly_off_days",
    ),
    path(
        "organisation/calendar/working-days/",
        api.WorkingDaysView.as_view(),
        name="api_calendar_working_days",
    ),
]
