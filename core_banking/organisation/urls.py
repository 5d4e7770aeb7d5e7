"""Staff pages of the organisation (mounted at /organisation/): the working-day calendar."""

from django.urls import URLPattern, URLResolver, path

from core_banking.organisation import views

app_name = "organisation"
urlpatterns: list[URLPattern | URLResolver] = [
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/holidays/", views.holiday_add, name="holiday_add"),
    path("calendar/holidays/<int:holiday_id>/delete/", views.holiday_delete, name="holiday_delete"),
    path("calendar/weekly-off-days/", views.weekly_off_days, name="weekly_off_days"),
]
