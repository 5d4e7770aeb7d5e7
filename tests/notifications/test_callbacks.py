"""Twilio's delivery reports: the signature checked against the public URL, statuses only forward.

Signatures are made by the twilio library's own ``RequestValidator`` over the URL the gateway
requested, as Twilio does.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from twilio.request_validator import RequestValidator

from notifications.models import DeliveryStatus, MessageKind, OutboxMessage, OutboxStatus
from tests.conftest import ALPHA, BETA, Workspace

pytestmark = pytest.mark.django_db
PATH = "/hooks/twilio/status/"
SID = "SM" + "a" * 32


def _sent_message(workspace: Workspace, sid: str = SID) -> OutboxMessage:
    with tenant_context(workspace.cooperative()):
        return OutboxMessage.objects.create(
            kind=MessageKind.SAVINGS_DEPOSIT, source_ref=f"cb-{sid}", phone="+8801711000001", language="bn",
            created_at=timezone.now(), status=OutboxStatus.SENT, provider="twilio", provider_message_id=sid,
            sent_at=timezone.now(), delivery_status=DeliveryStatus.QUEUED,
        )  # fmt: skip


def _form(status: str, sid: str = SID, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": settings.TWILIO_ACCOUNT_SID, "MessageSid": sid, "SmsSid": sid,
        "MessageStatus": status, "SmsStatus": status, "To": "+8801711000001",
        "From": settings.TWILIO_FROM_NUMBER, "ApiVersion": "2010-04-01", **extra,
    }  # fmt: skip


def _post(
    workspace: Workspace,
    form: dict[str, str],
    *,
    signed_url: str | None = None,
    token: str | None = None,
    **headers: Any,
) -> Any:
    url = signed_url or f"http://{workspace.host}{PATH}"
    signature = RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(url, form)
    return Client(HTTP_HOST=workspace.host).post(PATH, form, HTTP_X_TWILIO_SIGNATURE=signature, **headers)


def _status(workspace: Workspace, sid: str = SID) -> tuple[str, str]:
    with tenant_context(workspace.cooperative()):
        message = OutboxMessage.objects.get(provider_message_id=sid)
        return message.delivery_status, message.delivery_error_code


def test_a_correctly_signed_report_moves_the_status(alpha: Workspace) -> None:
    _sent_message(alpha)
    response = _post(alpha, _form("delivered"))
    assert (response.status_code, response.content) == (200, b"ok")
    assert _status(alpha) == ("delivered", "")


@pytest.mark.parametrize(
    "how",
    ["wrong token", "other url", "changed field", "no signature"],
)
def test_a_wrongly_signed_report_is_refused_and_changes_nothing(alpha: Workspace, how: str) -> None:
    _sent_message(alpha)
    form = _form("failed", ErrorCode="30003")
    client = Client(HTTP_HOST=alpha.host)
    url = f"http://{alpha.host}{PATH}"
    if how == "wrong token":
        response = _post(alpha, form, token="not-the-token")
    elif how == "other url":
        response = _post(alpha, form, signed_url=f"http://{BETA.host}{PATH}")
    elif how == "changed field":
        signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, form)
        response = client.post(
            PATH, {**form, "MessageStatus": "delivered"}, HTTP_X_TWILIO_SIGNATURE=signature
        )
    else:
        response = client.post(PATH, form)
    assert response.status_code == 403
    assert _status(alpha) == ("queued", "")


def test_behind_the_tls_proxy_the_https_url_twilio_signed_is_checked(alpha: Workspace, settings: Any) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    _sent_message(alpha)
    public = f"https://{alpha.host}{PATH}"

    # The proxy says the client came over https: the URL Twilio signed is the one checked.
    response = _post(alpha, _form("sent"), signed_url=public, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert _status(alpha) == ("sent", "")

    # Without the proxy's header the request looks like plain http, which is not what was signed.
    response = _post(alpha, _form("delivered"), signed_url=public)
    assert response.status_code == 403
    assert _status(alpha) == ("sent", "")

    # A query string on the callback URL is part of what is signed.
    response = Client(HTTP_HOST=alpha.host).post(
        PATH + "?m=7",
        _form("delivered"),
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_TWILIO_SIGNATURE=RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
            public + "?m=7", _form("delivered")
        ),
    )
    assert response.status_code == 200
    assert _status(alpha) == ("delivered", "")


def test_reports_out_of_order_only_move_forward(alpha: Workspace) -> None:
    _sent_message(alpha)
    seen = []
    for status in ["delivered", "sent", "queued", "sending", "failed", "undelivered"]:
        assert _post(alpha, _form(status, ErrorCode="30005")).status_code == 200
        seen.append(_status(alpha)[0])
    assert seen == ["delivered"] * 6

    other = "SM" + "b" * 32
    _sent_message(alpha, other)
    pairs: list[tuple[str, str]] = []
    for status in ["sent", "queued", "undelivered", "delivered", "sent"]:
        assert _post(alpha, _form(status, other, ErrorCode="30003")).status_code == 200
        pairs.append(_status(alpha, other))
    assert pairs == [("sent", "30003"), ("sent", "30003")] + [("undelivered", "30003")] * 3


def test_an_unknown_sid_or_status_is_answered_and_ignored(alpha: Workspace) -> None:
    _sent_message(alpha)
    response = _post(alpha, _form("delivered", "SM" + "c" * 32))
    assert (response.status_code, response.content) == (200, b"ignored")
    response = _post(alpha, _form("teleported"))
    assert (response.status_code, response.content) == (200, b"ignored")
    assert _status(alpha) == ("queued", "")


def test_a_report_on_another_workspaces_host_never_reaches_this_workspaces_message(
    alpha: Workspace, beta: Workspace
) -> None:
    _sent_message(alpha)
    # Correctly signed, for beta's URL, naming alpha's message: beta has no such message.
    response = _post(beta, _form("failed"))
    assert (response.status_code, response.content) == (200, b"ignored")
    assert _status(alpha) == ("queued", "")


def test_a_report_is_taken_while_the_workspace_is_read_only(alpha: Workspace) -> None:
    from tenants.models import Cooperative

    _sent_message(alpha)
    Cooperative.objects.filter(slug=ALPHA.slug).update(lifecycle="read_only")
    response = _post(alpha, _form("delivered"))
    assert response.status_code == 200
    assert _status(alpha) == ("delivered", "")


def test_get_is_not_allowed(alpha: Workspace) -> None:
    assert Client(HTTP_HOST=alpha.host).get(PATH).status_code == 405
