"""Field collection API: register a device, revoke it, sync its records of every kind (docs/field-sync.md)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.members.identity import (
    NationalIdInvalid,
    PhoneInvalid,
    national_id_normalise,
    phone_normalise,
)
from core_banking.members.services import MESSAGE_LANGUAGES, cooperative_country
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
    """What every item carries; each kind adds its own fields (the subclasses below)."""

    client_uuid = serializers.UUIDField()
    device_sequence = serializers.IntegerField(min_value=0)
    device_time = serializers.DateTimeField()
    # Checked by hand, not a ChoiceField: the schema names one choice set per field name, and
    # "kind" is taken by other apps' choice sets.
    kind = serializers.CharField(
        help_text="instalment, savings_deposit, withdrawal_request, attendance, admission"
    )

    def validate_kind(self, value: str) -> str:
        if value not in RecordKind.values:
            raise serializers.ValidationError(
                _("One of %(kinds)s.") % {"kinds": ", ".join(RecordKind.values)}
            )
        return value

    def payload(self, data: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class InstalmentItemSerializer(SyncItemSerializer):
    loan = serializers.IntegerField(min_value=1)
    amount_minor = serializers.IntegerField(min_value=1)
    value_date = serializers.DateField()
    paid_by_member = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)

    def payload(self, data: dict[str, Any]) -> dict[str, Any]:
        return services.instalment_payload(
            loan_id=data["loan"],
            amount_minor=data["amount_minor"],
            value_date=data["value_date"],
            paid_by_member_id=data["paid_by_member"],
        )


class DepositItemSerializer(SyncItemSerializer):
    account = serializers.IntegerField(min_value=1)
    amount_minor = serializers.IntegerField(min_value=1)
    value_date = serializers.DateField()
    paid_by_member = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)

    def payload(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "account": data["account"],
            "amount_minor": data["amount_minor"],
            "value_date": data["value_date"].isoformat(),
            "paid_by_member": data["paid_by_member"],
        }


class WithdrawalItemSerializer(SyncItemSerializer):
    account = serializers.IntegerField(min_value=1)
    amount_minor = serializers.IntegerField(min_value=1)
    value_date = serializers.DateField()

    def payload(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "account": data["account"],
            "amount_minor": data["amount_minor"],
            "value_date": data["value_date"].isoformat(),
        }


class AttendanceItemSerializer(SyncItemSerializer):
    group = serializers.IntegerField(min_value=1)
    meeting_date = serializers.DateField()
    present = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)
    absent = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        both = set(attrs["present"]) & set(attrs["absent"])
        if both:
            raise serializers.ValidationError(
                {"absent": [_("Marked both present and absent: %(ids)s.") % {"ids": sorted(both)}]}
            )
        return attrs

    def payload(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "group": data["group"],
            "meeting_date": data["meeting_date"].isoformat(),
            "present": list(data["present"]),
            "absent": list(data["absent"]),
        }


class AdmissionItemSerializer(SyncItemSerializer):
    group = serializers.IntegerField(min_value=1)
    full_name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32)
    national_id = serializers.CharField(max_length=40)
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    language = serializers.CharField(help_text="bn, vi, th or en: the language of the member's messages")
    # data:image/jpeg;base64,… of at most 2 MB decoded; checked here, cleaned when approved.
    photo = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    id_scan = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)

    def validate_language(self, value: str) -> str:
        if value not in MESSAGE_LANGUAGES:
            raise serializers.ValidationError(
                _("One of %(languages)s.") % {"languages": ", ".join(MESSAGE_LANGUAGES)}
            )
        return value

    def validate_phone(self, value: str) -> str:
        try:
            phone_normalise(value, cooperative_country())
        except PhoneInvalid as error:
            raise serializers.ValidationError(_("Not a valid phone number.")) from error
        return value

    def validate_national_id(self, value: str) -> str:
        try:
            national_id_normalise(value, cooperative_country())
        except NationalIdInvalid as error:
            raise serializers.ValidationError(
                _("Not a valid national ID here: %(expected)s.") % {"expected": error.expected}
            ) from error
        return value

    def _image(self, value: str) -> str:
        if value:
            try:
                services.admission_image_bytes(value)
            except ValueError as error:
                raise serializers.ValidationError(str(error)) from error
        return value

    def validate_photo(self, value: str) -> str:
        return self._image(value)

    def validate_id_scan(self, value: str) -> str:
        return self._image(value)

    def payload(self, data: dict[str, Any]) -> dict[str, Any]:
        born = data["date_of_birth"]
        return {
            "group": data["group"],
            "full_name": data["full_name"],
            "phone": data["phone"],
            "national_id": data["national_id"],
            "date_of_birth": born.isoformat() if born else None,
            "language": data["language"],
            "photo": data["photo"],
            "id_scan": data["id_scan"],
        }


ITEM_SERIALIZERS: dict[str, type[SyncItemSerializer]] = {
    RecordKind.INSTALMENT: InstalmentItemSerializer,
    RecordKind.SAVINGS_DEPOSIT: DepositItemSerializer,
    RecordKind.WITHDRAWAL_REQUEST: WithdrawalItemSerializer,
    RecordKind.ATTENDANCE: AttendanceItemSerializer,
    RecordKind.ADMISSION: AdmissionItemSerializer,
}


def _item_serializer(raw: dict[str, Any]) -> SyncItemSerializer:
    """The serializer of the item's kind; an unknown kind is answered by the common fields' errors."""
    kind = raw.get("kind")
    serializer_class = ITEM_SERIALIZERS.get(kind if isinstance(kind, str) else "", SyncItemSerializer)
    return serializer_class(data=raw)


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="FieldSyncItem",
        serializers=list(ITEM_SERIALIZERS.values()),
        resource_type_field_name=None,
    )
)
class SyncItemField(serializers.DictField):
    """An item as received: checked on its own by its kind's serializer (``ITEM_SERIALIZERS``)."""


class SyncSerializer(serializers.Serializer):
    # Each item is validated on its own: one malformed item is answered ``invalid``, the rest synced.
    items = serializers.ListField(child=SyncItemField(), allow_empty=False, max_length=services.MAX_BATCH)


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


# A batch with admissions carries their pictures (at most 2 MB each, a third more in base64): the
# sync reads up to this much, more than Django's default for other requests (2.5 MB).
MAX_SYNC_BODY_BYTES = 16 * 1024 * 1024


class SyncJSONParser(BaseParser):
    """JSON read from the request stream with the sync's own size limit.

    Not a ``JSONParser`` subclass on purpose: DRF feeds those ``request.body``, which Django caps at
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for every view.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        if stream is None:
            return {}
        raw = stream.read(MAX_SYNC_BODY_BYTES + 1)
        if len(raw) > MAX_SYNC_BODY_BYTES:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                _("The batch is larger than %(mb)d MB: send fewer items (admissions one or two at a time).")
                % {"mb": MAX_SYNC_BODY_BYTES // (1024 * 1024)},
                fields={"items": [_("Too large.")]},
            )
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(_("The body is not valid JSON.")) from error


class SyncView(StaffApiView):
    authentication_classes = [DeviceTokenAuthentication]
    parser_classes = [SyncJSONParser]

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
        zone = timezone.get_current_timezone()  # once: each look-up goes through a context-local
        for raw in given.validated_data["items"]:
            quick = _instalment_quick(raw, zone)
            if quick is not None:
                items.append(quick)
                answers.append(None)
                continue
            item = _item_serializer(raw)
            if type(item) is not SyncItemSerializer and item.is_valid():
                items.append(_item(item))
                answers.append(None)
            else:
                item.is_valid()
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


def _positive(value: Any, *, minimum: int = 1) -> bool:
    return type(value) is int and value >= minimum


def _instalment_quick(raw: dict[str, Any], zone: dt.tzinfo) -> services.SyncItem | None:
    """A well-formed instalment as a phone sends it, read without the serializer (most of a sync's
    items; the serializer's field machinery costs more than posting them). Anything else (another
    kind, a number sent as text, a naive time, a field missing or wrong) returns None and goes
    through ``InstalmentItemSerializer``, which accepts what it accepts and words the errors; what
    is accepted here the serializer accepts too, with the same values."""
    if raw.get("kind") != RecordKind.INSTALMENT:
        return None
    uuid_text, device_time, value_date = raw.get("client_uuid"), raw.get("device_time"), raw.get("value_date")
    paid_by = raw.get("paid_by_member")
    if not (
        isinstance(uuid_text, str)
        and isinstance(device_time, str)
        and isinstance(value_date, str)
        and len(value_date) == 10
        and _positive(raw.get("device_sequence"), minimum=0)
        and _positive(raw.get("loan"))
        and _positive(raw.get("amount_minor"))
        and (paid_by is None or _positive(paid_by))
    ):
        return None
    try:
        client_uuid = uuid.UUID(uuid_text)
        moment = dt.datetime.fromisoformat(device_time)
        day = dt.date.fromisoformat(value_date)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # the serializer reads a naive time in the workspace's zone
    return services.SyncItem(
        client_uuid=client_uuid,
        device_sequence=raw["device_sequence"],
        device_time=moment.astimezone(zone),
        kind=RecordKind.INSTALMENT,
        payload=services.instalment_payload(
            loan_id=raw["loan"], amount_minor=raw["amount_minor"], value_date=day, paid_by_member_id=paid_by
        ),
    )


def _item(item: SyncItemSerializer) -> services.SyncItem:
    data = item.validated_data
    return services.SyncItem(
        client_uuid=data["client_uuid"],
        device_sequence=data["device_sequence"],
        device_time=data["device_time"],
        kind=data["kind"],
        payload=item.payload(data),
    )
