"""E-mail to staff about messages that could not be sent: the staff side of the second channel.

Members get their texts by e-mail too (``email_channel``); staff get told by e-mail when the
relay has given up on messages (dead letters) that they may send again. Once a day at most, per
staff user: an hourly beat task (``notifications.tasks.staff_alerts``) sends each staff user who
may resend (``RESEND_CAPABILITY``), has an e-mail address and is active, one e-mail naming how many
of the messages *they can see* (their branches' members) are dead, with a link to the page where
they resend them. The day is the workspace's business date, so "once a day" follows its clock.

The ``StaffAlert`` row and the e-mail are one transaction: a mail server that refuses rolls the
row back and the next run tries again. A mail server that took the e-mail and a commit that then
failed would send it twice the same day; one more reminder is the better failure than none.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from core_banking.staff.models import StaffProfile
from notifications.models import OutboxMessage, OutboxStatus, StaffAlert, StaffAlertKind
from notifications.relay import workspace_may_send
from notifications.selectors import RESEND_CAPABILITY, visible_messages
from tenants.db import current_cooperative, workspace_business_date, workspace_language

logger = structlog.get_logger(__name__)

# How many dead messages the e-mail lists by name; the page has the rest.
LISTED = 10


@dataclass
class AlertReport:
    sent: int = 0
    already_today: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "already_today": self.already_today, "failed": self.failed}


def _recipients() -> list[StaffProfile]:
    profiles = (
        StaffProfile.objects.select_related("user")
        .filter(user__is_active=True)
        .exclude(user__email="")
        .order_by("user_id")
    )
    return [profile for profile in profiles if profile.can(RESEND_CAPABILITY)]


def _attention_url() -> str:
    from tenants.services import workspace_url

    cooperative = current_cooperative()
    path = reverse("notifications:attention") + "?status=dead"
    return workspace_url(cooperative).rstrip("/") + path if cooperative else path


def staff_dead_letter_alerts_send() -> AlertReport:
    """E-mail each staff user who may resend dead messages they can see, once a workspace day."""
    report = AlertReport()
    if not workspace_may_send():
        return report
    day = workspace_business_date()
    dead = OutboxMessage.objects.filter(status=OutboxStatus.DEAD)
    if not dead.exists():
        return report
    url = _attention_url()
    for profile in _recipients():
        user = profile.user
        if StaffAlert.objects.filter(user=user, kind=StaffAlertKind.DEAD_LETTERS, day=day).exists():
            report.already_today += 1
            continue
        theirs = visible_messages(profile, dead).order_by("-dead_at", "-id")
        count = theirs.count()
        if count == 0:
            continue
        listed = list(theirs[:LISTED])
        try:
            with transaction.atomic():
                StaffAlert.objects.create(
                    user=user,
                    kind=StaffAlertKind.DEAD_LETTERS,
                    day=day,
                    count=count,
                    email=user.email,
                    sent_at=timezone.now(),
                )
                _send(user.email, user.language or workspace_language(), count, listed, url)
        except IntegrityError:
            report.already_today += 1  # another run sent it a moment ago
        except (smtplib.SMTPException, OSError):
            logger.warning("staff_alert_mail_refused", user_id=user.pk, exc_info=True)
            report.failed += 1
        else:
            report.sent += 1
    return report


def _send(address: str, language: str, count: int, listed: list[OutboxMessage], url: str) -> None:
    cooperative = current_cooperative()
    context = {
        "cooperative": cooperative.name if cooperative else "",
        "count": count,
        "messages": listed,
        "more": count - len(listed),
        "url": url,
    }
    with translation.override(language):
        subject = render_to_string("notifications/email/dead_letters_subject.txt", context).strip()
        body = render_to_string("notifications/email/dead_letters.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
