"""The workspace API of the SMS texts and reminder settings.

``/api/v1/notifications/message-templates/``: every kind per language (default or own version);
``…/<kind>/<language>/``: the text, its placeholders, a sample as sent (encoding, segments, cost)
and its versions; PUT saves a new version (an empty body restores the default). A text that cannot
be used: 400 ``message_template_invalid`` with the reasons under ``fields.body``.
``/api/v1/notifications/reminder-settings/``: GET and PUT the reminder days, hour and spelling.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core_banking.staff.api_base import StaffApiView
from core_banking.staff.roles import Capability
from notifications import template_services, texts
from notifications.templates_models import MAX_REMINDER_DAYS, notification_settings_current
from notifications.texts_selectors import (
    TemplateVersionView,
    message_preview,
    template_history,
    templates_overview,
)


class MessageTemplateInputSerializer(serializers.Serializer):
    body = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="The text with {{ placeholders }}; empty: the default.",
    )


class MessageTemplateVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    default = serializers.BooleanField(help_text="An empty text: the default.")
    saved_by = serializers.CharField()
    saved_at = serializers.DateTimeField()
    body = serializers.CharField()


class MessageTemplateSummarySerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=f"One of: {', '.join(texts.KINDS)}.")
    language = serializers.CharField()
    custom = serializers.BooleanField(help_text="False: the default text.")
    version = serializers.IntegerField(allow_null=True)
    saved_by = serializers.CharField(allow_null=True)
    saved_at = serializers.DateTimeField(allow_null=True)


class MessageSampleSerializer(serializers.Serializer):
    body = serializers.CharField(help_text="The text as a member receives it, with sample values.")
    encoding = serializers.CharField(help_text="GSM-7 or UCS-2.")
    units = serializers.IntegerField(help_text="GSM-7 septets or UCS-2 (UTF-16) code units.")
    segments = serializers.IntegerField()
    cost = serializers.CharField(help_text="The price of its segments, with the currency.")


class MessageTemplateSerializer(MessageTemplateSummarySerializer):
    body = serializers.CharField(help_text="The text in use (the default's when not changed).")
    default_body = serializers.CharField()
    placeholders = serializers.ListField(child=serializers.CharField())
    sample = MessageSampleSerializer()
    history = MessageTemplateVersionSerializer(many=True, help_text="Newest first.")


class NotificationSettingsSerializer(serializers.Serializer):
    upcoming_reminder_days = serializers.IntegerField(min_value=0, max_value=MAX_REMINDER_DAYS)
    overdue_reminder_days = serializers.IntegerField(min_value=0, max_value=MAX_REMINDER_DAYS)
    send_hour = serializers.IntegerField(min_value=0, max_value=23)
    unaccented_vietnamese = serializers.BooleanField()


def _summary(kind: str, language: str, current: TemplateVersionView | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "language": language,
        "custom": current is not None and not current.row.is_default,
        "version": current.row.version if current is not None else None,
        "saved_by": current.saved_by if current is not None else None,
        "saved_at": current.row.saved_at if current is not None else None,
    }


def _state(kind: str, language: str) -> dict[str, Any]:
    history = template_history(kind, language)
    current = history[0] if history else None
    saved = current.row.body if current is not None else ""
    preview = message_preview(kind, language, saved)
    return {
        **_summary(kind, language, current),
        "body": saved or texts.default_template(kind, language),
        "default_body": texts.default_template(kind, language),
        "placeholders": list(texts.PLACEHOLDERS[kind]),
        "sample": {
            "body": preview.body,
            "encoding": preview.encoding,
            "units": preview.units,
            "segments": preview.segments,
            "cost": preview.cost,
        },
        "history": [
            {
                "version": view.row.version,
                "default": view.row.is_default,
                "saved_by": view.saved_by,
                "saved_at": view.row.saved_at,
                "body": view.row.body,
            }
            for view in history
        ],
    }


def _key(kind: str, language: str) -> None:
    if kind not in texts.KINDS or language not in texts.LANGUAGES:
        raise Http404


_KIND_PATH = OpenApiParameter(
    "kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=[str(k) for k in texts.KINDS]
)
_LANGUAGE_PATH = OpenApiParameter(
    "language", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(texts.LANGUAGES)
)


class MessageTemplateListView(StaffApiView):
    """Each SMS kind per language: the default text or the cooperative's own."""

    @extend_schema(
        operation_id="notifications_message_templates_list",
        responses=MessageTemplateSummarySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        current = templates_overview()
        found = [
            _summary(str(kind), language, current.get((str(kind), language)))
            for kind in texts.KINDS
            for language in texts.LANGUAGES
        ]
        return Response(MessageTemplateSummarySerializer(found, many=True).data)


class MessageTemplateView(StaffApiView):
    @extend_schema(
        operation_id="notifications_message_templates_retrieve",
        parameters=[_KIND_PATH, _LANGUAGE_PATH],
        responses=MessageTemplateSerializer,
        summary="An SMS text in one language, its placeholders, a sample as sent and its versions",
    )
    def get(self, request: Request, kind: str, language: str) -> Response:
        _key(kind, language)
        return Response(MessageTemplateSerializer(_state(kind, language)).data)

    @extend_schema(
        operation_id="notifications_message_templates_update",
        parameters=[_KIND_PATH, _LANGUAGE_PATH],
        request=MessageTemplateInputSerializer,
        responses=MessageTemplateSerializer,
        summary=(
            "Save the text as a new version (messages rendered after use it); an empty body restores "
            "the default. Refused text: 400 message_template_invalid with the reasons under body"
        ),
    )
    def put(self, request: Request, kind: str, language: str) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        _key(kind, language)
        given = MessageTemplateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        template_services.message_template_save(
            actor=request.user, kind=kind, language=language, body=given.validated_data["body"]
        )
        return Response(MessageTemplateSerializer(_state(kind, language)).data)


class NotificationSettingsView(StaffApiView):
    @extend_schema(
        operation_id="notifications_reminder_settings_retrieve", responses=NotificationSettingsSerializer
    )
    def get(self, request: Request) -> Response:
        return Response(NotificationSettingsSerializer(asdict(notification_settings_current())).data)

    @extend_schema(
        operation_id="notifications_reminder_settings_update",
        request=NotificationSettingsSerializer,
        responses=NotificationSettingsSerializer,
    )
    def put(self, request: Request) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        given = NotificationSettingsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        template_services.notification_settings_save(actor=request.user, **given.validated_data)
        return Response(NotificationSettingsSerializer(asdict(notification_settings_current())).data)
