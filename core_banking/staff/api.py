"""Workspace API about the signed-in staff user."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.staff.roles import is_group_leader
from tenants.db import current_cooperative


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    capabilities = serializers.ListField(child=serializers.CharField())
    approver_level = serializers.IntegerField(allow_null=True)
    home_branch = serializers.CharField()
    visible_branch_ids = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    cooperative = serializers.CharField()
    currency = serializers.CharField()
    business_date = serializers.DateField()


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        profile = getattr(request.user, "staff_profile", None)
        if profile is None:
            raise BusinessRuleViolation(
                ErrorCode.PERMISSION_DENIED, "Only a cooperative's staff have a profile."
            )
        tenant = current_cooperative()
        if tenant is None:
            raise BusinessRuleViolation(ErrorCode.NOT_FOUND, "No cooperative here.")
        data = {
            "username": request.user.get_username(),
            "roles": profile.roles,
            "capabilities": sorted(profile.capabilities),
            "approver_level": profile.approver_level,
            "home_branch": profile.home_branch.code,
            "visible_branch_ids": profile.visible_branch_ids(),
            "cooperative": tenant.slug,
            "currency": tenant.currency,
            "business_date": tenant.business_date(),
        }
        return Response(MeSerializer(data).data)


class StaffTokenView(ObtainAuthToken):
    """An API token for a user name and password. Not for a group leader: their phone has a device
    token, and an API token would reach the staff APIs the sign-in is kept from."""

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = getattr(serializer.validated_data["user"], "staff_profile", None)
        if profile is not None and is_group_leader(profile.roles):
            raise BusinessRuleViolation(
                ErrorCode.PERMISSION_DENIED, "A group leader's phone signs in with its device token."
            )
        return super().post(request, *args, **kwargs)
