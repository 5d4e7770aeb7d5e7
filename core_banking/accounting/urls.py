"""Staff pages of the accounting module."""

from django.urls import URLPattern, URLResolver

app_name = "accounting"
urlpatterns: list[URLPattern | URLResolver] = []
