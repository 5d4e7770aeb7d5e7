"""Stripe's webhook: verify the signature on the raw body, store the event once, answer at once."""

from __future__ import annotations

import json
import logging

import stripe
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.services import stripe_event_record
from control_plane.errors import BusinessRuleViolation

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe signs the body instead; a CSRF token cannot come from Stripe.
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """200 for an event stored now or before; 400 for anything not signed with our secret, or stale.

    Processing happens after the event's row commits, in a Celery task, so Stripe gets its answer
    quickly and a slow or failing step is retried by us, not redelivered by Stripe.
    """
    signature = request.headers.get("Stripe-Signature", "")
    try:
        stripe.Webhook.construct_event(request.body, signature, settings.STRIPE_WEBHOOK_SECRET)
    except stripe.SignatureVerificationError:
        logger.warning("stripe_webhook_signature_refused")
        return HttpResponseBadRequest("bad signature")
    except ValueError:
        return HttpResponseBadRequest("not a Stripe event")
    try:
        # Stored as Stripe sent it (the verified body), not as the client library re-shaped it.
        _stored, created = stripe_event_record(event=json.loads(request.body))
    except BusinessRuleViolation:
        return HttpResponseBadRequest("an event without an id")
    return HttpResponse("stored" if created else "duplicate", content_type="text/plain")
