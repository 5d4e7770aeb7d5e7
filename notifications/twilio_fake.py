"""A local stand-in for Twilio's Messages API at the HTTP edge, for tests, benchmarks and the demo.

The official ``twilio`` client is pointed at it with ``TWILIO_API_BASE``; it serves what the
relay calls:

    POST /2010-04-01/Accounts/{sid}/Messages.json          create (To, From, Body, StatusCallback)
    GET  /2010-04-01/Accounts/{sid}/Messages.json          list, filtered by To and From, newest first
    GET  /2010-04-01/Accounts/{sid}/Messages/{msid}.json   fetch

Requests need HTTP basic auth with the account sid and auth token it was started with.

What it can be told to do, for the failure paths:

- ``delay_seconds``: answer every request this late (the benchmark's 50 ms provider);
- ``plan``: what the next create requests meet, one entry each, in order: ``"ok"``, an HTTP status
  (``503``, ``429``, ``500``: refused without creating, except 500, which creates the message first
  and then fails, as a gateway that broke half-way would), ``"timeout"`` (creates the message, then
  answers only after ``slow_seconds``, later than the client waits) or ``"timeout-before"``
  (answers late without creating anything);
- ``refuse``: numbers refused permanently, with a Twilio error code (21211 invalid, 21610 unsubscribed).

``callback(sid, status, url)`` gives the form fields and the ``X-Twilio-Signature`` Twilio would
send to the message's status callback URL, signed with the library's own ``RequestValidator``;
``inbound(url, from_=…, body=…)`` those of an SMS a member sends to the cooperative's number.

Run: ``python -m notifications.twilio_fake --port 8765`` (account ``ACdevelopment``, token from
``TWILIO_AUTH_TOKEN``).
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.request_validator import RequestValidator

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[A-Za-z0-9]+)/Messages\.json$")
MESSAGE_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC[A-Za-z0-9]+)/Messages/(?P<sid>SM[a-f0-9]{32})\.json$"
)


@dataclass
class Received:
    method: str
    path: str
    form: dict[str, str] = field(default_factory=dict)


class FakeTwilio:
    """The server and its state (messages created, every request received)."""

    def __init__(
        self,
        *,
        account_sid: str = "ACdevelopment",
        auth_token: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
        delay_seconds: float = 0.0,
        slow_seconds: float = 2.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.delay_seconds = delay_seconds
        self.slow_seconds = slow_seconds
        self.plan: collections.deque[str | int] = collections.deque()
        self.refuse: dict[str, int] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(_Handler):
            state = fake

        self.server = _Server((host, port), Handler)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> FakeTwilio:
        self.thread = threading.Thread(target=self.server.serve_forever, name="twilio-fake", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- What tests look at ----------------------------------------------------------------------

    def creates(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST"]

    def lookups(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.method == "GET"]

    def bodies_to(self, to: str) -> list[str]:
        with self.lock:
            return [m["body"] for m in self.messages.values() if m["to"] == to]

    def callback(
        self, sid: str, status: str, url: str, *, error_code: str = ""
    ) -> tuple[dict[str, str], str]:
        """The form Twilio posts to ``url`` when message ``sid`` reaches ``status``, and its signature."""
        message = self.messages[sid]
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message["from"],
            "To": message["to"],
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        if error_code:
            form["ErrorCode"] = error_code
        return form, RequestValidator(self.auth_token).compute_signature(url, form)

    def inbound(
        self, url: str, *, from_: str, body: str, to: str = "+15005550006", sid: str = ""
    ) -> tuple[dict[str, str], str]:
        """The form Twilio posts to a number's incoming-message webhook ``url`` when ``from_`` texts
        ``body`` to ``to``, and its signature. ``sid`` repeats an earlier delivery."""
        sid = sid or "SM" + secrets.token_hex(16)
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        return form, RequestValidator(self.auth_token).compute_signature(url, form)

    # --- The API ---------------------------------------------------------------------------------

    def create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to, body = form.get("To", ""), form.get("Body", "")
        with self.lock:
            action = self.plan.popleft() if self.plan else "ok"
        if action == "timeout-before":
            time.sleep(self.slow_seconds)
            return 503, _error(20500, "Answered too late")
        if action in (503, 429):
            return int(action), _error(20429 if action == 429 else 20503, "Try again later")
        if not to or not body:
            return 400, _error(21602, "Message body and To are required.")
        if to in self.refuse:
            return 400, _error(self.refuse[to], f"Refused: {to}")
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        message: dict[str, Any] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": form.get("From", ""),
            "body": body,
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {},
            "status_callback": form.get("StatusCallback", ""),
        }
        with self.lock:
            self.messages[sid] = message
        if action == "timeout":
            time.sleep(self.slow_seconds)
        if action == 500:
            return 500, _error(20500, "Internal error")
        return 201, message

    def list(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            found = [
                m
                for m in self.messages.values()
                if (not query.get("To") or m["to"] == query["To"])
                and (not query.get("From") or m["from"] == query["From"])
            ]
        found.reverse()  # newest first, as Twilio lists them
        size = int(query.get("PageSize") or 50)
        return {
            "messages": found[:size],
            "first_page_uri": "",
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": size,
            "uri": "",
            "start": 0,
            "end": min(size, len(found)),
        }


class _Server(ThreadingHTTPServer):
    # Many relay threads connect at once; the default backlog of 5 would reset some connections.
    request_queue_size = 256


class _Handler(BaseHTTPRequestHandler):
    state: FakeTwilio
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self, account: str) -> bool:
        state = self.state
        expected = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
        return account == state.account_sid and self.headers.get("Authorization", "") == f"Basic {expected}"

    def _route(self, method: str) -> None:
        state = self.state
        parts = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        with state.lock:
            state.requests.append(Received(method=method, path=parts.path, form=form))
        if state.delay_seconds:
            time.sleep(state.delay_seconds)
        collection, one = MESSAGES_PATH.match(parts.path), MESSAGE_PATH.match(parts.path)
        match = collection or one
        if match is None:
            self._answer(404, _error(20404, "Not found"))
            return
        if not self._authorised(match["account"]):
            self._answer(401, _error(20003, "Authenticate"))
            return
        if collection and method == "POST":
            self._answer(*state.create(form))
        elif collection and method == "GET":
            self._answer(200, state.list(dict(urllib.parse.parse_qsl(parts.query))))
        elif one and method == "GET" and one["sid"] in state.messages:
            self._answer(200, state.messages[one["sid"]])
        else:
            self._answer(404, _error(20404, "Not found"))

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def main() -> None:
    parser = argparse.ArgumentParser(description="A local fake of Twilio's Messages API")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default="ACdevelopment")
    parser.add_argument("--auth-token", default="")
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    token = args.auth_token
    if not token:
        from control_plane.env import load

        token = load().twilio_auth_token
    fake = FakeTwilio(
        account_sid=args.account_sid, auth_token=token, port=args.port, delay_seconds=args.delay_ms / 1000
    )
    sys.stdout.write(f"Fake Twilio on {fake.url} (account {args.account_sid})\n")
    sys.stdout.flush()
    fake.server.serve_forever()


if __name__ == "__main__":
    main()
