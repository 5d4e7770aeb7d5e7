"""The field app (PWA) at /field/: the page, its service worker (scope /field/) and its manifest."""

from django.urls import path

from field import app_views

app_name = "field_app"

urlpatterns = [
    path("", app_views.field_app, name="index"),
    path("sw.js", app_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", app_views.manifest, name="manifest"),
]
