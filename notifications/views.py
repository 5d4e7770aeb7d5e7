"""The gateway's delivery reports, and the staff page of messages that need attention.

Delivery reports come to the workspace's own host (``<slug>.<domain>``), the URL the relay gave
the gateway with each message. django-tenants routes the request into that workspace's schema
before this view runs, so a report can only ever find a message of the workspace it was sent
from: the signature proves the request came from the gateway (one auth token serves every
workspace, so it says nothing about which), and the host decides where it is looked up. A
tenant named in the path or the form, looked up by our own code, would make isolation depend on
that code being right.
"""

from __future__ import annotations

import structlog
from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from twilio.request_validator import RequestValidator

from control_plane.errors import BusinessRuleViolation
from core_banking.members import selectors as member_selectors
from core_banking.members.models import Member
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability
from notifications import selectors
from notifications.delivery import delivery_status_record, outbox_message_resend
from notifications.inbound_views import inbound_rows
from notifications.models import OutboxMessage
from notifications.selectors import RESEND_CAPABILITY, VIEW_CAPABILITIES, visible_messages
from tenants.db import current_cooperative

logger = structlog.get_logger(__name__)

PAGE_SIZE = 50


def public_request_url(request: HttpRequest) -> str:
    """The URL as the gateway requested it, which is what it signed.

    Behind the TLS proxy the request reaches us over plain HTTP; ``SECURE_PROXY_SSL_HEADER`` (set
    from ``COOPCORE_TLS_PROXY_HEADER``, required in production) makes Django see the https the
    gateway used, and the proxy keeps the Host header (tenant routing needs it too).
    """
    return request.build_absolute_uri()


@csrf_exempt
@require_POST
def twilio_status_callback(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for one message: signature checked, status moved forward only.

    An id this workspace never sent (or a status we do not know) is answered 200 and logged: Twilio
    does not resend a report whatever we answer, and a 4xx would only fill its debugger with
    errors no retry could fix.
    """
    if current_cooperative() is None:
        raise Http404
    signature = request.headers.get("X-Twilio-Signature", "")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    if not signature or not validator.validate(public_request_url(request), request.POST.dict(), signature):
        logger.warning("twilio_callback_signature_invalid", url=public_request_url(request))
        return HttpResponseForbidden("invalid signature")
    sid = request.POST.get("MessageSid", "")
    message = delivery_status_record(
        provider_message_id=sid,
        provider_status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    if message is None:
        logger.info("twilio_callback_unknown", sid=sid, status=request.POST.get("MessageStatus", ""))
        return HttpResponse("ignored", content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


# --- Staff ---------------------------------------------------------------------------------------


def _staff(request: HttpRequest, capabilities: tuple[Capability, ...]) -> StaffProfile:
    profile = member_selectors.staff_profile_of(request.user)
    if profile is None:
        raise Http404
    if not any(profile.can(capability) for capability in capabilities):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    return profile


@login_required
@require_GET
def attention(request: HttpRequest) -> HttpResponse:
    profile = _staff(request, VIEW_CAPABILITIES)
    status = request.GET.get("status", "")
    queryset = visible_messages(profile, selectors.messages_needing_attention(status=status))
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    members = Member.objects.in_bulk([m.member_id for m in page if m.member_id])
    rows = [(message, members.get(message.member_id or 0)) for message in page]
    return render(
        request,
        "notifications/attention.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "can_resend": profile.can(RESEND_CAPABILITY),
            "inbound_rows": inbound_rows(profile),
        },
    )


@login_required
@require_POST
def resend(request: HttpRequest, message_id: int) -> HttpResponse:
    profile = _staff(request, (RESEND_CAPABILITY,))
    if not visible_messages(profile, OutboxMessage.objects.filter(pk=message_id)).exists():
        raise Http404
    try:
        outbox_message_resend(actor=request.user, message_id=message_id)
    except BusinessRuleViolation as violation:
        flash.error(request, violation.message)
    else:
        flash.success(request, _("The message will be sent again."))
    return HttpResponseRedirect(reverse("notifications:attention") + "?status=dead")
