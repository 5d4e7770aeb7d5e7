"""Pages of data import (mounted at /imports/)."""

from django.urls import URLPattern, URLResolver, path

from imports import views

app_name = "imports"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.job_list, name="index"),
    path("new/", views.job_new, name="new"),
    path("sample.xlsx", views.sample_download, name="sample"),
    path("templates/<str:entity>.<str:kind>", views.template_download, name="template"),
    path("<int:job_id>/", views.job_detail, name="job"),
    path("<int:job_id>/progress/", views.job_progress, name="progress"),
    path("<int:job_id>/report.xlsx", views.job_report, name="report"),
    path("<int:job_id>/commit/", views.job_commit, name="commit"),
    path("<int:job_id>/rollback/", views.job_rollback, name="rollback"),
    path("go-live/", views.go_live, name="go_live"),
    path("profiles/", views.profile_list, name="profiles"),
    path("profiles/new/", views.profile_new, name="profile_new"),
    path("profiles/<int:profile_id>/", views.profile_edit, name="profile_edit"),
]
