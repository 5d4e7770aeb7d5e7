"""Thin views of online sign-up (bare domain) and of the log-in hand-off (the new workspace's domain)."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from billing.stripe_gateway import PaymentProviderError
from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation
from control_plane.middleware import client_ip
from onboarding.forms import SLUG_MESSAGES, SignUpForm
from onboarding.models import SignUp, SignUpStatus
from onboarding.presentation import display_currency, plan_cards
from onboarding.selectors import signup_progress, slug_problem
from onboarding.services import (
    admin_username,
    handoff_token_consume,
    handoff_token_issue,
    signup_checkout_confirm,
    signup_checkout_restart,
    signup_start,
)
from tenants.db import in_public_schema
from tenants.services import domain_for

SESSION_KEY = "onboarding_signups"
SIGNUP_PROVIDER_DOWN = _(
    "The payment service cannot be reached just now. Nothing was charged and nothing was kept; "
    "please try again in a few minutes."
)
SIGNUP_TOO_OFTEN = _(
    "Too many sign-ups were started from this address in the last hour. Nothing was charged; "
    "please try again later, or write to us if several cooperatives sign up from one office."
)


def _address(group: str, request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _too_often(request: HttpRequest, *, group: str, rate: str) -> bool:
    """Count one more of ``group`` for this client address; True once it is over ``rate``."""
    if not rate:
        return False
    return bool(is_ratelimited(request, group=group, key=_address, rate=rate, increment=True))


def _signup_too_often(request: HttpRequest) -> bool:
    # Each sign-up started opens a Checkout session and holds a subdomain: counted per address.
    return _too_often(request, group="onboarding.signup", rate=settings.SIGNUP_RATE)


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def _site_url(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _workspace_origin(request: HttpRequest, slug: str) -> str:
    """The workspace's origin, on the scheme and port this request came in on."""
    host = request.get_host()
    port = host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else ""
    return f"{request.scheme}://{domain_for(slug)}{':' + port if port else ''}"


def _owned(request: HttpRequest, signup: SignUp) -> bool:
    """Whether this browser started the sign-up (only it may be logged in without a password)."""
    return str(signup.public_id) in request.session.get(SESSION_KEY, [])


def _signup(public_id: uuid.UUID) -> SignUp:
    return get_object_or_404(SignUp.objects.select_related("plan", "cooperative"), public_id=public_id)


@never_cache
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    status = 200
    language = _language()
    currency = display_currency(request.GET.get("currency", ""), language)
    cards = plan_cards(currency=currency, language=language)
    plans = [(card.plan.code, card.name) for card in cards]
    if request.method == "POST":
        form = SignUpForm(request.POST, plans=plans)
        if form.is_valid() and _signup_too_often(request):
            form.add_error(None, SIGNUP_TOO_OFTEN)
            status = 429
        elif form.is_valid():
            try:
                started = signup_start(data=form.to_request(language=language), site_url=_site_url(request))
            except BusinessRuleViolation as exc:
                form.add_service_errors(exc.fields, exc.code)
            except PaymentProviderError:
                form.add_error(None, SIGNUP_PROVIDER_DOWN)
            else:
                owned = [*request.session.get(SESSION_KEY, []), str(started.public_id)][-10:]
                request.session[SESSION_KEY] = owned
                return HttpResponseRedirect(started.checkout_url)
    else:
        requested = request.GET.get("plan", "")
        initial_plan = requested if requested in dict(plans) else (plans[1][0] if len(plans) > 1 else "")
        form = SignUpForm(plans=plans, initial={"plan": initial_plan, "country": _country_guess(language)})
    return render(
        request,
        "public/signup.html",
        {
            "form": form,
            "cards": cards,
            "currency": currency,
            "domain_suffix": settings.COOPCORE_DOMAIN_SUFFIX,
        },
        status=status,
    )


def _country_guess(language: str) -> str:
    return {"bn": "BD", "vi": "VN", "th": "TH"}.get(language, "BD")


@require_GET
def signup_slug_check(request: HttpRequest) -> HttpResponse:
    """htmx: whether the subdomain typed so far can be had."""
    if _too_often(request, group="onboarding.slug_check", rate=settings.SIGNUP_SLUG_CHECK_RATE):
        # The check answers as the name is typed; at this pace it is being used to list names.
        return HttpResponse(status=429)
    slug = request.GET.get("slug", "").strip().lower()
    problem = slug_problem(slug) if slug else None
    context: dict[str, Any] = {"slug": slug, "domain": domain_for(slug) if slug else ""}
    if slug and problem is not None:
        context["message"] = SLUG_MESSAGES[problem]
    return render(request, "public/_slug_check.html", context)


@never_cache
@require_GET
def signup_return(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Stripe's success URL: the session is read from Stripe before anything is believed."""
    found = _signup(public_id)
    session_id = request.GET.get("session_id", "") or found.stripe_checkout_session_id or ""
    if found.status in (SignUpStatus.PENDING, SignUpStatus.EXPIRED) and session_id.startswith("cs_"):
        # If Stripe cannot be reached now, its webhook will tell us; the waiting page keeps asking.
        with contextlib.suppress(PaymentProviderError):
            signup_checkout_confirm(session_id=session_id, expected_signup=found)
    return HttpResponseRedirect(reverse("signup_status", args=[found.public_id]))


@never_cache
@require_GET
def signup_cancelled(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    found = _signup(public_id)
    if found.status != SignUpStatus.PENDING:
        return HttpResponseRedirect(reverse("signup_status", args=[found.public_id]))
    return render(request, "public/signup_cancelled.html", {"signup": found, "owned": _owned(request, found)})


@require_POST
def signup_resume(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Back to payment: a new Checkout session for a pending sign-up this browser started."""
    found = _signup(public_id)
    if not _owned(request, found):
        raise Http404
    if found.status == SignUpStatus.PENDING:
        if _signup_too_often(request):
            return render(
                request,
                "public/signup_cancelled.html",
                {"signup": found, "owned": True, "error": SIGNUP_TOO_OFTEN},
                status=429,
            )
        try:
            found = signup_checkout_restart(signup=found, site_url=_site_url(request))
        except PaymentProviderError:
            return render(
                request,
                "public/signup_cancelled.html",
                {"signup": found, "owned": True, "error": SIGNUP_PROVIDER_DOWN},
                status=503,
            )
        if found.status == SignUpStatus.PENDING and found.checkout_url:
            return HttpResponseRedirect(found.checkout_url)
    return HttpResponseRedirect(reverse("signup_status", args=[found.public_id]))


@never_cache
@require_GET
def signup_status(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The waiting page: shown at once, it asks for progress until the workspace is ready."""
    found = _signup(public_id)
    return render(request, "public/signup_status.html", _progress_context(request, found))


@never_cache
@require_GET
def signup_progress_partial(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """htmx: the steps so far. Once the workspace is ready, the sign-up's own browser reloads the
    whole page, which alone hands out the one-time log-in (polls in flight never issue one)."""
    found = _signup(public_id)
    context = _progress_context(request, found, issue_token=False)
    if context["progress"].ready and context["owned"]:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "public/_signup_progress.html", context)


def _progress_context(request: HttpRequest, found: SignUp, *, issue_token: bool = True) -> dict[str, Any]:
    progress = signup_progress(found)
    context: dict[str, Any] = {
        "signup": found,
        "progress": progress,
        "owned": _owned(request, found),
        "workspace_domain": domain_for(found.slug),
        "login_url": _workspace_origin(request, found.slug) + "/accounts/login/",
        "username": admin_username(found.admin_email),
    }
    if progress.ready and context["owned"] and issue_token:
        token = handoff_token_issue(signup=found)
        if token is not None:
            context["handoff_token"] = token
            context["handoff_url"] = _workspace_origin(request, found.slug) + reverse(
                "signup_handoff", urlconf="onboarding.urls_workspace"
            )
    return context


# --- On the new workspace's own domain -----------------------------------------------------------


@csrf_exempt  # posted from the public site; the single-use token is the proof, not a CSRF cookie
@never_cache
@require_POST
def signup_handoff(request: HttpRequest) -> HttpResponse:
    """Log the new cooperative's admin in with a one-time token from the public site's waiting page."""
    cooperative = getattr(request, "tenant", None)
    if cooperative is None or in_public_schema():
        raise Http404
    user = handoff_token_consume(raw_token=request.POST.get("token", ""), cooperative=cooperative)
    if user is None:
        return render(request, "public/handoff_refused.html", {"cooperative": cooperative}, status=403)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    audit_record(actor=user, action="auth.login", changes={"method": "sign-up hand-off"})
    return HttpResponseRedirect("/")
