"""SMS sent to the cooperative's number: Twilio's incoming-message webhook, and the staff list of what
came in (on the Messages page).

The webhook is served on the workspace's own host, like the delivery reports (``notifications.views``):
django-tenants routes the request into that workspace's schema before the view runs, so a sender is
only ever matched against this workspace's members. The signature proves the request came from
the gateway; the host decides where it is looked up.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from core_banking.members.models import Member
from core_banking.staff.models import StaffProfile
from notifications.inbound import inbound_sms_receive
from notifications.models import InboundMessage
from tenants.db import current_cooperative

logger = structlog.get_logger(__name__)

INBOUND_SHOWN = 20
# TwiML that answers nothing: the reply, if any, goes through the outbox and is sent once by the
# relay (with its own delivery reports), not in the webhook's answer.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_signed(request: HttpRequest) -> bool:
    """Whether the form was signed by the gateway: X-Twilio-Signature over the URL it requested.

    Behind the TLS proxy ``SECURE_PROXY_SSL_HEADER`` makes ``build_absolute_uri`` the https URL
    Twilio signed (see ``notifications.views.public_request_url``).
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return bool(signature) and validator.validate(
        request.build_absolute_uri(), request.POST.dict(), signature
    )


@csrf_exempt
@require_POST
def twilio_inbound_sms(request: HttpRequest) -> HttpResponse:
    """One SMS to the cooperative's number: logged, and answered with the balance when it asks for it.

    The HTTP answer is empty TwiML whatever the message was: Twilio expects TwiML (anything else is
    an error in its debugger), a number not on file must learn nothing, and the balance goes out
    through the outbox.
    """
    if current_cooperative() is None:
        raise Http404
    if not twilio_signed(request):
        logger.warning("twilio_inbound_signature_invalid", url=request.build_absolute_uri())
        return HttpResponseForbidden("invalid signature")
    sid = request.POST.get("MessageSid", "") or request.POST.get("SmsSid", "")
    if sid:
        inbound_sms_receive(
            provider_message_id=sid[:64],
            from_phone=request.POST.get("From", ""),
            to_phone=request.POST.get("To", ""),
            body=request.POST.get("Body", ""),
        )
    else:
        logger.info("twilio_inbound_without_sid")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def visible_inbound(profile: StaffProfile) -> QuerySet[InboundMessage]:
    """SMS received, newest first. A branch-bound user sees those from their branches' members only;
    messages from numbers not on file belong to no branch and are seen only by users not bound to one."""
    queryset = InboundMessage.objects.order_by("-received_at", "-id")
    branch_ids = profile.visible_branch_ids()
    if branch_ids is None:
        return queryset
    return queryset.filter(branch_ids__overlap=list(branch_ids))


def inbound_rows(profile: StaffProfile) -> list[tuple[InboundMessage, list[Any]]]:
    """The latest messages received that ``profile`` may see, each with the members it came from."""
    inbound = list(visible_inbound(profile)[:INBOUND_SHOWN])
    senders = Member.objects.in_bulk([member_id for received in inbound for member_id in received.member_ids])
    return [(received, [senders[m] for m in received.member_ids if m in senders]) for received in inbound]
