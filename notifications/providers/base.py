"""What the relay needs from an SMS gateway, and the three ways a send can end.

A gateway answers a send in one of these ways, and the relay's handling follows from which:

- accepted: the gateway took the message and named it (its message id);
- ``TransientSendError``: it certainly did not take it now (connection refused, 5xx, 429); try later;
- ``PermanentSendError``: it will never take it (an invalid or unsubscribed number); do not retry;
- ``AmbiguousSendError``: we do not know (the request went out and the answer never came back);
  before any resend the gateway is asked with ``find_sent`` whether the message exists.

No Django import: gateways are plain clients of someone else's HTTP API.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class OutgoingSms:
    to: str
    body: str
    # Where the gateway reports delivery (per message, so the URL names the workspace).
    status_callback: str = ""


@dataclass(frozen=True)
class SentSms:
    provider_message_id: str
    status: str = ""


class SendError(Exception):
    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Not taken this time; the same request may succeed later."""


class PermanentSendError(SendError):
    """Never to be taken; ``opted_out`` when the recipient unsubscribed."""

    def __init__(self, message: str, *, code: str = "", opted_out: bool = False) -> None:
        super().__init__(message, code=code)
        self.opted_out = opted_out


class AmbiguousSendError(SendError):
    """The request may or may not have reached the gateway."""


class SmsProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    def send(self, message: OutgoingSms) -> SentSms:
        """Send one message; raises one of the ``SendError`` kinds when it is not accepted."""

    @abc.abstractmethod
    def find_sent(self, message: OutgoingSms, *, exclude: frozenset[str]) -> SentSms | None:
        """The message the gateway holds that matches ``message`` (same recipient and text), if any.

        ``exclude`` are ids already recorded for other outbox rows (two identical texts to one
        member are two messages). Raises ``TransientSendError`` when the gateway cannot be asked.
        """
