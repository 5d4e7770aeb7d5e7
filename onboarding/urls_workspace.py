"""URLs onboarding adds to every workspace (included by control_plane.urls_workspace)."""

from django.urls import URLPattern, URLResolver, path

from onboarding import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("accounts/handoff/", views.signup_handoff, name="signup_handoff"),
]
