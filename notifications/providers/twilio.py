"""Twilio through its official client (``twilio.rest.Client``).

``TWILIO_API_BASE`` (e.g. ``http://127.0.0.1:8765``) sends every request the client makes to
that address instead of api.twilio.com, keeping the path: the local fake
(``notifications.twilio_fake``) serves the same API there. The override is an
``HttpClient`` of the client's own kind, the extension point the library offers for this.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from notifications.providers.base import (
    AmbiguousSendError,
    OutgoingSms,
    PermanentSendError,
    SentSms,
    SmsProvider,
    TransientSendError,
)

# Twilio error codes (https://www.twilio.com/docs/api/errors) that mean "never to this number".
UNSUBSCRIBED = 21610
# Authentication failed: our configuration is wrong, not the message; it is tried again later.
AUTHENTICATION_FAILED = 20003
# Answers that say the request was not processed: the same request may be made again.
NOT_PROCESSED_STATUSES = frozenset({429, 503})

# The client logs every request's headers at INFO: hundreds of lines a second while the relay runs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends each request to ``base`` (scheme, host and port) instead of Twilio's hosts."""

    def __init__(self, *, base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base = urlsplit(base)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base.netloc:
            parts = urlsplit(url)
            url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


@dataclass
class TwilioProvider(SmsProvider):
    account_sid: str
    auth_token: str
    from_number: str
    api_base: str = ""
    timeout_seconds: float = 10.0
    name: str = "twilio"

    def __post_init__(self) -> None:
        self.client = Client(
            self.account_sid,
            self.auth_token,
            http_client=BaseUrlHttpClient(base=self.api_base, timeout=self.timeout_seconds),
        )

    @classmethod
    def from_settings(cls) -> TwilioProvider:
        return cls(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            from_number=settings.TWILIO_FROM_NUMBER,
            api_base=settings.TWILIO_API_BASE,
            timeout_seconds=settings.TWILIO_TIMEOUT_SECONDS,
        )

    def send(self, message: OutgoingSms) -> SentSms:
        try:
            created = self.client.messages.create(
                to=message.to,
                from_=self.from_number,
                body=message.body,
                status_callback=message.status_callback or None,
            )
        except TwilioRestException as error:
            raise _classified(error) from error
        except requests.exceptions.ConnectTimeout as error:
            # No connection was made, so nothing was sent.
            raise TransientSendError(f"connect timeout: {error}") from error
        except requests.exceptions.RequestException as error:
            # The request may have gone out (a read timeout, a connection dropped mid-answer).
            raise AmbiguousSendError(f"{type(error).__name__}: {error}") from error
        return SentSms(provider_message_id=str(created.sid), status=str(created.status or ""))

    def find_sent(self, message: OutgoingSms, *, exclude: frozenset[str]) -> SentSms | None:
        # Twilio's message list filters by recipient and sender, newest first; our text identifies
        # the message among them (the body is stored at the first attempt and never re-rendered).
        try:
            found = self.client.messages.list(to=message.to, from_=self.from_number, limit=50)
        except TwilioRestException as error:
            raise TransientSendError(f"lookup failed: HTTP {error.status} {error.msg}") from error
        except requests.exceptions.RequestException as error:
            raise TransientSendError(f"lookup failed: {type(error).__name__}: {error}") from error
        for candidate in reversed(found):  # oldest first: the first of any duplicates is ours
            if candidate.body == message.body and candidate.sid not in exclude:
                return SentSms(provider_message_id=str(candidate.sid), status=str(candidate.status or ""))
        return None


def _classified(error: TwilioRestException) -> Exception:
    code = str(error.code or "")
    text = f"HTTP {error.status} {code} {error.msg}".strip()
    if error.status in NOT_PROCESSED_STATUSES or error.code == AUTHENTICATION_FAILED:
        return TransientSendError(text, code=code)
    if error.status >= 500:
        # The gateway failed while handling the request: it may have created the message first.
        return AmbiguousSendError(text, code=code)
    return PermanentSendError(text, code=code, opted_out=error.code == UNSUBSCRIBED)
