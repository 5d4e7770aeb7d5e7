"""SMS gateways behind one interface (``base.SmsProvider``); the relay picks one by name from settings."""

from __future__ import annotations

from django.conf import settings

from notifications.providers.base import SmsProvider


def sms_provider() -> SmsProvider:
    """The gateway configured in ``NOTIFICATIONS_SMS_PROVIDER`` (Twilio unless told otherwise)."""
    name = settings.NOTIFICATIONS_SMS_PROVIDER
    if name == "twilio":
        from notifications.providers.twilio import TwilioProvider

        return TwilioProvider.from_settings()
    raise LookupError(f"No SMS provider named {name!r}")
