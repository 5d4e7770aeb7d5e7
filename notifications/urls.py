"""Staff pages of notifications (mounted at /notifications/)."""

from django.urls import URLPattern, URLResolver, path

from notifications import metering_views, views

app_name = "notifications"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.attention, name="attention"),
    path("usage/", metering_views.sms_usage, name="sms_usage"),
    path("<int:message_id>/resend/", views.resend, name="resend"),
]
