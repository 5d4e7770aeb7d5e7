"""Lifecycle transitions of a cooperative (P2): the one write path of ``Cooperative.lifecycle``.

Billing (webhooks, the grace-period beat task) and operations staff move a cooperative between
states through ``cooperative_lifecycle_change``; what each state lets the workspace do is
``tenants.access``. Every transition is audited in the control plane's trail, with its reason.

    trial      -> active, past_due, read_only, suspended, closed
    active     -> past_due, read_only, suspended, closed
    past_due   -> active, read_only, suspended, closed
    read_only  -> active, suspended, closed
    suspended  -> active, read_only, closed
    closed     -> suspended            (re-opened by operations staff only; never by a payment)

A transition to the state the cooperative is already in changes nothing and records nothing
(webhooks are delivered more than once). No transition deletes any of the cooperative's data.
Billing makes a cooperative read-only only from past due (its grace period ended); operations
staff may freeze one from trial or active too (``control_plane.console``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django_tenants.utils import schema_context

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from tenants.models import Cooperative, Lifecycle

ALLOWED_TRANSITIONS: dict[Lifecycle, frozenset[Lifecycle]] = {
    Lifecycle.TRIAL: frozenset(
        {Lifecycle.ACTIVE, Lifecycle.PAST_DUE, Lifecycle.READ_ONLY, Lifecycle.SUSPENDED, Lifecycle.CLOSED}
    ),
    Lifecycle.ACTIVE: frozenset(
        {Lifecycle.PAST_DUE, Lifecycle.READ_ONLY, Lifecycle.SUSPENDED, Lifecycle.CLOSED}
    ),
    Lifecycle.PAST_DUE: frozenset(
        {Lifecycle.ACTIVE, Lifecycle.READ_ONLY, Lifecycle.SUSPENDED, Lifecycle.CLOSED}
    ),
    Lifecycle.READ_ONLY: frozenset({Lifecycle.ACTIVE, Lifecycle.SUSPENDED, Lifecycle.CLOSED}),
    Lifecycle.SUSPENDED: frozenset({Lifecycle.ACTIVE, Lifecycle.READ_ONLY, Lifecycle.CLOSED}),
    Lifecycle.CLOSED: frozenset({Lifecycle.SUSPENDED}),
    Lifecycle.TEMPLATE: frozenset(),
}


@dataclass(frozen=True)
class LifecycleTransition:
    cooperative: Cooperative
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def transition_allowed(before: str, after: str) -> bool:
    return before == after or Lifecycle(after) in ALLOWED_TRANSITIONS.get(Lifecycle(before), frozenset())


def cooperative_lifecycle_change(
    *, cooperative: Cooperative, to: str, reason: str, actor: Any | None
) -> LifecycleTransition:
    """Move the cooperative to ``to`` if the table above allows it; audit it with ``reason``.

    Takes the cooperative's row lock, so two webhooks (or a webhook and the beat task) deciding at
    once are applied one after the other, each seeing the state the other left. The caller's
    ``cooperative`` instance is updated too.
    """
    reason = reason.strip()
    if not reason:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "A reason is required.", fields={"reason": ["Required."]}
        )
    try:
        target = Lifecycle(to)
    except ValueError as exc:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, f"Unknown state {to!r}.", fields={"to": ["Unknown state."]}
        ) from exc
    with schema_context(settings.PUBLIC_SCHEMA_NAME), transaction.atomic():
        locked = Cooperative.objects.select_for_update().get(pk=cooperative.pk)
        before = locked.lifecycle
        if before != target:
            if not transition_allowed(before, target):
                raise BusinessRuleViolation(
                    ErrorCode.LIFECYCLE_TRANSITION_INVALID,
                    f"A cooperative cannot go from {before} to {target}.",
                    fields={"to": [f"Not allowed from {before}."]},
                )
            locked.lifecycle = target
            locked.save(update_fields=["lifecycle"])
            audit_record(
                actor=actor,
                action="cooperative.lifecycle",
                target=locked,
                changes={"lifecycle": [before, str(target)], "reason": reason},
            )
    cooperative.lifecycle = locked.lifecycle
    return LifecycleTransition(cooperative=locked, before=str(before), after=str(locked.lifecycle))
