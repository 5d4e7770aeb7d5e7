"""Authentication of field devices: ``Authorization: Device <token>``.

Tokens are looked up by hash in the workspace's own schema (the workspace comes from the host),
so a token of another cooperative is unknown here, whatever its device id.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication
from rest_framework.request import Request

from control_plane.errors import BusinessRuleViolation, ErrorCode
from field.services import field_device_for_token

KEYWORD = "Device"


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace") != KEYWORD:
            return None
        if len(parts) != 2:
            raise BusinessRuleViolation(ErrorCode.FIELD_DEVICE_TOKEN_INVALID, _("Malformed device token."))
        device = field_device_for_token(parts[1].decode(errors="replace"))
        if device is None or not device.user.is_active:
            raise BusinessRuleViolation(ErrorCode.FIELD_DEVICE_TOKEN_INVALID, _("Unknown device token."))
        if device.revoked_at is not None:
            raise BusinessRuleViolation(ErrorCode.FIELD_DEVICE_REVOKED, _("This device was revoked."))
        return device.user, device

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes device tokens (registered by being defined)."""

    target_class = "field.auth.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <token>`: the token shown once when the device was registered.",
        }
