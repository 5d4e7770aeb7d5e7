"""Reads behind the SMS text pages and API: versions with who saved them, and the editor's sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from notifications import texts
from notifications.rendering import text_render, workspace_texts
from notifications.sms_text import sms_measure
from notifications.templates_models import MessageTemplate
from tenants.db import workspace_business_date, workspace_currency

# A made-up member for the sample, named as members of each language's cooperatives are.
SAMPLE_MEMBER_NAMES = {"bn": "রহিমা বেগম", "vi": "Nguyễn Thị Hương", "th": "สมศรี ใจดี", "en": "Rahima Begum"}
SAMPLE_MEMBER_NUMBER = "BR1-000123"


@dataclass(frozen=True)
class TemplateVersionView:
    row: MessageTemplate
    saved_by: str


def _with_names(rows: Sequence[MessageTemplate]) -> list[TemplateVersionView]:
    users = get_user_model().objects.in_bulk({row.saved_by_id for row in rows if row.saved_by_id})
    return [
        TemplateVersionView(row, users[row.saved_by_id].get_username() if row.saved_by_id in users else "—")
        for row in rows
    ]


def template_history(kind: str, language: str, *, limit: int = 100) -> list[TemplateVersionView]:
    """The saved versions, newest first, with who saved each."""
    rows = list(MessageTemplate.objects.filter(kind=kind, language=language).order_by("-version")[:limit])
    return _with_names(rows)


def templates_overview() -> dict[tuple[str, str], TemplateVersionView]:
    """The newest version of every (kind, language) that has one."""
    rows = list(MessageTemplate.objects.order_by("kind", "language", "-version").distinct("kind", "language"))
    return {(view.row.kind, view.row.language): view for view in _with_names(rows)}


@dataclass(frozen=True)
class MessagePreview:
    """The text as a member would receive it, with sample values, and what it costs."""

    text: str  # the template rendered (the default when none was typed)
    is_default: bool
    problems: tuple[str, ...]
    body: str
    encoding: str
    units: int
    segments: int
    cost: str  # the price of its segments, with its currency


def message_preview(kind: str, language: str, typed: str) -> MessagePreview:
    """``typed`` (empty: the default text) rendered with sample values in the current workspace."""
    text = typed.replace("\r\n", "\n").strip() or texts.default_template(kind, language)
    problems = tuple(texts.template_problems(kind, text))
    currency = workspace_currency()
    workspace = workspace_texts()
    if problems:
        cost = texts.sms_cost_text(0, currency, language, native_digits=workspace.native_digits)
        return MessagePreview(text, not typed.strip(), problems, "", "", 0, 0, cost)
    rendered = text_render(
        kind=kind,
        language=language,
        text=text,
        context=texts.sample_context(kind, currency, today=workspace_business_date()),
        workspace=workspace,
        member_name=SAMPLE_MEMBER_NAMES.get(language, SAMPLE_MEMBER_NAMES["en"]),
        member_number=SAMPLE_MEMBER_NUMBER,
    )
    return MessagePreview(
        text=text,
        is_default=not typed.strip(),
        problems=(),
        body=rendered.body,
        encoding=rendered.encoding,
        units=sms_measure(rendered.body).units,
        segments=rendered.segments,
        cost=texts.sms_cost_text(
            rendered.segments, currency, language, native_digits=workspace.native_digits
        ),
    )
