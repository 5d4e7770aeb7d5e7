"""The one write path of the audit trail."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from control_plane.audit.models import AuditEvent


@dataclass(frozen=True)
class RequestOrigin:
    """Where a change came from: set per request (or per task) by middleware."""

    ip_address: str | None = None
    device_id: str = ""
    request_id: str = ""


_origin: contextvars.ContextVar[RequestOrigin] = contextvars.ContextVar(
    "audit_origin",
    default=RequestOrigin(),  # noqa: B039 - a frozen dataclass, immutable
)


def set_origin(origin: RequestOrigin) -> contextvars.Token[RequestOrigin]:
    return _origin.set(origin)


def reset_origin(token: contextvars.Token[RequestOrigin]) -> None:
    _origin.reset(token)


def current_origin() -> RequestOrigin:
    return _origin.get()


SYSTEM_ACTOR = "system"


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append one event, inside the service's transaction: the trail and the change commit together."""
    origin = current_origin()
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    person = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor_id=person.pk if person is not None else None,
        actor_label=person.get_username() if person is not None else SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=str(target)[:200] if target is not None else "",
        changes=changes or {},
        ip_address=origin.ip_address,
        device_id=origin.device_id[:100],
        request_id=origin.request_id[:64],
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed."""
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}
