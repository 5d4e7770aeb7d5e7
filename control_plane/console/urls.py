"""URLs of control_plane/console (on the bare domain)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
