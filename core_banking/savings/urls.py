"""Staff pages of the savings module."""

from django.urls import URLPattern, URLResolver

app_name = "savings"
urlpatterns: list[URLPattern | URLResolver] = []
