"""An outbox row as the SMS a member receives: its text, encoding and number of segments.

Called by the relay just before sending (inside the row's workspace, so ``connection.tenant`` is the
cooperative) and by the template editor's preview. The text is the workspace's own template for the
row's kind and language when it saved one, else the shipped default (``notifications.texts``); a
saved template that no longer passes the checks (a row written past the service) is sent as the
default rather than not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection
from jinja2 import TemplateError

from notifications import texts
from notifications.sms_text import sms_measure
from notifications.templates_models import message_template_current, notification_settings_current

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedMessage:
    body: str
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int


@dataclass(frozen=True)
class WorkspaceTexts:
    """What of the workspace shapes its messages."""

    cooperative_name: str = ""
    native_digits: bool = False
    default_language: str = "en"
    unaccented_vietnamese: bool = False


def workspace_texts() -> WorkspaceTexts:
    tenant: Any = getattr(connection, "tenant", None)
    chosen = notification_settings_current()
    return WorkspaceTexts(
        cooperative_name=str(getattr(tenant, "name", "") or ""),
        native_digits=bool(getattr(tenant, "use_native_digits", False)),
        default_language=str(getattr(tenant, "default_language", "") or "en"),
        unaccented_vietnamese=chosen.unaccented_vietnamese,
    )


def message_language(language: str, workspace: WorkspaceTexts) -> str:
    """The language a message is written in: the member's, else the cooperative's, else English."""
    for candidate in (language, workspace.default_language):
        if candidate in texts.LANGUAGES:
            return candidate
    return "en"


def template_text(kind: str, language: str) -> str:
    """The workspace's saved template of ``kind`` in ``language``, else the shipped default."""
    saved = message_template_current(kind, language)
    if saved is not None and saved.body:
        if not texts.template_problems(kind, saved.body):
            return saved.body
        logger.warning("SMS template %s/%s not usable: sent as the default", kind, language)
    return texts.default_template(kind, language)


def _member_facts(member_id: int | None) -> tuple[str, str]:
    if member_id is None:
        return "", ""
    from core_banking.members.models import Member

    row = Member.objects.filter(pk=member_id).values_list("full_name", "number").first()
    return (str(row[0]), str(row[1])) if row else ("", "")


def _uses_member(text: str) -> bool:
    return "member_name" in text or "member_number" in text


def text_render(
    *,
    kind: str,
    language: str,
    text: str,
    context: dict[str, Any],
    workspace: WorkspaceTexts,
    member_name: str = "",
    member_number: str = "",
) -> RenderedMessage:
    """``text`` (a template of ``kind``) filled from ``context`` and measured."""
    values = texts.message_values(
        context,
        language,
        native_digits=workspace.native_digits,
        cooperative=workspace.cooperative_name,
        member_name=member_name,
        member_number=member_number or str(context.get("member") or ""),
    )
    try:
        body = texts.template_fill(kind, text, values)
    except TemplateError:
        logger.warning("SMS template %s/%s failed to render: sent as the default", kind, language)
        body = texts.template_fill(kind, texts.default_template(kind, language), values)
    body = texts.body_finish(body, language, unaccented_vietnamese=workspace.unaccented_vietnamese)
    measure = sms_measure(body)
    return RenderedMessage(body=body, encoding=measure.encoding, segments=measure.segments)


def outbox_message_render(message: Any) -> RenderedMessage:
    """The SMS for an outbox row (``notifications.models.OutboxMessage``), in the current workspace."""
    workspace = workspace_texts()
    language = message_language(str(message.language or ""), workspace)
    text = template_text(message.kind, language)
    member_name = member_number = ""
    if _uses_member(text):
        member_name, member_number = _member_facts(message.member_id)
    return text_render(
        kind=message.kind,
        language=language,
        text=text,
        context=dict(message.context or {}),
        workspace=workspace,
        member_name=member_name,
        member_number=member_number,
    )
