"""Staff pages of the reporting module (mounted at /reports/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.reporting import views

app_name = "reporting"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.report_index, name="index"),
    path("<slug:slug>/", views.report_page, name="report"),
    path("<slug:slug>/<str:kind>/", views.report_export, name="export"),
]
