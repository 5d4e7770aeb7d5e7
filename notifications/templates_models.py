"""A workspace's own SMS texts and its reminder settings (loaded with the app's models, see apps.py).

``MessageTemplate``: one version of the text of one message kind in one language. Never edited: each
save is a new row with the next version; the newest is what messages use; an empty ``body`` (a
"restore default") is the shipped default again. PostgreSQL refuses UPDATE, DELETE and TRUNCATE of
the table (migration 0003). Written only by ``notifications.template_services``.

``NotificationSettings``: one row per workspace (absent until first saved: the defaults below).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_UPCOMING_DAYS = 2
DEFAULT_OVERDUE_DAYS = 3
DEFAULT_SEND_HOUR = 9
MAX_REMINDER_DAYS = 14


class MessageTemplate(models.Model):
    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("message"), max_length=32)
    language = models.CharField(_("language"), max_length=8)
    version = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("text"), blank=True)
    saved_at = models.DateTimeField()
    saved_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        app_label = "notifications"
        ordering = ["kind", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language", "version"], name="one_message_template_version"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="message_template_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.language} v{self.version}"

    @property
    def is_default(self) -> bool:
        return not self.body


class NotificationSettings(models.Model):
    # One row: the constraint keeps a second one out however the row is written.
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    upcoming_reminder_days = models.PositiveSmallIntegerField(
        _("reminder days before the due date"),
        default=DEFAULT_UPCOMING_DAYS,
        validators=[MaxValueValidator(MAX_REMINDER_DAYS)],
        help_text=_("0: no reminder before an instalment falls due."),
    )
    overdue_reminder_days = models.PositiveSmallIntegerField(
        _("overdue reminder days"),
        default=DEFAULT_OVERDUE_DAYS,
        validators=[MaxValueValidator(MAX_REMINDER_DAYS)],
        help_text=_("A reminder on each of the first days an instalment is overdue; 0: none."),
    )
    send_hour = models.PositiveSmallIntegerField(
        _("local hour reminders are sent"),
        default=DEFAULT_SEND_HOUR,
        validators=[MinValueValidator(0), MaxValueValidator(23)],
    )
    unaccented_vietnamese = models.BooleanField(
        _("unaccented Vietnamese"),
        default=False,
        help_text=_("Vietnamese messages without diacritics: GSM-7, up to 160 characters per SMS."),
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        app_label = "notifications"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_notification_settings_row")]

    def __str__(self) -> str:
        return "notification settings"


@dataclass(frozen=True)
class NotificationChoices:
    """The workspace's settings as plain values (the defaults until it saved its own)."""

    upcoming_reminder_days: int = DEFAULT_UPCOMING_DAYS
    overdue_reminder_days: int = DEFAULT_OVERDUE_DAYS
    send_hour: int = DEFAULT_SEND_HOUR
    unaccented_vietnamese: bool = False


def notification_settings_current() -> NotificationChoices:
    row = NotificationSettings.objects.filter(pk=1).first()
    if row is None:
        return NotificationChoices()
    return NotificationChoices(
        upcoming_reminder_days=row.upcoming_reminder_days,
        overdue_reminder_days=row.overdue_reminder_days,
        send_hour=row.send_hour,
        unaccented_vietnamese=row.unaccented_vietnamese,
    )


def message_template_current(kind: str, language: str) -> MessageTemplate | None:
    """The newest saved version for (kind, language), or None when the default was never changed."""
    return MessageTemplate.objects.filter(kind=kind, language=language).order_by("-version").first()
