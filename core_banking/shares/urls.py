"""Staff pages of the shares module (mounted at /shares/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.shares import views

app_name = "shares"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.share_settings, name="settings"),
    path("members/<int:member_id>/", views.holding, name="holding"),
    path("members/<int:member_id>/buy/", views.purchase, name="purchase"),
]
