"""The console's log-in state and the one gate every console view passes.

A log-in has two steps. The password step (``views.login``) does not log anybody in: it leaves a
*pending* log-in in the session (the user's id and when the password was right). The second step
(a TOTP code, or enrolling a device on the first log-in) finishes it with ``django.contrib.auth.login``
and ``django_otp.login``, which stores the verified device's persistent id in the session.
Until then the person is anonymous to everything on the bare domain.

``console_operator_required`` then checks, on every request: public schema, an authenticated and
active user with an active ``ConsoleOperator`` profile, and a confirmed OTP device of that same
user named by the session. django-otp's ``OTPMiddleware`` is not installed (see the package
docstring), so this decorator is the only place the device is looked up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.http import base36_to_int, urlencode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from control_plane.console.models import ConsoleOperator
from control_plane.identity.models import User
from tenants.db import in_public_schema

PENDING_SESSION_KEY = "console_pending_login"
OTP_FAILURES_SESSION_KEY = "console_otp_failures"
# Wrong codes in one pending log-in before it is thrown away (axes counts each one as well).
OTP_FAILURES_PER_LOGIN = 5

ViewFunction = TypeVar("ViewFunction", bound=Callable[..., HttpResponseBase])


def operator_for(user: Any) -> ConsoleOperator | None:
    """The active console profile of ``user``; only ever asked in the public schema."""
    if not in_public_schema() or user is None or not user.is_authenticated or not user.is_active:
        return None
    return ConsoleOperator.objects.select_related("user").filter(user_id=user.pk, is_active=True).first()


def confirmed_devices(user: Any) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("id"))


def verified_operator(request: HttpRequest) -> ConsoleOperator | None:
    """The operator of a fully logged-in console session (password and a verified device), else None."""
    if not in_public_schema():
        return None
    operator = operator_for(getattr(request, "user", None))
    if operator is None:
        return None
    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
    if not isinstance(persistent_id, str) or not persistent_id.startswith("otp_totp.totpdevice/"):
        return None
    device = TOTPDevice.from_persistent_id(persistent_id)
    if device is None or device.user_id != operator.user_id or not device.confirmed:
        return None
    request.user.otp_device = device  # type: ignore[union-attr]
    return operator


def login_url(next_path: str = "") -> str:
    url = reverse("console:login")
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def _to_login(request: HttpRequest) -> HttpResponse:
    target = login_url(request.get_full_path() if request.method == "GET" else "")
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(target)


def console_operator_required(view: ViewFunction) -> ViewFunction:
    """Public schema, an active operator, a verified second factor; otherwise off to the log-in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not in_public_schema():
            # The console is not routed on a workspace host; should it ever be, it does not exist there.
            raise Http404
        operator = verified_operator(request)
        if operator is None:
            return _to_login(request)
        request.console_operator = operator  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return cast(ViewFunction, wrapped)


# --- The half-finished log-in --------------------------------------------------------------------


def pending_start(request: HttpRequest, user: User) -> None:
    """The password was right: remember whose second factor is awaited (in a fresh session key)."""
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {"user_id": user.pk, "since": int(time.time())}
    request.session.pop(OTP_FAILURES_SESSION_KEY, None)


def pending_user(request: HttpRequest) -> User | None:
    """The operator whose password was accepted in this session a moment ago, if still valid."""
    if not in_public_schema():
        return None
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    if int(time.time()) - int(pending.get("since", 0)) > settings.CONSOLE_PENDING_LOGIN_SECONDS:
        pending_clear(request)
        return None
    user_id = pending.get("user_id")
    user = User.objects.filter(pk=int(user_id), is_active=True).first() if isinstance(user_id, int) else None
    if user is None or not ConsoleOperator.objects.filter(user_id=user.pk, is_active=True).exists():
        pending_clear(request)
        return None
    return user


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)
    request.session.pop(OTP_FAILURES_SESSION_KEY, None)


def otp_failure_count(request: HttpRequest) -> int:
    failures = int(request.session.get(OTP_FAILURES_SESSION_KEY, 0)) + 1
    request.session[OTP_FAILURES_SESSION_KEY] = failures
    return failures


# --- One-time enrolment links --------------------------------------------------------------------


class EnrolmentTokenGenerator(PasswordResetTokenGenerator):
    """A link that sets an operator's first password; it dies when the password changes (one use).

    It lives ``CONSOLE_ENROLMENT_LINK_SECONDS`` (and never longer than ``PASSWORD_RESET_TIMEOUT``,
    which Django's own check applies as well).
    """

    key_salt = "control_plane.console.auth.EnrolmentTokenGenerator"

    def check_token(self, user: Any, token: str | None) -> bool:
        if not (user and token):
            return False
        try:
            issued = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        if self._num_seconds(self._now()) - issued > settings.CONSOLE_ENROLMENT_LINK_SECONDS:
            return False
        return super().check_token(user, token)


enrolment_tokens = EnrolmentTokenGenerator()
