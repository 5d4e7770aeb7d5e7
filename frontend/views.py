"""Thin views of the staff shell and the public site: parse, call a selector or service, render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from control_plane.audit.models import AuditEvent
from control_plane.audit.services import audit_record
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import ROLE_LABELS, Capability, Role
from tenants.services import SLUG_PATTERN, domain_for


def _require(request: HttpRequest, capability: Capability) -> StaffProfile:
    profile: StaffProfile | None = getattr(request.user, "staff_profile", None)
    if profile is None or not profile.can(capability):
        raise PermissionDenied
    return profile


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html")


@login_required
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    _require(request, Capability.MANAGE_STAFF)
    profiles = StaffProfile.objects.select_related("user", "home_branch").order_by("user__username")
    rows = [
        {
            "profile": profile,
            "roles": [ROLE_LABELS[Role(role)] for role in profile.roles],
        }
        for profile in profiles
    ]
    return render(request, "frontend/staff_list.html", {"rows": rows})


@login_required
@require_GET
def audit_trail(request: HttpRequest) -> HttpResponse:
    _require(request, Capability.VIEW_AUDIT_TRAIL)
    events = AuditEvent.objects.all()
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "frontend/audit_trail.html", {"page": page, "action": action})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language not in {code for code, _name in settings.LANGUAGES}:
        return HttpResponseBadRequest("Unsupported language")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax", httponly=False
    )
    if request.user.is_authenticated and getattr(request.user, "language", None) != language:
        request.user.language = language
        request.user.save(update_fields=["language"])
    return response


@require_GET
def public_home(request: HttpRequest) -> HttpResponse:
    """The product's public page: plans and prices, sign-up, and 'find your workspace', which sends
    a cooperative to its subdomain."""
    from onboarding.presentation import display_currency, plan_cards

    slug = request.GET.get("workspace", "").strip().lower()
    error = ""
    if slug:
        if SLUG_PATTERN.match(slug):
            port = settings.COOPCORE_PUBLIC_PORT
            scheme = "https" if request.is_secure() else "http"
            return HttpResponseRedirect(f"{scheme}://{domain_for(slug)}{':' + port if port else ''}/")
        error = "invalid"
    language = (getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE).split("-")[0]
    currency = display_currency(request.GET.get("currency", ""), language)
    return render(
        request,
        "public/home.html",
        {
            "workspace": slug,
            "error": error,
            "cards": plan_cards(currency=currency, language=language),
            "currency": currency,
            "currencies": _plan_currency_choices(language),
        },
    )


def _plan_currency_choices(language: str) -> list[tuple[str, str]]:
    from babel.numbers import get_currency_name

    from billing.selectors import plan_currencies
    from frontend.formatting import babel_locale

    locale = babel_locale(language)
    return [(code, f"{get_currency_name(code, locale=locale)} ({code})") for code in plan_currencies()]


class AuditedLoginView(auth_views.LoginView):
    """Django's log-in, with each successful log-in on the audit trail (failures are counted by axes)."""

    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(actor=form.get_user(), action="auth.login")
        return response


class AuditedLogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            audit_record(actor=request.user, action="auth.logout")
        return super().post(request, *args, **kwargs)
