"""A workspace's own SMS texts and reminder settings: each template save a new version, audited.

What a template may say and how it is checked is ``notifications.texts``. Versions are never edited
(PostgreSQL refuses it too): restoring the default is a new version with an empty text.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from control_plane.audit.services import audit_record, diff
from control_plane.errors import BusinessRuleViolation, ErrorCode
from notifications import texts
from notifications.templates_models import (
    MAX_REMINDER_DAYS,
    MessageTemplate,
    NotificationSettings,
    message_template_current,
    notification_settings_current,
)
from tenants.db import current_schema


def _actor_id(actor: Any | None) -> int | None:
    return actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None


def message_template_key_check(kind: str, language: str) -> None:
    problems: dict[str, list[str]] = {}
    if kind not in texts.KINDS:
        problems["kind"] = [gettext("One of: %(kinds)s.") % {"kinds": ", ".join(texts.KINDS)}]
    if language not in texts.LANGUAGES:
        problems["language"] = [gettext("One of: %(languages)s.") % {"languages": ", ".join(texts.LANGUAGES)}]
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "No such message or language.", fields=problems
        )


def _cleaned(body: str) -> str:
    return str(body or "").replace("\r\n", "\n").replace("\r", "\n").strip()


@transaction.atomic
def message_template_save(*, actor: Any | None, kind: str, language: str, body: str) -> MessageTemplate:
    """Save the SMS text of ``kind`` in ``language`` as its next version; messages rendered after use
    it. An empty ``body`` is the shipped default again. Refused (``message_template_invalid``, with
    the reasons under ``body``) when the text does not pass ``texts.template_problems``."""
    message_template_key_check(kind, language)
    given = _cleaned(body)
    if given == texts.default_template(kind, language):
        given = ""  # the default as shipped: it stays the default (and follows a later product change)
    if given:
        problems = texts.template_problems(kind, given)
        if problems:
            raise BusinessRuleViolation(
                ErrorCode.MESSAGE_TEMPLATE_INVALID,
                "The message text cannot be used.",
                fields={"body": problems},
            )
    with connection.cursor() as cursor:
        # Two saves at once would both read version n and one would fail on the unique version.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"{current_schema()}:notifications-message-template:{kind}:{language}"],
        )
    previous = message_template_current(kind, language)
    row = MessageTemplate.objects.create(
        kind=kind,
        language=language,
        version=(previous.version + 1) if previous is not None else 1,
        body=given,
        saved_at=timezone.now(),
        saved_by_id=_actor_id(actor),
    )
    audit_record(
        actor=actor,
        action="notifications.message_template.save",
        target=row,
        changes={
            "kind": kind,
            "language": language,
            "version": row.version,
            "default": row.is_default,
            "changed": diff({"body": previous.body if previous is not None else ""}, {"body": given}),
        },
    )
    return row


def message_template_restore_default(*, actor: Any | None, kind: str, language: str) -> MessageTemplate:
    """The shipped default again, as a new version that says so (an empty text)."""
    return message_template_save(actor=actor, kind=kind, language=language, body="")


def _day_count(value: Any, field: str, problems: dict[str, list[str]], *, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        problems[field] = [gettext("A whole number from 0 to %(high)s.") % {"high": high}]
        return 0
    return value


@transaction.atomic
def notification_settings_save(
    *,
    actor: Any | None,
    upcoming_reminder_days: int,
    overdue_reminder_days: int,
    send_hour: int,
    unaccented_vietnamese: bool,
) -> NotificationSettings:
    """The workspace's reminder days, local sending hour and Vietnamese spelling; audited."""
    problems: dict[str, list[str]] = {}
    upcoming = _day_count(upcoming_reminder_days, "upcoming_reminder_days", problems, high=MAX_REMINDER_DAYS)
    overdue = _day_count(overdue_reminder_days, "overdue_reminder_days", problems, high=MAX_REMINDER_DAYS)
    hour = _day_count(send_hour, "send_hour", problems, high=23)
    if problems:
        raise BusinessRuleViolation(
            ErrorCode.NOTIFICATION_SETTINGS_INVALID,
            "The notification settings cannot be used.",
            fields=problems,
        )
    before = notification_settings_current()
    row, _created = NotificationSettings.objects.select_for_update().get_or_create(pk=1)
    row.upcoming_reminder_days = upcoming
    row.overdue_reminder_days = overdue
    row.send_hour = hour
    row.unaccented_vietnamese = bool(unaccented_vietnamese)
    row.updated_at = timezone.now()
    row.updated_by_id = _actor_id(actor)
    row.save()
    after = notification_settings_current()
    audit_record(
        actor=actor,
        action="notifications.settings.save",
        target=row,
        changes=diff(asdict(before), asdict(after)),
    )
    return row
