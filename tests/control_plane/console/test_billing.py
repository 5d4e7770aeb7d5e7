"""The console's billing: the plan in the tenant list (read once for all rows), the Billing section
with usage against the plan's limits, changing the plan and adding a one-time charge (both through
Stripe, here localstripe), each with a reason on the audit trail and refusals shown on the form."""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import stripe_gateway as gateway
from billing.models import BillingAccount, OneTimeCharge, Plan, PlanPrice
from billing.selectors import workspace_counts
from billing.services import billing_account_open
from control_plane.audit.models import AuditEvent
from tenants.models import Cooperative
from tests.billing.test_subscriptions_localstripe import _subscribe
from tests.conftest import Workspace
from tests.control_plane.console.conftest import Operator

pytestmark = pytest.mark.django_db


def _account(slug: str) -> BillingAccount:
    connection.set_schema_to_public()
    return BillingAccount.objects.select_related("plan").get(cooperative__slug=slug)


def _events(action: str, slug: str) -> list[AuditEvent]:
    """The cooperative's events of one kind (other tests' committed events are about other ones)."""
    connection.set_schema_to_public()
    cooperative_id = str(Cooperative.objects.get(slug=slug).pk)
    return list(AuditEvent.objects.filter(action=action, object_id=cooperative_id).order_by("id"))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends: nothing listens there


# --- The list and the tenant page ----------------------------------------------------------------


def test_the_list_shows_each_tenants_plan_reading_billing_accounts_once(
    console: Client, alpha: Workspace, beta: Workspace
) -> None:
    billing_account_open(
        cooperative=alpha.cooperative(), plan=Plan.objects.get(code="standard"), currency="BDT"
    )
    with CaptureQueriesContext(connection) as queries:
        page = console.get("/console/")
    html = page.content.decode()
    assert page.status_code == 200
    alpha_row = html[html.index('data-slug="alpha"') :].split("</tr>")[0]
    beta_row = html[html.index('data-slug="beta"') :].split("</tr>")[0]
    assert 'data-plan="standard"' in alpha_row and "Standard" in alpha_row
    assert 'data-plan=""' in beta_row and "No plan" in beta_row
    billing_reads = [q["sql"] for q in queries.captured_queries if '"billing_billingaccount"' in q["sql"]]
    assert len(billing_reads) == 1, billing_reads


def test_the_tenant_page_shows_billing_dates_and_usage_against_the_plans_limits(
    console: Client, alpha: Workspace
) -> None:
    starter = Plan.objects.get(code="starter")
    billing_account_open(cooperative=alpha.cooperative(), plan=starter, currency="BDT")
    period_end = dt.datetime(2026, 12, 24, 6, 30, tzinfo=dt.UTC)
    grace = dt.datetime(2026, 12, 31, 6, 30, tzinfo=dt.UTC)
    BillingAccount.objects.filter(cooperative__slug="alpha").update(
        subscription_status="past_due", current_period_end=period_end, grace_deadline=grace
    )
    counts = workspace_counts(alpha.cooperative())
    assert counts.staff_users > 0 and counts.branches > 0  # so the numbers below say something
    connection.set_schema_to_public()

    html = console.get("/console/tenants/alpha/").content.decode()
    billing = html[html.index('id="billing"') :].split("</section>")[0]
    assert 'data-plan="starter"' in billing and "past_due" in billing
    assert "2026-12-24 06:30 UTC" in billing and "2026-12-31 06:30 UTC" in billing
    for metric, used, limit in (
        ("members", counts.members, starter.max_members),
        ("branches", counts.branches, starter.max_branches),
        ("staff_users", counts.staff_users, starter.max_staff_users),
        ("sms_segments_this_month", counts.sms_segments_this_month, starter.sms_per_month),
    ):
        row = billing[billing.index(f'data-metric="{metric}"') :].split("</tr>")[0]
        assert f'<td data-label="Used">{used} ' in row, row
        assert f"Plan's limit\">{limit}</td>" in row, row
    assert "/console/tenants/alpha/plan/" in billing and "/console/tenants/alpha/charges/" in billing


def test_the_list_and_the_tenant_page_show_sms_this_month_against_the_plan_from_the_daily_snapshot(
    console: Client, alpha: Workspace, beta: Workspace
) -> None:
    from django_tenants.utils import tenant_context

    from notifications.models import OutboxMessage, OutboxStatus
    from tenants.tasks import usage_snapshot

    starter = Plan.objects.get(code="starter")
    assert starter.sms_per_month == 500
    billing_account_open(cooperative=alpha.cooperative(), plan=starter, currency="BDT")
    now = timezone.now()
    for workspace, count, segments in ((alpha, 230, 2), (beta, 1, 3)):
        with tenant_context(workspace.cooperative()):
            OutboxMessage.objects.bulk_create(
                OutboxMessage(
                    kind="savings_deposit", source_ref=f"meter-{number}", language="bn",
                    status=OutboxStatus.SENT, created_at=now, sent_at=now, segments=segments,
                )
                for number in range(count)
            )  # fmt: skip
            OutboxMessage.objects.create(
                kind="savings_deposit", source_ref="meter-dead", language="bn", status=OutboxStatus.DEAD,
                created_at=now, segments=4,
            )  # fmt: skip
            usage_snapshot.apply().get()
    connection.set_schema_to_public()

    with CaptureQueriesContext(connection) as queries:
        html = console.get("/console/").content.decode()
    assert not [q["sql"] for q in queries.captured_queries if "outboxmessage" in q["sql"]]
    alpha_row = html[html.index('data-slug="alpha"') :].split("</tr>")[0]
    beta_row = html[html.index('data-slug="beta"') :].split("</tr>")[0]
    # 460 of 500 segments: 92%, near the plan's allowance (counted in segments, not messages).
    assert 'data-sms-messages="230" data-sms-segments="460" data-sms-allowance="500"' in alpha_row
    assert "230 messages, 460 of 500 segments (92%)" in alpha_row and "near the limit" in alpha_row
    assert 'data-sms-messages="1" data-sms-segments="3" data-sms-allowance=""' in beta_row
    assert "1 message, 3 segments (no limit)" in beta_row and "the limit" not in beta_row

    page = console.get("/console/tenants/alpha/").content.decode()
    usage = page[page.index('id="usage"') :].split("</section>")[0]
    sms = usage[usage.index('data-testid="usage-sms"') :].split("</dd>")[0]
    assert "230 messages, 460 of 500 segments (92%)" in sms and "near the limit" in sms
    billing = page[page.index('id="billing"') :].split("</section>")[0]
    line = billing[billing.index('data-metric="sms_segments_this_month"') :].split("</tr>")[0]
    assert '<td data-label="Used">460 ' in line and "(92%)" in line and "near the limit" in line


# --- Change the plan -----------------------------------------------------------------------------


def test_changing_the_plan_moves_the_stripe_subscription_and_records_the_reason(
    console: Client, operator: Operator, localstripe: str, alpha: Workspace
) -> None:
    account = _subscribe(alpha, "starter")
    page = console.get("/console/tenants/alpha/plan/")
    assert page.status_code == 200 and b'name="plan"' in page.content

    network = Plan.objects.get(code="network")
    no_reason = console.post("/console/tenants/alpha/plan/", {"plan": network.pk, "reason": "  "})
    assert no_reason.status_code == 200 and _account("alpha").plan.code == "starter"

    done = console.post(
        "/console/tenants/alpha/plan/", {"plan": network.pk, "reason": "OPS-12 upgrade asked"}
    )
    assert (done.status_code, done["Location"]) == (302, "/console/tenants/alpha/#billing")
    assert _account("alpha").plan.code == "network"
    subscription = gateway.subscription_retrieve(account.stripe_subscription_id)
    assert gateway.subscription_price_ids(subscription) == ["coopcore_network_bdt_monthly"]

    (console_event,) = _events("console.plan_change", "alpha")
    assert (console_event.actor_label, console_event.object_type, console_event.object_id) == (
        operator.username,
        "tenants.cooperative",
        str(alpha.cooperative().pk),
    )
    assert console_event.changes == {"reason": "OPS-12 upgrade asked", "plan": ["starter", "network"]}
    assert _events("billing.plan_change", "alpha")[-1].changes == {"plan": ["starter", "network"]}
    history = console.get("/console/tenants/alpha/").content.decode()
    assert "OPS-12 upgrade asked" in history and 'data-plan="network"' in history


def test_a_plan_change_stripe_refuses_is_shown_on_the_form_and_changes_nothing(
    console: Client, alpha: Workspace, settings: Any
) -> None:
    billing_account_open(
        cooperative=alpha.cooperative(), plan=Plan.objects.get(code="starter"), currency="BDT",
        stripe_customer_id="cus_unreachable", stripe_subscription_id="sub_unreachable",
    )  # fmt: skip
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"
    response = console.post(
        "/console/tenants/alpha/plan/",
        {"plan": Plan.objects.get(code="network").pk, "reason": "OPS-13"},
    )
    assert response.status_code == 200
    assert b"Stripe did not accept the change; nothing was changed." in response.content
    assert b'data-error-code="payment_provider_error"' in response.content
    assert _account("alpha").plan.code == "starter"
    assert _events("console.plan_change", "alpha") == [] and _events("billing.plan_change", "alpha") == []


def test_only_plans_priced_in_the_billing_currency_are_offered(console: Client, alpha: Workspace) -> None:
    billing_account_open(
        cooperative=alpha.cooperative(), plan=Plan.objects.get(code="starter"), currency="BDT"
    )
    dollars_only = Plan.objects.create(code="usd-only", name="Dollars only", is_public=False, sort_order=99)
    PlanPrice.objects.create(
        plan=dollars_only, currency="USD", monthly_fee_minor=100_00, setup_fee_minor=0,
        stripe_price_id="coopcore_usd_only_test",
    )  # fmt: skip
    page = console.get("/console/tenants/alpha/plan/").content.decode()
    assert "Network" in page and "Dollars only" not in page
    refused = console.post("/console/tenants/alpha/plan/", {"plan": dollars_only.pk, "reason": "OPS-14"})
    assert refused.status_code == 200 and b"Select a valid choice" in refused.content
    assert _account("alpha").plan.code == "starter"


def test_a_plan_for_a_cooperative_without_an_account_opens_one(console: Client, beta: Workspace) -> None:
    standard = Plan.objects.get(code="standard")
    done = console.post(
        "/console/tenants/beta/plan/", {"plan": standard.pk, "reason": "OPS-15 sold by phone"}
    )
    assert done.status_code == 302
    account = _account("beta")
    assert (account.plan.code, account.currency, account.stripe_subscription_id) == ("standard", "VND", None)
    assert _events("console.plan_change", "beta")[-1].changes == {
        "reason": "OPS-15 sold by phone",
        "plan": [None, "standard"],
    }


# --- One-time charges ----------------------------------------------------------------------------


def test_a_charge_typed_in_taka_is_billed_in_exact_paisa_and_listed(
    console: Client, operator: Operator, localstripe: str, alpha: Workspace
) -> None:
    account = _subscribe(alpha)
    url = "/console/tenants/alpha/charges/"
    assert b"Amount in BDT" in console.get(url).content
    for amount, problem in (
        ("2500.505", b"BDT has 2 decimal places"),
        ("abc", b"Not a number"),
        ("0", b"positive"),
    ):
        response = console.post(
            url, {"amount": amount, "kind": "customisation", "description": "Reports", "reason": "OPS-20"}
        )
        assert response.status_code == 200 and problem in response.content, amount
    assert not OneTimeCharge.objects.filter(account__cooperative__slug="alpha").exists()

    done = console.post(
        url,
        {
            "amount": "2500.50",
            "kind": "customisation",
            "description": "Custom loan report",
            "reason": "OPS-21 signed quote",
        },
    )
    assert (done.status_code, done["Location"]) == (302, "/console/tenants/alpha/#billing")
    charge = OneTimeCharge.objects.get(account__cooperative__slug="alpha")
    assert (charge.amount_minor, charge.currency, charge.kind, charge.created_by) == (
        250_050,
        "BDT",
        "customisation",
        operator.username,
    )
    item = gateway.client().v1.invoice_items.retrieve(charge.stripe_invoice_item_id)
    assert (item.amount, item.currency, item.customer) == (250_050, "bdt", account.stripe_customer_id)

    (event,) = _events("console.one_time_charge", "alpha")
    assert event.object_id == str(alpha.cooperative().pk) and event.changes == {
        "reason": "OPS-21 signed quote",
        "charge": str(charge.public_id),
        "amount_minor": 250_050,
        "currency": "BDT",
        "kind": "customisation",
    }
    assert _events("billing.one_time_charge", "alpha")[-1].changes["amount_minor"] == 250_050
    page = console.get("/console/tenants/alpha/").content.decode()
    row = page[page.index(f'data-charge="{charge.public_id}"') :].split("</tr>")[0]
    assert "Custom loan report" in row and 'data-amount-minor="250050"' in row and "2,500.50" in row
    assert "OPS-21 signed quote" in page


def test_a_charge_in_dong_has_no_decimals(console: Client, localstripe: str, beta: Workspace) -> None:
    billing_account_open(
        cooperative=beta.cooperative(), plan=Plan.objects.get(code="starter"), currency="VND"
    )
    url = "/console/tenants/beta/charges/"
    assert b"Whole VND only" in console.get(url).content
    fields = {"kind": "data_migration", "description": "Ledger import", "reason": "OPS-22"}
    refused = console.post(url, {**fields, "amount": "1500000.5"})
    assert refused.status_code == 200 and b"VND has 0 decimal places" in refused.content
    assert b'data-error-code="amount_invalid"' in refused.content
    assert console.post(url, {**fields, "amount": "2000000"}).status_code == 302
    charge = OneTimeCharge.objects.get(account__cooperative__slug="beta")
    assert (charge.amount_minor, charge.currency, charge.kind) == (2_000_000, "VND", "data_migration")
    item = gateway.client().v1.invoice_items.retrieve(charge.stripe_invoice_item_id)
    assert (item.amount, item.currency) == (2_000_000, "vnd")


def test_a_charge_needs_a_billing_account(console: Client, beta: Workspace) -> None:
    page = console.get("/console/tenants/beta/charges/")
    assert b"give it a plan first" in page.content
    refused = console.post(
        "/console/tenants/beta/charges/",
        {"amount": "10", "kind": "other", "description": "x", "reason": "OPS-23"},
    )
    assert refused.status_code == 200 and b"give it a plan first" in refused.content
    assert (
        not OneTimeCharge.objects.filter(account__cooperative__slug="beta").exists()
        and _events("console.one_time_charge", "beta") == []
    )


def test_the_billing_dates_are_shown_in_utc(console: Client, alpha: Workspace) -> None:
    billing_account_open(
        cooperative=alpha.cooperative(), plan=Plan.objects.get(code="starter"), currency="BDT"
    )
    BillingAccount.objects.filter(cooperative__slug="alpha").update(current_period_end=timezone.now())
    assert b" UTC" in console.get("/console/tenants/alpha/").content
