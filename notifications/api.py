"""REST API of outgoing messages (under /api/v1/): the ones needing attention, and resending dead ones.

Reading needs ``Capability.MANAGE_MEMBERS`` or ``Capability.POST_TRANSACTIONS``; resending
``Capability.MANAGE_MEMBERS``. A message of a member outside the user's branches answers 404,
exactly as an id that does not exist.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.members.serializers import ErrorSerializer
from core_banking.staff.api_base import StaffApiView
from core_banking.staff.models import StaffProfile
from notifications import selectors
from notifications.delivery import outbox_message_resend, sms_opt_out_record, sms_opt_out_remove
from notifications.models import OutboxMessage, SmsOptOut
from notifications.selectors import RESEND_CAPABILITY, VIEW_CAPABILITIES, visible_messages

TAGS = ["notifications"]


class MessagePagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class OutboxMessageSerializer(serializers.ModelSerializer[OutboxMessage]):
    class Meta:
        model = OutboxMessage
        fields = [
            "id", "kind", "source_ref", "member_id", "phone", "language", "status", "attempts",
            "next_attempt_at", "last_error", "provider", "provider_message_id", "sent_at",
            "delivery_status", "delivery_error_code", "body", "encoding", "segments", "dead_at",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class MessagesApiView(StaffApiView):
    def viewer(self) -> StaffProfile:
        profile = self.profile()
        if not any(profile.can(capability) for capability in VIEW_CAPABILITIES):
            raise BusinessRuleViolation(ErrorCode.PERMISSION_DENIED, "Your roles do not allow this.")
        return profile


class MessagesNeedingAttentionView(MessagesApiView):
    @extend_schema(
        tags=TAGS,
        operation_id="messages_needing_attention",
        summary="Messages that were not sent or not delivered",
        description="Dead (failed after retries), no_recipient (no valid phone number), opted_out, "
        "and undelivered (taken by the gateway, not delivered); newest first.",
        parameters=[
            OpenApiParameter(
                "status", str, enum=["dead", "no_recipient", "opted_out", "undelivered"], required=False
            )
        ],
        responses={200: OutboxMessageSerializer(many=True), 403: OpenApiResponse(ErrorSerializer)},
    )
    def get(self, request: Request) -> Response:
        profile = self.viewer()
        queryset = visible_messages(
            profile, selectors.messages_needing_attention(status=request.query_params.get("status", ""))
        )
        paginator = MessagePagination()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        return paginator.get_paginated_response(OutboxMessageSerializer(page, many=True).data)


class MessageResendView(MessagesApiView):
    @extend_schema(
        tags=TAGS,
        operation_id="message_resend",
        summary="Send a dead message again",
        description="The stored text goes out again with a fresh round of attempts; audited. Only a "
        "dead message can be resent (message_not_dead otherwise).",
        request=None,
        responses={
            200: OutboxMessageSerializer,
            403: OpenApiResponse(ErrorSerializer),
            404: OpenApiResponse(ErrorSerializer),
            409: OpenApiResponse(ErrorSerializer, description="message_not_dead"),
        },
    )
    def post(self, request: Request, message_id: int) -> Response:
        profile = self.require(RESEND_CAPABILITY)
        if not visible_messages(profile, OutboxMessage.objects.filter(pk=message_id)).exists():
            raise Http404
        message = outbox_message_resend(actor=request.user, message_id=message_id)
        return Response(OutboxMessageSerializer(message).data)


class SmsOptOutSerializer(serializers.ModelSerializer[SmsOptOut]):
    class Meta:
        model = SmsOptOut
        fields = ["phone", "reason", "created_at"]
        read_only_fields = ["created_at"]


class SmsOptOutRequestSerializer(serializers.Serializer[dict[str, str]]):
    phone = serializers.CharField(max_length=32)
    reason = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class SmsOptOutsView(MessagesApiView):
    @extend_schema(
        tags=TAGS,
        operation_id="sms_opt_outs_list",
        summary="Phone numbers that receive no messages",
        responses={200: SmsOptOutSerializer(many=True), 403: OpenApiResponse(ErrorSerializer)},
    )
    def get(self, request: Request) -> Response:
        self.viewer()
        paginator = MessagePagination()
        page = paginator.paginate_queryset(SmsOptOut.objects.order_by("phone"), request, view=self) or []
        return paginator.get_paginated_response(SmsOptOutSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="sms_opt_out_record",
        summary="Record that a number asked for no more messages (audited)",
        request=SmsOptOutRequestSerializer,
        responses={
            201: SmsOptOutSerializer,
            400: OpenApiResponse(ErrorSerializer, description="phone_invalid"),
            403: OpenApiResponse(ErrorSerializer),
        },
    )
    def post(self, request: Request) -> Response:
        self.require(RESEND_CAPABILITY)
        serializer = SmsOptOutRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        opt_out = sms_opt_out_record(
            actor=request.user,
            phone=serializer.validated_data["phone"],
            reason=serializer.validated_data["reason"],
        )
        return Response(SmsOptOutSerializer(opt_out).data, status=status.HTTP_201_CREATED)


class SmsOptOutView(MessagesApiView):
    @extend_schema(
        tags=TAGS,
        operation_id="sms_opt_out_remove",
        summary="Let messages go to a number again (audited)",
        responses={204: None, 403: OpenApiResponse(ErrorSerializer), 404: OpenApiResponse(ErrorSerializer)},
    )
    def delete(self, request: Request, phone: str) -> Response:
        self.require(RESEND_CAPABILITY)
        if not sms_opt_out_remove(actor=request.user, phone=phone):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)
