"""Lifecycle transitions: the allowed table, an audit record for each, nothing for a repeat."""

from __future__ import annotations

import pytest

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from tenants.lifecycle import ALLOWED_TRANSITIONS, cooperative_lifecycle_change, transition_allowed
from tenants.models import Cooperative, Lifecycle
from tests.conftest import Workspace

pytestmark = pytest.mark.django_db


def _set(cooperative: Cooperative, state: str) -> None:
    Cooperative.objects.filter(pk=cooperative.pk).update(lifecycle=state)
    cooperative.refresh_from_db()


def test_the_billing_path_and_back_each_step_audited(alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    path = [Lifecycle.PAST_DUE, Lifecycle.READ_ONLY, Lifecycle.SUSPENDED, Lifecycle.ACTIVE]
    for state in path:
        change = cooperative_lifecycle_change(cooperative=cooperative, to=state, reason="test", actor=None)
        assert change.changed and change.after == state
        assert Cooperative.objects.get(pk=cooperative.pk).lifecycle == state
    events = AuditEvent.objects.filter(
        action="cooperative.lifecycle", object_id=str(cooperative.pk)
    ).order_by("id")
    assert [event.changes["lifecycle"] for event in events] == [
        ["active", "past_due"],
        ["past_due", "read_only"],
        ["read_only", "suspended"],
        ["suspended", "active"],
    ]
    assert all(event.changes["reason"] == "test" and event.actor_label == "system" for event in events)


def test_a_repeat_changes_nothing_and_records_nothing(alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    before = AuditEvent.objects.count()
    change = cooperative_lifecycle_change(
        cooperative=cooperative, to=Lifecycle.ACTIVE, reason="again", actor=None
    )
    assert not change.changed
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Lifecycle.READ_ONLY, Lifecycle.PAST_DUE),  # only a payment or an operator lifts it
        (Lifecycle.ACTIVE, Lifecycle.TRIAL),
        (Lifecycle.CLOSED, Lifecycle.ACTIVE),  # a payment never re-opens a closed cooperative
        (Lifecycle.CLOSED, Lifecycle.READ_ONLY),
        (Lifecycle.ACTIVE, Lifecycle.TEMPLATE),
    ],
)
def test_transitions_outside_the_table_are_refused(alpha: Workspace, start: str, target: str) -> None:
    cooperative = alpha.cooperative()
    _set(cooperative, start)
    with pytest.raises(BusinessRuleViolation) as refused:
        cooperative_lifecycle_change(cooperative=cooperative, to=target, reason="x", actor=None)
    assert "to" in refused.value.fields
    assert refused.value.code == ErrorCode.LIFECYCLE_TRANSITION_INVALID
    assert refused.value.http_status == 409
    assert Cooperative.objects.get(pk=cooperative.pk).lifecycle == start


def test_a_reason_is_required_and_the_state_must_exist(alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    with pytest.raises(BusinessRuleViolation):
        cooperative_lifecycle_change(cooperative=cooperative, to=Lifecycle.PAST_DUE, reason=" ", actor=None)
    with pytest.raises(BusinessRuleViolation):
        cooperative_lifecycle_change(cooperative=cooperative, to="deleted", reason="x", actor=None)


def test_operations_staff_reopen_a_closed_cooperative_as_suspended(alpha: Workspace) -> None:
    cooperative = alpha.cooperative()
    _set(cooperative, Lifecycle.CLOSED)
    cooperative_lifecycle_change(
        cooperative=cooperative, to=Lifecycle.SUSPENDED, reason="reopened", actor=None
    )
    assert cooperative.lifecycle == Lifecycle.SUSPENDED


def test_the_table_is_what_the_docstring_says() -> None:
    assert transition_allowed(Lifecycle.PAST_DUE, Lifecycle.ACTIVE)
    assert not transition_allowed(Lifecycle.CLOSED, Lifecycle.ACTIVE)
    assert ALLOWED_TRANSITIONS[Lifecycle.TEMPLATE] == frozenset()
    # Every state but the template can be closed, and nothing is deleted by any transition.
    for state, targets in ALLOWED_TRANSITIONS.items():
        if state not in (Lifecycle.TEMPLATE, Lifecycle.CLOSED):
            assert Lifecycle.CLOSED in targets
