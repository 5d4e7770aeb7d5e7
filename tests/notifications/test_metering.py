"""SMS metering: messages and segments the gateway accepted, per month on the cooperative's clock,
against the plan's allowance in segments; going over warns and never stops sending."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.models import BillingAccount, Plan
from billing.selectors import usage_against_limits, workspace_counts
from billing.services import billing_account_open
from frontend.formatting import format_count
from notifications.metering import SmsMonth, sms_months
from notifications.models import DeliveryStatus, MessageKind, OutboxMessage, OutboxStatus
from notifications.twilio_fake import FakeTwilio
from tenants.models import Cooperative
from tests.conftest import ALPHA, Workspace, workspace_client
from tests.notifications.conftest import committed, messages_create, relay, rows

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _message(*, created_at: dt.datetime, **fields: Any) -> OutboxMessage:
    return OutboxMessage.objects.create(
        kind=MessageKind.SAVINGS_DEPOSIT,
        source_ref=f"meter-{uuid.uuid4().hex}",
        phone="+8801711000001",
        language="bn",
        created_at=created_at,
        **fields,
    )


def _sent(at: dt.datetime, segments: int, *, created_at: dt.datetime | None = None, **fields: Any) -> None:
    _message(
        created_at=created_at or at,
        status=OutboxStatus.SENT,
        sent_at=at,
        segments=segments,
        provider="twilio",
        provider_message_id="SM" + uuid.uuid4().hex,
        **fields,
    )


def _autumn_in_dhaka() -> None:
    """Messages around the end of October 2026 (Dhaka is UTC+6: 18:00 UTC is midnight there)."""
    # September 30, 18:00 UTC is October 1 in Dhaka.
    _sent(dt.datetime(2026, 9, 30, 18, 0, tzinfo=UTC), 1)
    # September 30, 17:59 UTC is still September 30 in Dhaka.
    _sent(dt.datetime(2026, 9, 30, 17, 59, tzinfo=UTC), 4)
    # October 31, 23:59 in Dhaka: October.
    _sent(dt.datetime(2026, 10, 31, 17, 59, 59, tzinfo=UTC), 2)
    # November 1, 00:00 in Dhaka, still October in UTC: November. The network could not deliver
    # it, but the gateway accepted (and bills) its 3 segments.
    _sent(
        dt.datetime(2026, 10, 31, 18, 0, tzinfo=UTC),
        3,
        delivery_status=DeliveryStatus.UNDELIVERED,
        delivery_error_code="30003",
    )
    _sent(dt.datetime(2026, 11, 10, 9, 0, tzinfo=UTC), 1, delivery_status=DeliveryStatus.DELIVERED)
    # Written in October, accepted in November after retries: the month it was sent.
    _sent(
        dt.datetime(2026, 11, 2, 4, 0, tzinfo=UTC), 2, created_at=dt.datetime(2026, 10, 20, 4, 0, tzinfo=UTC)
    )
    # Not sent: the month the message was written, on the local clock.
    _message(created_at=dt.datetime(2026, 10, 15, 4, 0, tzinfo=UTC), status=OutboxStatus.DEAD, segments=1)
    _message(created_at=dt.datetime(2026, 10, 31, 18, 30, tzinfo=UTC), status=OutboxStatus.OPTED_OUT)
    _message(created_at=dt.datetime(2026, 11, 5, 4, 0, tzinfo=UTC), status=OutboxStatus.NO_RECIPIENT)
    # Still on its way: neither sent nor not sent.
    _message(created_at=dt.datetime(2026, 11, 3, 4, 0, tzinfo=UTC), status=OutboxStatus.PENDING, segments=5)
    _message(created_at=dt.datetime(2026, 11, 3, 5, 0, tzinfo=UTC), status=OutboxStatus.SENDING, segments=5)


def test_months_follow_the_cooperatives_clock_and_sum_the_segments_the_gateway_accepted(
    in_alpha: Workspace,
) -> None:
    cooperative = in_alpha.cooperative()
    assert cooperative.time_zone == "Asia/Dhaka"
    _autumn_in_dhaka()

    with CaptureQueriesContext(connection) as queries:
        months = sms_months(zone=cooperative.zone, first=dt.date(2026, 8, 1), last=dt.date(2026, 12, 1))
    assert len(queries.captured_queries) == 1, "one aggregate query for the whole range"

    assert months == [
        SmsMonth(month=dt.date(2026, 8, 1), sent=0, segments=0, not_sent=0),
        SmsMonth(month=dt.date(2026, 9, 1), sent=1, segments=4, not_sent=0),
        SmsMonth(month=dt.date(2026, 10, 1), sent=2, segments=3, not_sent=1),
        SmsMonth(month=dt.date(2026, 11, 1), sent=3, segments=6, not_sent=2),
        SmsMonth(month=dt.date(2026, 12, 1), sent=0, segments=0, not_sent=0),
    ]


def test_the_same_messages_fall_in_other_months_on_another_clock(in_alpha: Workspace) -> None:
    _autumn_in_dhaka()
    months = sms_months(zone=zoneinfo.ZoneInfo("UTC"), first=dt.date(2026, 9, 1), last=dt.date(2026, 11, 1))
    assert [(m.sent, m.segments, m.not_sent) for m in months] == [(2, 5, 0), (2, 5, 2), (2, 3, 1)]


def test_workspace_counts_count_this_local_month_by_when_the_gateway_took_the_message(
    in_alpha: Workspace,
) -> None:
    _autumn_in_dhaka()
    cooperative = in_alpha.cooperative()
    # 20:00 UTC on October 31 is already November 1 in Dhaka.
    november = workspace_counts(cooperative, at=dt.datetime(2026, 10, 31, 20, 0, tzinfo=UTC))
    assert (november.sms_this_month, november.sms_segments_this_month) == (3, 6)
    october = workspace_counts(cooperative, at=dt.datetime(2026, 10, 31, 17, 0, tzinfo=UTC))
    assert (october.sms_this_month, october.sms_segments_this_month) == (2, 3)


def _plan(sms_per_month: int | None) -> Plan:
    return Plan.objects.create(
        code=f"sms-{uuid.uuid4().hex[:8]}", name="SMS test", max_members=None, sms_per_month=sms_per_month
    )


def _sms_line(cooperative: Cooperative) -> Any:
    return {line.metric: line for line in usage_against_limits(cooperative).lines}["sms_segments_this_month"]


def test_the_plans_allowance_counts_segments_near_then_over(alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    billing_account_open(cooperative=cooperative, plan=_plan(10), currency="BDT")
    now = timezone.now()
    with tenant_context(cooperative):
        # 4 messages, 8 segments: under 90% of 10.
        for segments in (1, 2, 2, 3):
            _sent(now, segments)
        _message(created_at=now, status=OutboxStatus.DEAD, segments=4)  # not sent: not counted
    line = _sms_line(cooperative)
    assert (line.used, line.limit, line.near, line.over, line.percent) == (8, 10, False, False, 80)

    with tenant_context(cooperative):
        _sent(now, 1)  # 5 messages, 9 segments: 90%
    line = _sms_line(cooperative)
    assert (line.used, line.near, line.over, line.percent) == (9, True, False, 90)

    with tenant_context(cooperative):
        _sent(now, 2)  # 6 messages but 11 segments: over, although fewer messages than the allowance
    line = _sms_line(cooperative)
    assert (line.used, line.near, line.over, line.percent) == (11, False, True, 110)
    assert workspace_counts(cooperative).sms_this_month == 6


def test_going_over_the_allowance_never_stops_sending(workspace: Cooperative, twilio: FakeTwilio) -> None:
    """A committed plan allowing no SMS at all: the relay (on connections of its own) sends all the same."""

    def subscribe() -> int:
        plan = _plan(0)
        BillingAccount.objects.create(cooperative=workspace, plan=plan, currency="BDT")
        return plan.pk

    plan_id = committed(workspace, subscribe)
    try:
        messages_create(workspace, 3)
        assert relay(workspace).sent == 3
        assert {row.status for row in rows(workspace)} == {OutboxStatus.SENT}
        assert len(twilio.creates()) == 3
        line = _sms_line(workspace)
        assert (line.used, line.limit, line.over) == (3, 0, True)
    finally:

        def unsubscribe() -> None:
            BillingAccount.objects.filter(cooperative=workspace).delete()
            Plan.objects.filter(pk=plan_id).delete()

        committed(workspace, unsubscribe)


# --- The workspace's page -------------------------------------------------------------------------


def _figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found, name
    return found.group(1)


def test_the_sms_page_shows_this_month_against_the_allowance_and_twelve_months(alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    billing_account_open(cooperative=cooperative, plan=_plan(1000), currency="BDT")
    today = cooperative.business_date()
    this_month = dt.datetime.combine(today.replace(day=1), dt.time(12, 0), tzinfo=cooperative.zone)
    last_month = this_month - dt.timedelta(days=20)
    with tenant_context(cooperative):
        OutboxMessage.objects.bulk_create(
            OutboxMessage(
                kind=MessageKind.SAVINGS_DEPOSIT, source_ref=f"page-{number}", language="bn",
                created_at=this_month, status=OutboxStatus.SENT, sent_at=this_month, segments=2,
            )
            for number in range(600)
        )  # fmt: skip
        _sent(last_month, 3)
        _message(created_at=this_month, status=OutboxStatus.NO_RECIPIENT)

    client = workspace_client(ALPHA, username=ALPHA.admin)
    page = client.get("/notifications/usage/")
    assert page.status_code == 200
    html = page.content.decode()
    language = re.search(r'<html lang="([a-z]+)', html).group(1)  # type: ignore[union-attr]
    native = cooperative.use_native_digits
    section = html[html.index('data-testid="sms-this-month"') :].split("</section>")[0]
    assert 'data-sent="600" data-segments="1200" data-not-sent="1" data-allowance="1000"' in section
    assert _figure(section, "sent") == format_count(600, language, native_digits=native)
    assert _figure(section, "segments") == format_count(1200, language, native_digits=native)
    assert _figure(section, "not-sent") == format_count(1, language, native_digits=native)
    # Over the allowance: a warning, and the bar full.
    assert 'data-testid="sms-over"' in html and 'style="width: 100%"' in section
    assert "(120%)" in _figure(section, "allowance")

    months = re.findall(r'<tr data-month="(\d{4}-\d{2})" data-sent="(\d+)" data-segments="(\d+)"', html)
    assert len(months) == 12
    assert months[0] == (today.strftime("%Y-%m"), "600", "1200")
    previous = last_month.astimezone(cooperative.zone).strftime("%Y-%m")
    assert months[1] == (previous, "1", "3")
    assert html.count('class="bar-over"') == 1 and html.count('class="bar"') == 1


def test_who_sees_the_sms_page(alpha: Workspace) -> None:
    # The auditor reads reports; a branch field officer neither runs the cooperative nor reads them.
    assert workspace_client(ALPHA, username="auditor").get("/notifications/usage/").status_code == 200
    assert workspace_client(ALPHA, username=ALPHA.only_here).get("/notifications/usage/").status_code == 403
    admin_messages = workspace_client(ALPHA, username=ALPHA.admin).get("/notifications/").content
    assert b'href="/notifications/usage/"' in admin_messages
    officer_messages = workspace_client(ALPHA, username=ALPHA.only_here).get("/notifications/").content
    assert b'href="/notifications/usage/"' not in officer_messages


def test_a_plan_allowing_no_sms_shows_every_segment_over_it(alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    billing_account_open(cooperative=cooperative, plan=_plan(0), currency="BDT")
    with tenant_context(cooperative):
        _sent(timezone.now(), 2)
    html = workspace_client(ALPHA, username=ALPHA.admin).get("/notifications/usage/").content.decode()
    section = html[html.index('data-testid="sms-this-month"') :].split("</section>")[0]
    assert 'data-sent="1" data-segments="2" data-not-sent="0" data-allowance="0"' in section
    assert 'data-testid="sms-over"' in html and 'style="width: 100%"' in section
    assert "None" not in section
