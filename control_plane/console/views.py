"""The console's pages: thin views over ``auth``, ``forms``, ``selectors`` and ``services``.

Log-in pages are open (on the bare domain only); every other view is wrapped in
``console_operator_required``. Actions are POSTs with CSRF and a reason; suspending and restoring
ask the operator to type the subdomain first, dropping a kept schema its name. Long runs (backups,
restores, fleet migrations) are shown by small partials that the page polls with htmx every 2 s
while something runs; the partial stops asking once nothing does.
"""

from __future__ import annotations

from base64 import b32encode
from collections.abc import Callable
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.signals import user_login_failed
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing import selectors as billing_selectors
from control_plane.audit.services import audit_record
from control_plane.backups.selectors import drills_failing
from control_plane.console import auth as console_auth
from control_plane.console import selectors, services
from control_plane.console.auth import console_operator_required
from control_plane.console.forms import (
    ChargeForm,
    ConfirmForm,
    LoginForm,
    PlanChangeForm,
    ProvisionForm,
    ReasonForm,
    SearchForm,
    SuspendForm,
    TokenForm,
)
from control_plane.console.models import ConsoleOperator
from control_plane.errors import BusinessRuleViolation
from control_plane.identity.models import User
from tenants.db import in_public_schema
from tenants.fleet import fleet_runs_recent
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, workspace_url

NEXT_SESSION_KEY = "console_next"
ENROLMENT_SESSION_KEY = "console_enrolment_token"
ENROLMENT_URL_TOKEN = "set-password"  # noqa: S105 - the placeholder that replaces the token in the URL
PAGE_SIZE = 50
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _public_only() -> None:
    if not in_public_schema():
        raise Http404


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    default = reverse("console:tenants")
    if not candidate or not candidate.startswith(reverse("console:tenants")):
        return default
    if not url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return default
    return candidate


def _locked_out(request: HttpRequest) -> HttpResponse:
    """Our own page for axes' lockout (axes' middleware would show the workspaces' one)."""
    request.axes_locked_out = False  # type: ignore[attr-defined]
    console_auth.pending_clear(request)
    return render(request, "console/locked_out.html", status=429)


def _is_locked(request: HttpRequest, username: str) -> bool:
    return bool(AxesProxyHandler.is_locked(request, {"username": username}))


def _apply_errors(form: Any, error: BusinessRuleViolation, field_map: dict[str, str] | None = None) -> None:
    field_map = field_map or {}
    placed = False
    for field, problems in error.fields.items():
        name = field_map.get(field, field)
        if name in form.fields:
            for problem in problems:
                form.add_error(name, problem)
            placed = True
    if not placed:
        form.add_error(None, error.message)


# --- Log-in --------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Step one: user name and password (axes counts failures and locks out)."""
    _public_only()
    if console_auth.verified_operator(request) is not None:
        return redirect(_safe_next(request, request.GET.get("next")))
    form = LoginForm(request.POST or None)
    failed = False
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if getattr(request, "axes_locked_out", False):
            return _locked_out(request)
        if user is not None and console_auth.operator_for(user) is not None:
            console_auth.pending_start(request, user)
            request.session[NEXT_SESSION_KEY] = _safe_next(request, request.POST.get("next"))
            if console_auth.confirmed_devices(user):
                return redirect("console:verify")
            return redirect("console:enrol_device")
        if user is not None:
            # The right password of somebody who is not an operator counts as a failure too.
            user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
            if getattr(request, "axes_locked_out", False):
                return _locked_out(request)
        failed = True
    return render(
        request,
        "console/login.html",
        {"form": form, "failed": failed, "next": request.GET.get("next") or request.POST.get("next", "")},
        status=200,
    )


def _complete_login(request: HttpRequest, user: User, device: TOTPDevice) -> HttpResponse:
    next_url = _safe_next(request, request.session.get(NEXT_SESSION_KEY))
    console_auth.pending_clear(request)
    request.session.pop(NEXT_SESSION_KEY, None)
    auth_login(request, user, backend=MODEL_BACKEND)
    otp_login(request, device)
    request.session.set_expiry(settings.CONSOLE_SESSION_SECONDS)
    audit_record(actor=user, action="console.login", target=user, changes={"device": device.persistent_id})
    return HttpResponseRedirect(next_url)


def _wrong_code(request: HttpRequest, user: User, form: TokenForm) -> HttpResponse | None:
    """Count a wrong code (in the session and with axes); a response when the log-in is over."""
    failures = console_auth.otp_failure_count(request)
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    if getattr(request, "axes_locked_out", False):
        return _locked_out(request)
    if failures >= console_auth.OTP_FAILURES_PER_LOGIN:
        console_auth.pending_clear(request)
        messages.error(request, _("Too many wrong codes. Log in again."))
        return redirect("console:login")
    form.add_error(
        "token",
        _(
            "That code is not right. Wait a few seconds (each wrong code adds a pause), "
            "then type the code your app shows now."
        ),
    )
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Step two: a code from the operator's enrolled authenticator app."""
    _public_only()
    user = console_auth.pending_user(request)
    if user is None:
        messages.info(request, _("Log in with your user name and password first."))
        return redirect("console:login")
    if not console_auth.confirmed_devices(user):
        return redirect("console:enrol_device")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _is_locked(request, user.get_username()):
            return _locked_out(request)
        device = services.totp_verify(user=user, token=form.cleaned_data["token"])
        if device is not None:
            return _complete_login(request, user, device)
        response = _wrong_code(request, user, form)
        if response is not None:
            return response
    return render(request, "console/verify.html", {"form": form, "pending_user": user})


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    return str(image.to_string(encoding="unicode"))


def _grouped(secret: str) -> str:
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


@never_cache
@require_http_methods(["GET", "POST"])
def enrol_device(request: HttpRequest) -> HttpResponse:
    """First log-in: a new TOTP device, shown as a QR code and as text, confirmed by one code."""
    _public_only()
    user = console_auth.pending_user(request)
    if user is None:
        messages.info(request, _("Log in with your user name and password first."))
        return redirect("console:login")
    if console_auth.confirmed_devices(user):
        return redirect("console:verify")
    device = services.totp_device_pending(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _is_locked(request, user.get_username()):
            return _locked_out(request)
        confirmed = services.totp_device_confirm(
            user=user, device_id=device.pk, token=form.cleaned_data["token"]
        )
        if confirmed is not None:
            messages.success(
                request, _("Your authenticator app is set up. Keep it safe: it is needed at every log-in.")
            )
            return _complete_login(request, user, confirmed)
        response = _wrong_code(request, user, form)
        if response is not None:
            return response
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return render(
        request,
        "console/enrol_device.html",
        {
            "form": form,
            "pending_user": user,
            "qr_svg": _qr_svg(device.config_url),
            "secret": _grouped(secret),
            "issuer": settings.OTP_TOTP_ISSUER,
        },
    )


def _enrolment_user(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not ConsoleOperator.objects.filter(user_id=user.pk, is_active=True).exists():
        return None
    return user


@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The one-time link from ``manage.py create_console_operator``: choose a password, then enrol 2FA.

    As Django's password reset does, the token moves from the URL into the session at once, so
    it never leaks through a Referer header.
    """
    _public_only()
    user = _enrolment_user(uidb64)
    if token != ENROLMENT_URL_TOKEN:
        if user is not None and console_auth.enrolment_tokens.check_token(user, token):
            request.session[ENROLMENT_SESSION_KEY] = token
            return redirect("console:enrol", uidb64=uidb64, token=ENROLMENT_URL_TOKEN)
        return render(request, "console/enrol_invalid.html", status=400)
    session_token = request.session.get(ENROLMENT_SESSION_KEY)
    if user is None or not console_auth.enrolment_tokens.check_token(user, session_token):
        return render(request, "console/enrol_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.operator_password_set(user=user, password=form.cleaned_data["new_password1"])
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc, {"password": "new_password2"})
        else:
            request.session.pop(ENROLMENT_SESSION_KEY, None)
            console_auth.pending_start(request, user)
            messages.success(request, _("Password set. Now set up your authenticator app."))
            return redirect("console:enrol_device")
    return render(request, "console/enrol_password.html", {"form": form, "enrolling_user": user})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    _public_only()
    user = request.user
    if user.is_authenticated and console_auth.operator_for(user) is not None:
        audit_record(actor=user, action="console.logout", target=user)
    console_auth.pending_clear(request)
    auth_logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("console:login")


# --- Tenants -------------------------------------------------------------------------------------


@never_cache
@console_operator_required
@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    query, lifecycle = "", ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        lifecycle = form.cleaned_data["lifecycle"]
    page = Paginator(selectors.cooperatives_search(query=query, lifecycle=lifecycle), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "rows": selectors.tenant_rows(list(page.object_list)),
        "query": query,
        "lifecycle": lifecycle,
        "filtered": bool(query or lifecycle),
    }
    if getattr(request, "htmx", False):
        return render(request, "console/_tenant_results.html", context)
    # What needs an operator first, above the list: each cooperative whose latest restore drill failed.
    context["failing_drills"] = drills_failing()
    return render(request, "console/tenant_list.html", context)


def _cooperative(slug: str) -> Cooperative:
    cooperative = selectors.cooperative_by_slug(slug)
    if cooperative is None:
        raise Http404
    return cooperative


@never_cache
@console_operator_required
@require_GET
def tenant_detail(request: HttpRequest, slug: str) -> HttpResponse:
    cooperative = _cooperative(slug)
    detail = selectors.tenant_detail(cooperative)
    return render(
        request,
        "console/tenant_detail.html",
        {
            "detail": detail,
            "cooperative": cooperative,
            "workspace_url": workspace_url(cooperative),
            "can_suspend": cooperative.lifecycle in services.SUSPENDABLE,
            "can_make_read_only": cooperative.lifecycle in services.MAKEABLE_READ_ONLY,
            "can_reactivate": cooperative.lifecycle in services.REACTIVATABLE,
            "panel": detail.backups,
            "backup_form": ReasonForm(prefix="backup"),
        },
    )


def _lifecycle_action(
    request: HttpRequest,
    cooperative: Cooperative,
    form: ReasonForm,
    *,
    change: Callable[..., Any],
    allowed_from: frozenset[str],
    template: str,
    done: str,
) -> HttpResponse:
    """Suspend, make read-only or reactivate: the confirmation page, then the change with its reason.

    ``change`` is the service (audited there); ``done`` the message shown once it is made, with
    ``%(name)s`` for the cooperative. A refusal stays on the page with its message and code.
    """
    refused_code = ""
    if request.method == "POST" and form.is_valid():
        try:
            change(cooperative=cooperative, reason=form.cleaned_data["reason"], actor=_operator(request))
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc)
            refused_code = str(exc.code)
        else:
            messages.success(request, done % {"name": cooperative.name})
            return redirect("console:tenant", slug=cooperative.slug)
    context = {
        "cooperative": cooperative,
        "form": form,
        "allowed": cooperative.lifecycle in allowed_from,
        "refused_code": refused_code,
    }
    return render(request, template, context)


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_suspend(request: HttpRequest, slug: str) -> HttpResponse:
    cooperative = _cooperative(slug)
    return _lifecycle_action(
        request,
        cooperative,
        SuspendForm(request.POST or None, slug=cooperative.slug),
        change=services.cooperative_suspend,
        allowed_from=services.SUSPENDABLE,
        template="console/tenant_suspend.html",
        done=_("%(name)s is suspended."),
    )


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_read_only(request: HttpRequest, slug: str) -> HttpResponse:
    return _lifecycle_action(
        request,
        _cooperative(slug),
        ReasonForm(request.POST or None),
        change=services.cooperative_read_only_make,
        allowed_from=services.MAKEABLE_READ_ONLY,
        template="console/tenant_read_only.html",
        done=_("%(name)s is read-only."),
    )


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_reactivate(request: HttpRequest, slug: str) -> HttpResponse:
    return _lifecycle_action(
        request,
        _cooperative(slug),
        ReasonForm(request.POST or None),
        change=services.cooperative_reactivate,
        allowed_from=services.REACTIVATABLE,
        template="console/tenant_reactivate.html",
        done=_("%(name)s is active again."),
    )


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_export(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    cooperative = _cooperative(slug)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            stream = services.cooperative_export(
                cooperative=cooperative,
                reason=form.cleaned_data["reason"],
                actor=request.user,  # type: ignore[arg-type]
            )
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc)
        else:
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            response = StreamingHttpResponse(stream, content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="{cooperative.slug}-export-{stamp}.zip"'
            return response
    return render(request, "console/tenant_export.html", {"cooperative": cooperative, "form": form})


PROVISION_FIELD_MAP = {"username": "admin_username", "email": "admin_email", "password": "admin_username"}


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_provision(request: HttpRequest) -> HttpResponse:
    form = ProvisionForm(request.POST or None)
    htmx = getattr(request, "htmx", False)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cooperative = services.cooperative_provision_by_operator(
                spec=CooperativeSpec(
                    name=data["name"],
                    slug=data["slug"],
                    country=data["country"],
                    currency=data["currency"],
                    default_language=data["default_language"],
                    time_zone=data["time_zone"],
                    registration_number=data["registration_number"],
                ),
                admin=AdminSpec(username=data["admin_username"], password=None, email=data["admin_email"]),
                lifecycle=data["lifecycle"],
                reason=data["reason"],
                actor=request.user,  # type: ignore[arg-type]
            )
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc, PROVISION_FIELD_MAP)
        else:
            messages.success(
                request,
                _("%(name)s is ready at %(url)s. Its administrator sets a password there.")
                % {"name": cooperative.name, "url": workspace_url(cooperative)},
            )
            target = reverse("console:tenant", kwargs={"slug": cooperative.slug})
            if htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return HttpResponseRedirect(target)
    template = "console/_provision_form.html" if htmx else "console/tenant_provision.html"
    return render(request, template, {"form": form})


def _operator(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # console_operator_required checked it


def _back_to_tenant(cooperative: Cooperative, section: str = "") -> HttpResponseRedirect:
    target = reverse("console:tenant", kwargs={"slug": cooperative.slug})
    return HttpResponseRedirect(f"{target}#{section}" if section else target)


# --- Billing: plan and one-time charges ----------------------------------------------------------


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_plan(request: HttpRequest, slug: str) -> HttpResponse:
    cooperative = _cooperative(slug)
    state = billing_selectors.billing_state(cooperative)
    currency = selectors.billing_currency(cooperative)
    form = PlanChangeForm(
        request.POST or None, plans=billing_selectors.plans_billable_in(currency), current=state.plan
    )
    refused_code = ""
    if request.method == "POST" and form.is_valid():
        try:
            account = services.cooperative_plan_change(
                cooperative=cooperative,
                plan=form.cleaned_data["plan"],
                reason=form.cleaned_data["reason"],
                actor=_operator(request),
            )
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc)
            refused_code = str(exc.code)
        else:
            messages.success(
                request,
                _("%(name)s is on the %(plan)s plan.")
                % {"name": cooperative.name, "plan": account.plan.display_name()},
            )
            return _back_to_tenant(cooperative, "billing")
    return render(
        request,
        "console/tenant_plan.html",
        {
            "cooperative": cooperative,
            "form": form,
            "billing": state,
            "currency": currency,
            "refused_code": refused_code,
        },
    )


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_charge(request: HttpRequest, slug: str) -> HttpResponse:
    cooperative = _cooperative(slug)
    currency = selectors.billing_currency(cooperative)
    form = ChargeForm(request.POST or None, currency=currency, decimals=selectors.currency_decimals(currency))
    refused_code = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            charge = services.cooperative_charge_add(
                cooperative=cooperative,
                amount=data["amount"],
                kind=data["kind"],
                description=data["description"],
                reason=data["reason"],
                actor=_operator(request),
            )
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc)
            refused_code = str(exc.code)
        else:
            messages.success(
                request,
                _("%(amount)s is added to the next invoice of %(name)s.")
                % {"amount": selectors.money(charge.amount_minor, charge.currency), "name": cooperative.name},
            )
            return _back_to_tenant(cooperative, "billing")
    return render(
        request,
        "console/tenant_charge.html",
        {
            "cooperative": cooperative,
            "form": form,
            "currency": currency,
            "has_account": billing_selectors.billing_state(cooperative).plan is not None,
            "refused_code": refused_code,
        },
    )


# --- Backups and restores ------------------------------------------------------------------------


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_backup(request: HttpRequest, slug: str) -> HttpResponse:
    cooperative = _cooperative(slug)
    form = ReasonForm(request.POST or None, prefix="backup")
    refused_code = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.cooperative_backup_now(
                cooperative=cooperative, reason=form.cleaned_data["reason"], actor=_operator(request)
            )
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc)
            refused_code = str(exc.code)
        else:
            messages.success(request, _("The backup of %(name)s is queued.") % {"name": cooperative.name})
            return _back_to_tenant(cooperative, "backups")
    return render(
        request,
        "console/tenant_backup.html",
        {"cooperative": cooperative, "form": form, "refused_code": refused_code},
    )


@never_cache
@console_operator_required
@require_GET
def tenant_backups_panel(request: HttpRequest, slug: str) -> HttpResponse:
    """The Backups section alone: the tenant page polls it every 2 s while something runs."""
    cooperative = _cooperative(slug)
    return render(
        request,
        "console/_backups_panel.html",
        {"cooperative": cooperative, "panel": selectors.backups_panel(cooperative)},
    )


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_restore(request: HttpRequest, slug: str, backup_id: int) -> HttpResponse:
    cooperative = _cooperative(slug)
    backup = selectors.backup_of(cooperative, backup_id)
    if backup is None:
        raise Http404
    form = ConfirmForm(
        request.POST or None, expected=cooperative.slug, label=_("Type the subdomain to confirm")
    )
    refused_code = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.cooperative_restore(
                cooperative=cooperative,
                backup=backup,
                reason=form.cleaned_data["reason"],
                actor=_operator(request),
            )
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc)
            refused_code = str(exc.code)
        else:
            messages.success(
                request,
                _("The restore of %(name)s is queued. Its progress shows under Backups.")
                % {"name": cooperative.name},
            )
            return _back_to_tenant(cooperative, "backups")
    return render(
        request,
        "console/tenant_restore.html",
        {"cooperative": cooperative, "backup": backup, "form": form, "refused_code": refused_code},
    )


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def tenant_old_schema_drop(request: HttpRequest, slug: str, schema_name: str) -> HttpResponse:
    cooperative = _cooperative(slug)
    form = ConfirmForm(
        request.POST or None, expected=schema_name, label=_("Type the schema's name to confirm")
    )
    refused_code = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.cooperative_old_schema_drop(
                cooperative=cooperative,
                schema_name=schema_name,
                reason=form.cleaned_data["reason"],
                actor=_operator(request),
            )
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc)
            refused_code = str(exc.code)
        else:
            messages.success(request, _("The schema %(schema)s is dropped.") % {"schema": schema_name})
            return _back_to_tenant(cooperative, "backups")
    return render(
        request,
        "console/tenant_schema_drop.html",
        {
            "cooperative": cooperative,
            "schema_name": schema_name,
            "kept": selectors.retired_schema_of(cooperative, schema_name),
            "form": form,
            "refused_code": refused_code,
        },
    )


# --- Fleet migrations ----------------------------------------------------------------------------


@never_cache
@console_operator_required
@require_http_methods(["GET", "POST"])
def fleet_runs(request: HttpRequest) -> HttpResponse:
    """Recent fleet migration runs, and the button that starts one (POST, with a reason)."""
    form = ReasonForm(request.POST or None)
    refused_code = ""
    if request.method == "POST" and form.is_valid():
        try:
            run = services.fleet_migrate_by_operator(
                reason=form.cleaned_data["reason"], actor=_operator(request)
            )
        except BusinessRuleViolation as exc:
            _apply_errors(form, exc)
            refused_code = str(exc.code)
        else:
            messages.success(request, _("The fleet migration is queued."))
            return redirect("console:fleet_run", run_id=run.pk)
    return render(
        request,
        "console/fleet_runs.html",
        {
            "form": form,
            "runs": fleet_runs_recent(),
            "busy": selectors.fleet_busy(),
            "refused_code": refused_code,
        },
    )


def _fleet_detail(run_id: int) -> Any:
    detail = selectors.fleet_run_or_none(run_id)
    if detail is None:
        raise Http404
    return detail


@never_cache
@console_operator_required
@require_GET
def fleet_run(request: HttpRequest, run_id: int) -> HttpResponse:
    return render(request, "console/fleet_run.html", {"detail": _fleet_detail(run_id)})


@never_cache
@console_operator_required
@require_GET
def fleet_run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's progress alone: its page polls it every 2 s while the run is queued or running."""
    return render(request, "console/_fleet_progress.html", {"detail": _fleet_detail(run_id)})
