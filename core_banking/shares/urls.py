"""Staff pages of the shares module."""

from django.urls import URLPattern, URLResolver

app_name = "shares"
urlpatterns: list[URLPattern | URLResolver] = []
