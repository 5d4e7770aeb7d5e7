"""URLs of a cooperative's workspace (<slug>.<domain suffix>)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from control_plane.errors import api_not_found
from control_plane.health import healthz, livez
from core_banking.staff.api import MeView, StaffTokenView
from frontend import views
from notifications.inbound_views import twilio_inbound_sms
from notifications.views import twilio_status_callback

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.AuditedLoginView.as_view(), name="login"),
    path("accounts/logout/", views.AuditedLogoutView.as_view(), name="logout"),
    # The one-time log-in that carries a new cooperative's admin in from sign-up (onboarding).
    path("", include("onboarding.urls_workspace")),
    path("accounts/password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("language/", views.set_language, name="set_language"),
    path("staff/", views.staff_list, name="staff_list"),
    path("audit/", views.audit_trail, name="audit_trail"),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("members/", include("core_banking.members.urls")),
    path("savings/", include("core_banking.savings.urls")),
    path("shares/", include("core_banking.shares.urls")),
    path("reports/", include("core_banking.reporting.urls")),
    path("accounting/", include("core_banking.accounting.urls")),
    path("cash/", include("core_banking.cash.urls")),
    path("organisation/", include("core_banking.organisation.urls")),
    path("lending/", include("core_banking.lending.urls")),
    path("field/collections/", include("field.urls")),
    path("field/", include("field.app_urls")),
    path("notifications/texts/", include("notifications.texts_urls")),
    path("notifications/", include("notifications.urls")),
    path("imports/", include("imports.urls")),
    # The SMS gateway's delivery reports, on the workspace's own host (notifications/views.py).
    path("hooks/twilio/status/", twilio_status_callback, name="notifications_twilio_status"),
    # SMS members send to the cooperative's number (balance requests), on the workspace's own host.
    path("hooks/twilio/sms/", twilio_inbound_sms, name="notifications_twilio_inbound"),
    path("api/v1/me/", MeView.as_view(), name="api_me"),
    path("api/v1/auth/token/", StaffTokenView.as_view(), name="api_token"),
    path("api/v1/", include("core_banking.members.api_urls")),
    path("api/v1/", include("core_banking.savings.api_urls")),
    path("api/v1/", include("core_banking.shares.api_urls")),
    path("api/v1/", include("core_banking.reporting.api_urls")),
    path("api/v1/", include("core_banking.accounting.api_urls")),
    path("api/v1/", include("core_banking.cash.api_urls")),
    path("api/v1/", include("core_banking.organisation.api_urls")),
    path("api/v1/", include("core_banking.lending.api_urls")),
    path("api/v1/", include("field.api_urls")),
    path("api/v1/", include("notifications.api_urls")),
    path("api/v1/", include("notifications.texts_api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/schema/ui/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api_schema_v1"),
    re_path(r"^api/", api_not_found),
]
