"""Usage against the plan's limits: counted inside the workspace; over a limit warns, never blocks."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.models import Plan
from billing.selectors import billing_state, usage_against_limits
from billing.services import billing_account_open
from core_banking.organisation.services import branch_create
from notifications.models import OutboxMessage, OutboxStatus
from tenants.models import UsageSnapshot
from tenants.tasks import usage_snapshot
from tests.conftest import Workspace

pytestmark = pytest.mark.django_db


def test_usage_is_counted_inside_the_workspace_against_the_plan(alpha: Workspace, beta: Workspace) -> None:
    plan = Plan.objects.create(
        code="tiny", name="Tiny", max_members=10, max_branches=2, max_staff_users=5, sms_per_month=2
    )
    billing_account_open(cooperative=alpha.cooperative(), plan=plan, currency="BDT")
    with tenant_context(alpha.cooperative()):
        now = timezone.now()
        for number in range(3):
            OutboxMessage.objects.create(
                kind="savings_deposit", source_ref=f"ref-{number}", language="bn", status=OutboxStatus.SENT,
                created_at=now, sent_at=now, segments=1,
            )  # fmt: skip
        OutboxMessage.objects.create(
            kind="savings_deposit", source_ref="pending", language="bn", created_at=now
        )
    usage = usage_against_limits(alpha.cooperative())
    lines = {line.metric: line for line in usage.lines}
    # alpha: head office + one branch; admin, field officer, auditor and three clerks.
    assert (lines["branches"].used, lines["branches"].limit) == (2, 2)
    assert (lines["staff_users"].used, lines["staff_users"].limit) == (6, 5)
    assert (lines["sms_segments_this_month"].used, lines["sms_segments_this_month"].limit) == (3, 2)
    assert lines["members"].used == 0 and not lines["members"].over
    assert {line.metric for line in usage.over_limits} == {"staff_users", "sms_segments_this_month"}
    assert lines["branches"].near and not lines["branches"].over
    assert lines["staff_users"].percent == 120

    # Over the limit, work goes on: another branch is opened all the same.
    with tenant_context(alpha.cooperative()):
        branch_create(actor=None, code="BR9", name="Ninth")
    assert usage_against_limits(alpha.cooperative()).lines[1].used == 3

    # beta has no plan: everything unlimited, nothing over.
    beta_usage = usage_against_limits(beta.cooperative())
    assert beta_usage.plan is None and beta_usage.over_limits == []
    assert billing_state(beta.cooperative()).plan is None


def test_the_daily_snapshot_keeps_members_and_sms_too(alpha: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        result = usage_snapshot.apply().get()
    assert result["schema"] == "coop_alpha"
    cooperative = alpha.cooperative()
    snapshot = UsageSnapshot.objects.get(cooperative=cooperative, measured_on=cooperative.business_date())
    assert (
        snapshot.staff_users,
        snapshot.branches,
        snapshot.members,
        snapshot.sms_this_month,
        snapshot.sms_segments_this_month,
    ) == (6, 2, 0, 0, 0)
