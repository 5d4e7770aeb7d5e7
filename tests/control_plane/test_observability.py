"""Logs and error reports carry the cooperative and the request id."""

from __future__ import annotations

from typing import Any

import pytest
import sentry_sdk
from django.test import Client

from control_plane.observability import bind_tenant, init_sentry
from tests.conftest import Workspace

pytestmark = pytest.mark.django_db


class CollectingTransport(sentry_sdk.transport.Transport):
    """Keeps events in memory instead of sending them: the HTTP edge of Sentry, nothing else faked."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Any) -> None:
        for item in envelope.items:
            if item.type == "event":
                self.events.append(item.payload.json)


def test_request_logs_carry_tenant_and_request_id(alpha: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    Client(HTTP_HOST=alpha.host).get("/accounts/login/", HTTP_X_REQUEST_ID="trace-77")
    finished = [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == "request_finished"
    ]
    assert finished, "no request_finished log line"
    assert finished[-1]["tenant"] == alpha.schema_name
    assert finished[-1]["request_id"] == "trace-77"


@pytest.fixture
def sentry_events() -> Any:
    transport = CollectingTransport()
    assert init_sentry(dsn="http://public@127.0.0.1:9/1", environment="test", transport=transport)
    yield transport.events
    sentry_sdk.init(dsn=None)


def test_sentry_events_carry_the_tenant_bound_by_the_request(sentry_events: list[dict[str, Any]]) -> None:
    with sentry_sdk.isolation_scope():
        bind_tenant("coop_alpha")  # what RequestContextMiddleware does for every request
        sentry_sdk.capture_message("something went wrong in a workspace")
    sentry_sdk.flush()
    assert sentry_events[-1]["tags"]["tenant"] == "coop_alpha"


def test_sentry_events_fall_back_to_the_connections_tenant(
    in_beta: Workspace, sentry_events: list[dict[str, Any]]
) -> None:
    with sentry_sdk.isolation_scope() as scope:
        scope.remove_tag("tenant")  # nothing bound: the tag must come from the database connection
        sentry_sdk.capture_message("raised inside a task, no request scope")
    sentry_sdk.flush()
    assert sentry_events[-1]["tags"]["tenant"] == in_beta.schema_name


def test_sentry_stays_off_without_a_dsn() -> None:
    assert init_sentry(dsn="", environment="test") is False
