"""Field collection API: register a device, revoke it, sync its records (docs/field-sync.md)."""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core_banking.staff.api_base import StaffApiView
from core_banking.staff.roles import Capability
from field import services
from field.auth import DeviceTokenAuthentication
from field.models import FieldDevice, RecordKind

# The answer to a malformed item (never stored); the other answers are services.Answer.
INVALID = "invalid"


class DeviceRegisterSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")


class DeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="label")
    user = serializers.IntegerField(source="user_id")
    registered_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class RegisteredDeviceSerializer(DeviceSerializer):
    token = serializers.CharField(help_text="Shown once; send it as `Authorization: Device <token>`.")


class DeviceRegisterView(StaffApiView):
    @extend_schema(
        operation_id="field_devices_register",
        request=DeviceRegisterSerializer,
        responses={201: RegisteredDeviceSerializer},
        summary="Register this phone to the signed-in collector; the token is shown only now",
    )
    def post(self, request: Request) -> Response:
        given = DeviceRegisterSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        device, token = services.field_device_register(actor=request.user, label=given.validated_data["name"])
        body = {**DeviceSerializer(device).data, "token": token}
        return Response(body, status=status.HTTP_201_CREATED)


class DeviceRevokeView(StaffApiView):
    @extend_schema(
        operation_id="field_devices_revoke",
        request=None,
        responses={200: DeviceSerializer},
        summary="Revoke a device: every later sync with its token is refused",
    )
    def post(self, request: Request, device_id: int) -> Response:
        device = services.field_device_revoke(actor=request.user, device_id=device_id)
        return Response(DeviceSerializer(device).data)


class SyncItemSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField()
    device_sequence = serializers.IntegerField(min_value=0)
    device_time = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    loan = serializers.IntegerField(min_value=1)
    amount_minor = serializers.IntegerField(min_value=1)
    value_date = serializers.DateField()
    paid_by_member = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class SyncSerializer(serializers.Serializer):
    # Each item is validated on its own: one malformed item is answered ``invalid``, the rest synced.
    items = serializers.ListField(
        child=serializers.DictField(), allow_empty=False, max_length=services.MAX_BATCH
    )


class ItemAnswerSerializer(serializers.Serializer):
    client_uuid = serializers.CharField()
    status = serializers.ChoiceField(choices=[*services.ANSWER_HTTP, INVALID])
    http_status = serializers.IntegerField(help_text="The status this item would have alone.")
    record_status = serializers.CharField(help_text="The stored record's status (empty on conflict).")
    reason_code = serializers.CharField()
    reason = serializers.CharField()
    loan_transaction = serializers.IntegerField(allow_null=True)
    entry = serializers.IntegerField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())
    field_errors = serializers.DictField(required=False, help_text="Per field messages of an invalid item.")


class SyncAnswerSerializer(serializers.Serializer):
    items = ItemAnswerSerializer(many=True)


class SyncView(StaffApiView):
    authentication_classes = [DeviceTokenAuthentication]

    @extend_schema(
        operation_id="field_sync",
        request=SyncSerializer,
        responses={200: SyncAnswerSerializer},
        summary="Upload a batch of field records; answered item by item",
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.COLLECT_IN_FIELD)
        device = cast(FieldDevice, request.auth)  # DeviceTokenAuthentication sets it
        given = SyncSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        answers: list[dict[str, Any] | None] = []
        items: list[services.SyncItem] = []
        for raw in given.validated_data["items"]:
            item = SyncItemSerializer(data=raw)
            if item.is_valid():
                items.append(_item(item.validated_data))
                answers.append(None)
            else:
                answers.append(_invalid(raw, item.errors))
        synced = iter(services.field_sync(device=device, items=items) if items else [])
        body = {"items": [answer if answer is not None else _answered(next(synced)) for answer in answers]}
        return Response(SyncAnswerSerializer(body).data)


def _answered(answer: services.ItemAnswer) -> dict[str, Any]:
    return {**vars(answer), "http_status": answer.http_status}


def _invalid(raw: dict[str, Any], errors: Any) -> dict[str, Any]:
    return {
        "client_uuid": str(raw.get("client_uuid", "")),
        "status": INVALID,
        "http_status": status.HTTP_400_BAD_REQUEST,
        "record_status": "",
        "reason_code": "validation_error",
        "reason": _("Some fields are not valid."),
        "loan_transaction": None,
        "entry": None,
        "flags": [],
        "field_errors": {name: [str(message) for message in messages] for name, messages in errors.items()},
    }


def _item(data: dict[str, Any]) -> services.SyncItem:
    return services.SyncItem(
        client_uuid=data["client_uuid"],
        device_sequence=data["device_sequence"],
        device_time=data["device_time"],
        kind=data["kind"],
        loan_id=data["loan"],
        amount_minor=data["amount_minor"],
        value_date=data["value_date"],
        paid_by_member_id=data["paid_by_member"],
    )
