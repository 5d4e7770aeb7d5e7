"""Dunning: past due -> read-only when the grace period ends (beat task), the admin told once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation

from billing.models import BillingAccount, Plan
from billing.services import billing_account_open, billing_grace_periods_expire, billing_notice_send
from control_plane.audit.models import AuditEvent
from tenants.lifecycle import cooperative_lifecycle_change
from tenants.models import Cooperative, Lifecycle
from tests.conftest import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_due(alpha: Workspace) -> BillingAccount:
    account = billing_account_open(
        cooperative=alpha.cooperative(), plan=Plan.objects.get(code="standard"), currency="BDT"
    )
    cooperative_lifecycle_change(
        cooperative=alpha.cooperative(), to=Lifecycle.PAST_DUE, reason="test", actor=None
    )
    now = timezone.now()
    BillingAccount.objects.filter(pk=account.pk).update(
        past_due_since=now, grace_deadline=now + dt.timedelta(days=14)
    )
    account.refresh_from_db()
    return account


def _state(workspace: Workspace) -> str:
    return Cooperative.objects.get(slug=workspace.slug).lifecycle


def test_within_the_grace_period_nothing_changes(past_due: BillingAccount, alpha: Workspace) -> None:
    assert billing_grace_periods_expire(now=timezone.now() + dt.timedelta(days=13)) == []
    assert _state(alpha) == Lifecycle.PAST_DUE


def test_after_the_grace_period_it_becomes_read_only_audited_and_the_admin_is_told(
    past_due: BillingAccount, alpha: Workspace, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        made = billing_grace_periods_expire(now=timezone.now() + dt.timedelta(days=15))
    assert made == ["alpha"]
    assert _state(alpha) == Lifecycle.READ_ONLY
    audit = AuditEvent.objects.filter(action="cooperative.lifecycle").latest("id")
    assert (
        audit.changes["lifecycle"] == ["past_due", "read_only"] and "grace period" in audit.changes["reason"]
    )
    # No billing e-mail was given: the workspace's administrators are written to, in Bangla.
    (message,) = mail.outbox
    assert message.to == [f"admin@{alpha.host}"]
    with translation.override("bn"):
        assert translation.gettext("Your data is never deleted because of a payment.") in message.body
    # Running again does nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert billing_grace_periods_expire(now=timezone.now() + dt.timedelta(days=16)) == []
    assert len(mail.outbox) == 1


def test_a_past_due_cooperative_without_a_deadline_gets_one(alpha: Workspace) -> None:
    account = billing_account_open(
        cooperative=alpha.cooperative(), plan=Plan.objects.get(code="starter"), currency="BDT"
    )
    cooperative_lifecycle_change(
        cooperative=alpha.cooperative(), to=Lifecycle.PAST_DUE, reason="by hand", actor=None
    )
    assert billing_grace_periods_expire() == []
    account.refresh_from_db()
    assert account.grace_deadline is not None and account.grace_deadline > timezone.now() + dt.timedelta(
        days=13
    )


def test_the_past_due_notice_is_sent_once_per_episode(past_due: BillingAccount) -> None:
    assert billing_notice_send(account_id=past_due.pk, kind="past_due") == "sent to 1"
    assert billing_notice_send(account_id=past_due.pk, kind="past_due") == "skipped: already sent"
    assert len(mail.outbox) == 1
    assert "alpha" in mail.outbox[0].body.lower() or "Alpha" in mail.outbox[0].subject


def test_no_notice_once_it_is_paid(past_due: BillingAccount, alpha: Workspace) -> None:
    cooperative_lifecycle_change(
        cooperative=alpha.cooperative(), to=Lifecycle.ACTIVE, reason="paid", actor=None
    )
    assert billing_notice_send(account_id=past_due.pk, kind="past_due") == "skipped: no longer in that state"
    assert mail.outbox == []
