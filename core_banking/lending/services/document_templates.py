"""A workspace's own wording of its loan documents (L7): each save a new version, audited.

What may be written and how it is checked is ``core_banking.lending.wording``. Versions are never
edited (PostgreSQL refuses it too): restoring the default is a new version with every field empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from control_plane.audit.services import audit_record, diff
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.lending import wording as wordings
from core_banking.lending.models import DocumentTemplate
from tenants.db import current_schema


def _check_key(kind: str, language: str) -> None:
    problems: dict[str, list[str]] = {}
    if kind not in wordings.KINDS:
        problems["kind"] = [gettext("One of: %(kinds)s.") % {"kinds": ", ".join(wordings.KINDS)}]
    if language not in wordings.languages():
        problems["language"] = [
            gettext("One of: %(languages)s.") % {"languages": ", ".join(wordings.languages())}
        ]
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "No such document or language.", fields=problems
        )


@transaction.atomic
def document_template_save(
    *,
    actor: Any | None,
    kind: str,
    language: str,
    title: str = "",
    opening: str = "",
    clauses: Sequence[str] = (),
    closing: str = "",
) -> DocumentTemplate:
    """Save the wording of ``kind`` in ``language`` as its next version; every document issued after
    uses it. Empty fields take the default wording; all empty is the default again. Refused, field by
    field (``validation_error``), when a text does not pass ``wording.wording_problems``."""
    _check_key(kind, language)
    given = wordings.Wording(title=title, opening=opening, clauses=tuple(clauses), closing=closing).cleaned()
    problems = wordings.wording_problems(kind, given)
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "The wording cannot be used.", fields=problems
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"{current_schema()}:lending-document-template:{kind}:{language}"],
        )
    previous = wordings.template_current(kind, language)
    before = wordings.Wording.of(previous)
    row = DocumentTemplate.objects.create(
        kind=kind,
        language=language,
        version=(previous.version + 1) if previous is not None else 1,
        title=given.title,
        opening=given.opening,
        clauses=list(given.clauses),
        closing=given.closing,
        saved_at=timezone.now(),
        saved_by_id=actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action="lending.document_template.save",
        target=row,
        changes={
            "kind": kind,
            "language": language,
            "version": row.version,
            "default": row.is_default,
            "changed": diff(before.as_dict(), given.as_dict()),
        },
    )
    return row


def document_template_restore_default(*, actor: Any | None, kind: str, language: str) -> DocumentTemplate:
    """The default wording again, as a new version that says so (every field empty)."""
    return document_template_save(actor=actor, kind=kind, language=language)
