"""URLs of the bare domain: the public site and the control plane."""

from django.urls import include, path

from control_plane.health import healthz, livez
from frontend import views

urlpatterns = [
    path("", views.public_home, name="public_home"),
    path("language/", views.set_language, name="set_language"),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("console/", include("control_plane.console.urls")),
    path("billing/", include("billing.urls")),
    path("", include("onboarding.urls")),
]
