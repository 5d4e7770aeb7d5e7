"""REST API of share capital and member exit (under /api/v1/).

Amounts travel as decimal strings in major units ("100.00"; VND without decimals); numbers of
shares are whole numbers. Reading needs a staff profile in this workspace. Changing the share
settings needs ``Capability.MANAGE_ORGANISATION``; a purchase ``Capability.POST_TRANSACTIONS``; an
exit ``Capability.MANAGE_MEMBERS``. A member outside the user's branches answers 404, exactly as
an id that does not exist. Read-only roles are refused by ``ReadOnlyRoleMiddleware``
(read_only_role). Every money movement carries the client's ``idempotency_key``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.cash.services import cash_account_for_posting
from core_banking.members.models import Member
from core_banking.members.serializers import ErrorSerializer
from core_banking.money import from_minor
from core_banking.shares import selectors, services
from core_banking.shares.serializers import (
    ExitPreviewSerializer,
    ExitRequestSerializer,
    ExitSettlementSerializer,
    PurchaseResultSerializer,
    PurchaseSerializer,
    SharePositionSerializer,
    ShareSettingsSerializer,
    ShareTransactionSerializer,
    position_data,
)
from core_banking.staff.api_base import StaffApiView
from core_banking.staff.roles import Capability
from tenants.db import current_cooperative, workspace_currency

ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer,
        description="validation_error, amount_invalid, shares_above_maximum, shares_below_minimum, "
        "member_exited: see error.code and error.fields.",
    ),
    401: OpenApiResponse(ErrorSerializer, description="not_authenticated (no or unknown credentials)."),
    403: OpenApiResponse(ErrorSerializer, description="permission_denied or read_only_role."),
    404: OpenApiResponse(ErrorSerializer, description="No such member here, or not in your branches."),
    409: OpenApiResponse(
        ErrorSerializer,
        description="exit_refused (reasons per blocker in error.fields), idempotency_key_reused, "
        "period_closed, insufficient_balance.",
    ),
}
TAGS = ["shares"]
READ_ERRORS = {401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404]}


class HistoryPages(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


def _business_date() -> dt.date:
    cooperative = current_cooperative()
    if cooperative is None:
        raise BusinessRuleViolation(ErrorCode.NOT_FOUND, "No cooperative here.")
    return cooperative.business_date()


class SharesApiView(StaffApiView):
    """A staff API view that finds members within the caller's branches."""

    def member(self, member_id: int) -> Member:
        try:
            return selectors.member_for_staff(
                member_id=member_id, visible_branch_ids=self.visible_branch_ids()
            )
        except Member.DoesNotExist as exc:
            raise Http404 from exc

    @staticmethod
    def position(member: Member) -> dict[str, Any]:
        return position_data(
            selectors.share_position(member=member),
            member_number=member.number,
            status=member.status,
            currency=workspace_currency(),
        )


def _settings_data() -> dict[str, Any]:
    current = selectors.share_settings_current()
    return {
        "nominal_value_minor": current.nominal_value_minor,
        "minimum_shares": current.minimum_shares,
        "maximum_shares": current.maximum_shares,
        "currency": workspace_currency(),
        "updated_at": current.updated_at,
    }


def _in_api_terms(violation: BusinessRuleViolation, *, nominal_value_minor: int) -> BusinessRuleViolation:
    """The service names the share value in minor units; the API calls it ``nominal_value``."""
    if "nominal_value_minor" not in violation.fields:
        return violation
    fields = {name: list(found) for name, found in violation.fields.items() if name != "nominal_value_minor"}
    if violation.code == ErrorCode.SHARE_VALUE_LOCKED:
        held = from_minor(nominal_value_minor, workspace_currency())
        fields["nominal_value"] = [f"Stays {held} while shares are held."]
    else:
        fields["nominal_value"] = list(violation.fields["nominal_value_minor"])
    return BusinessRuleViolation(violation.code, violation.message, fields=fields)


class ShareSettingsView(SharesApiView):
    @extend_schema(
        tags=TAGS,
        operation_id="share_settings_retrieve",
        summary="The cooperative's share terms",
        responses={200: ShareSettingsSerializer, 401: ERRORS[401], 403: ERRORS[403]},
    )
    def get(self, request: Request) -> Response:
        return Response(ShareSettingsSerializer(_settings_data()).data)

    @extend_schema(
        tags=TAGS,
        operation_id="share_settings_update",
        summary="Change the share terms (the value of a share is fixed while shares are held)",
        description="Fields not sent stay as they are. share_value_locked (400) while members hold "
        "shares and nominal_value changes.",
        request=ShareSettingsSerializer,
        responses={200: ShareSettingsSerializer, 400: ERRORS[400], 401: ERRORS[401], 403: ERRORS[403]},
    )
    def patch(self, request: Request) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        serializer = ShareSettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        current = _settings_data()
        values = {**current, **serializer.validated_data}
        try:
            services.share_settings_update(
                actor=request.user,
                nominal_value_minor=values["nominal_value_minor"],
                minimum_shares=values["minimum_shares"],
                maximum_shares=values["maximum_shares"],
            )
        except BusinessRuleViolation as violation:
            raise _in_api_terms(violation, nominal_value_minor=current["nominal_value_minor"]) from violation
        return Response(ShareSettingsSerializer(_settings_data()).data)


class MemberSharesView(SharesApiView):
    @extend_schema(
        tags=TAGS,
        operation_id="member_shares_retrieve",
        summary="A member's share holding",
        responses={200: SharePositionSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, member_id: int) -> Response:
        return Response(SharePositionSerializer(self.position(self.member(member_id))).data)


class MemberShareTransactionsView(SharesApiView):
    pagination_class = HistoryPages

    @extend_schema(
        tags=TAGS,
        operation_id="member_share_transactions_list",
        summary="A member's share movements, oldest first",
        responses={200: ShareTransactionSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, member_id: int) -> Response:
        history = selectors.share_history(member=self.member(member_id))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(history, request, view=self)
        return paginator.get_paginated_response(ShareTransactionSerializer(page, many=True).data)


class SharePurchaseView(SharesApiView):
    @extend_schema(
        tags=TAGS,
        operation_id="member_share_purchase",
        summary="Buy shares for a member (cash taken by the caller at the member's branch)",
        description="The amount is the number of shares times the value of one share. The cash lands "
        "in the caller's own till where they may hold cash at the member's branch, in the branch's "
        "cash otherwise. The same idempotency key with the same content answers with the first "
        "purchase and posts nothing more; with other content it is refused (idempotency_key_reused).",
        request=PurchaseSerializer,
        responses={201: PurchaseResultSerializer, **ERRORS},
    )
    def post(self, request: Request, member_id: int) -> Response:
        self.require(Capability.POST_TRANSACTIONS)
        member = self.member(member_id)
        serializer = PurchaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        movement = services.share_purchase(
            member_id=member.pk,
            shares=data["shares"],
            value_date=data.get("value_date") or _business_date(),
            idempotency_key=data["idempotency_key"],
            actor=request.user,
            channel=data["channel"],
            memo=data["memo"],
            cash_account_code=cash_account_for_posting(actor=request.user, branch=member.branch),
        )
        member.refresh_from_db(fields=["status"])
        body = {"transaction": movement, "account": self.position(member)}
        return Response(PurchaseResultSerializer(body).data, status=status.HTTP_201_CREATED)


class MemberExitView(SharesApiView):
    @extend_schema(
        tags=TAGS,
        operation_id="member_exit_preview",
        summary="What blocks a member's exit, and what it would pay out",
        responses={200: ExitPreviewSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, member_id: int) -> Response:
        preview = selectors.exit_preview(member=self.member(member_id))
        return Response(ExitPreviewSerializer(preview).data)

    @extend_schema(
        tags=TAGS,
        operation_id="member_exit",
        summary="A member leaves: shares and savings paid out, accounts closed, status exited",
        description="The cash leaves the caller's own till where they may hold cash at the member's "
        "branch, the branch's cash otherwise. Refused with exit_refused (409) while an exit blocker "
        "answers; error.fields holds the reasons per blocker. The same idempotency key again answers "
        "with the first settlement.",
        request=ExitRequestSerializer,
        responses={201: ExitSettlementSerializer, **ERRORS},
    )
    def post(self, request: Request, member_id: int) -> Response:
        self.require(Capability.MANAGE_MEMBERS)
        member = self.member(member_id)
        serializer = ExitRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        settlement = services.member_exit(
            member_id=member.pk,
            exit_date=data.get("exit_date") or _business_date(),
            idempotency_key=data["idempotency_key"],
            actor=request.user,
            reason=data["reason"],
            cash_account_code=cash_account_for_posting(actor=request.user, branch=member.branch),
        )
        return Response(ExitSettlementSerializer(settlement).data, status=status.HTTP_201_CREATED)
