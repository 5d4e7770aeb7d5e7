"""URLs of billing (on the bare domain, under /billing/)."""

from django.urls import URLPattern, URLResolver, path

from billing import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
