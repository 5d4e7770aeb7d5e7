"""Staff pages of notifications (mounted at /notifications/)."""

from django.urls import URLPattern, URLResolver, path

from notifications import views

app_name = "notifications"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.attention, name="attention"),
    path("<int:message_id>/resend/", views.resend, name="resend"),
]
