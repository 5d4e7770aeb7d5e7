"""REST API of cash custody (under /api/v1/cash/): holders and balances, handovers, day closes.

Amounts travel as decimal strings in major units. A holder is named by its branch and user id
(no user: the branch vault). Branches outside the caller's are answered with 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core_banking.api_fields import IdempotencyKeyField, MoneyField
from core_banking.cash import selectors, services
from core_banking.cash.denominations import denominations_for
from core_banking.cash.models import CashDayClose, CashHandover, HandoverStatus
from core_banking.organisation.models import Branch
from core_banking.staff.api_base import StaffApiView
from tenants.db import workspace_business_date, workspace_currency


class CashHolderSerializer(serializers.Serializer):
    branch = serializers.CharField(source="branch.code")
    branch_id = serializers.IntegerField(source="branch.pk")
    kind = serializers.CharField()
    user = serializers.IntegerField(source="user_id", allow_null=True)
    name = serializers.CharField(source="label")
    account = serializers.CharField(source="account_code")
    balance = MoneyField(source="balance_minor", positive=False)
    pending_in = MoneyField(source="pending_in_minor", positive=False)
    pending_out = MoneyField(source="pending_out_minor", positive=False)
    last_closed = serializers.DateField(allow_null=True)


class CashBranchRequestSerializer(serializers.Serializer):
    branch_id = serializers.IntegerField()


class CashMyAccountSerializer(serializers.Serializer):
    branch_id = serializers.IntegerField()
    account = serializers.CharField(allow_null=True)


class CashHolderRefSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id", allow_null=True)
    name = serializers.SerializerMethodField()
    account = serializers.CharField(source="account.code")

    def get_name(self, holder: Any) -> str:
        return selectors.holder_label(holder)


class CashHandoverSerializer(serializers.ModelSerializer):
    branch = serializers.CharField(source="branch.code", read_only=True)
    giver = CashHolderRefSerializer(read_only=True)
    receiver = CashHolderRefSerializer(read_only=True)
    amount = MoneyField(source="amount_minor", read_only=True)
    sent_by = serializers.CharField(source="sent_by.get_username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.get_username", read_only=True, allow_null=True)

    class Meta:
        model = CashHandover
        fields = [
            "id", "branch", "giver", "receiver", "amount", "value_date", "memo", "status", "idempotency_key",
            "sent_by", "sent_at", "decided_by", "decided_at", "reason", "entry",
        ]  # fmt: skip


class CashHandoverSendSerializer(serializers.Serializer):
    branch = serializers.IntegerField()
    from_vault = serializers.BooleanField(default=False, help_text="Hand over the vault's cash (keepers).")
    to_user = serializers.IntegerField(required=False, allow_null=True, default=None)
    to_vault = serializers.BooleanField(default=False)
    amount = MoneyField()
    value_date = serializers.DateField(required=False, help_text="Default: the cooperative's business date.")
    idempotency_key = IdempotencyKeyField()
    memo = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["to_vault"] == (attrs["to_user"] is not None):
            raise serializers.ValidationError({"to_user": ["Give either to_user or to_vault."]})
        return attrs


class CashReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class CashDenominationSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    face_value = serializers.CharField(source="label")
    value = MoneyField(source="value_minor")


class CashDayCloseSerializer(serializers.ModelSerializer):
    branch = serializers.CharField(source="holder.branch.code", read_only=True)
    holder = CashHolderRefSerializer(read_only=True)
    counted = MoneyField(source="counted_minor", read_only=True, positive=False)
    book = MoneyField(source="book_minor", read_only=True, positive=False)
    difference = MoneyField(source="difference_minor", read_only=True, positive=False)
    closed_by = serializers.CharField(source="closed_by.get_username", read_only=True)

    class Meta:
        model = CashDayClose
        fields = [
            "id", "branch", "holder", "business_date", "counts", "counted", "book", "difference", "entry",
            "note", "idempotency_key", "closed_by", "closed_at",
        ]  # fmt: skip


class CashDayCloseRequestSerializer(serializers.Serializer):
    branch = serializers.IntegerField()
    vault = serializers.BooleanField(default=False, help_text="Close the vault (keepers).")
    user = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Whose till; default: your own."
    )
    business_date = serializers.DateField(required=False, help_text="Default: the business date.")
    counts = serializers.DictField(
        child=serializers.IntegerField(min_value=0), help_text='Pieces by denomination key, {"note-500": 3}.'
    )
    idempotency_key = IdempotencyKeyField()
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


def _user(user_id: int) -> Any:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404
    return user


class _CashView(StaffApiView):
    def branch(self, branch_id: int) -> Branch:
        self.require_branch(branch_id)
        branch = Branch.objects.filter(pk=branch_id).first()
        if branch is None:
            raise Http404
        return branch

    def handover(self, handover_id: int) -> CashHandover:
        handover = selectors.handover_for_staff(
            handover_id=handover_id, visible_branch_ids=self.visible_branch_ids()
        )
        if handover is None:
            raise Http404
        return handover


class HolderListView(_CashView):
    @extend_schema(
        operation_id="cash_holders_list",
        parameters=[OpenApiParameter("branch", OpenApiTypes.INT)],
        responses=CashHolderSerializer(many=True),
        summary="Each holder of cash in your branches with its balance now",
    )
    def get(self, request: Request) -> Response:
        branch = request.query_params.get("branch")
        branch_id = None
        if branch:
            branch_id = self.branch(int(branch) if branch.isdigit() else -1).pk
        rows = selectors.holder_rows(visible_branch_ids=self.visible_branch_ids(), branch_id=branch_id)
        return Response(CashHolderSerializer(rows, many=True).data)


class MyAccountView(_CashView):
    @extend_schema(
        operation_id="cash_my_account",
        parameters=[OpenApiParameter("branch", OpenApiTypes.INT, required=True)],
        responses=CashMyAccountSerializer,
        summary="The ledger account of the cash you hold at a branch (null: none yet)",
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("branch", "")
        branch = self.branch(int(raw) if raw.isdigit() else -1)
        code = selectors.holder_account_code_for(user=request.user, branch=branch)
        return Response({"branch_id": branch.pk, "account": code})

    @extend_schema(
        operation_id="cash_my_account_open",
        request=CashBranchRequestSerializer,
        responses=CashMyAccountSerializer,
        summary="Open (or find) the ledger account of the cash you hold at a branch",
    )
    def post(self, request: Request) -> Response:
        given = CashBranchRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        branch = self.branch(given.validated_data["branch_id"])
        account = services.cash_holder_account(actor=request.user, branch=branch, user=request.user)
        return Response({"branch_id": branch.pk, "account": account.code}, status=status.HTTP_201_CREATED)


class HandoverListView(_CashView):
    @extend_schema(
        operation_id="cash_handovers_list",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(HandoverStatus.values)),
            OpenApiParameter("awaiting_me", OpenApiTypes.BOOL),
        ],
        responses=CashHandoverSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        if request.query_params.get("awaiting_me") in {"1", "true"}:
            handovers = selectors.handovers_awaiting(self.profile())
        else:
            handovers = selectors.handovers_visible(visible_branch_ids=self.visible_branch_ids())
        wanted = request.query_params.get("status")
        if wanted:
            handovers = handovers.filter(status=wanted)
        return Response(CashHandoverSerializer(handovers[:200], many=True).data)

    @extend_schema(
        operation_id="cash_handovers_send",
        request=CashHandoverSendSerializer,
        responses=CashHandoverSerializer,
        summary="Hand cash to another holder; nothing is posted until the receiver confirms",
    )
    def post(self, request: Request) -> Response:
        given = CashHandoverSendSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        branch = self.branch(data["branch"])
        handover = services.cash_handover_send(
            actor=request.user,
            branch=branch,
            giver_user=None if data["from_vault"] else request.user,
            receiver_user=None if data["to_vault"] else _user(data["to_user"]),
            amount_minor=data["amount"],
            value_date=data.get("value_date"),
            idempotency_key=data["idempotency_key"],
            memo=data["memo"],
        )
        return Response(CashHandoverSerializer(handover).data, status=status.HTTP_201_CREATED)


class HandoverDetailView(_CashView):
    @extend_schema(operation_id="cash_handovers_retrieve", responses=CashHandoverSerializer)
    def get(self, request: Request, handover_id: int) -> Response:
        return Response(CashHandoverSerializer(self.handover(handover_id)).data)


class HandoverConfirmView(_CashView):
    @extend_schema(
        operation_id="cash_handovers_confirm",
        request=None,
        responses=CashHandoverSerializer,
        summary="The receiver confirms: one entry moves the cash (again: the same entry)",
    )
    def post(self, request: Request, handover_id: int) -> Response:
        handover = self.handover(handover_id)
        done = services.cash_handover_confirm(actor=request.user, handover_id=handover.pk)
        return Response(CashHandoverSerializer(done).data)


class _HandoverEndView(_CashView):
    """Ends a pending handover without posting: the receiver rejects, the sender cancels."""

    end = staticmethod(services.cash_handover_reject)

    def post(self, request: Request, handover_id: int) -> Response:
        handover = self.handover(handover_id)
        given = CashReasonSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        done = self.end(actor=request.user, handover_id=handover.pk, reason=given.validated_data["reason"])
        return Response(CashHandoverSerializer(done).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="cash_handovers_reject", request=CashReasonSerializer, responses=CashHandoverSerializer
    )
)
class HandoverRejectView(_HandoverEndView):
    end = staticmethod(services.cash_handover_reject)


@extend_schema_view(
    post=extend_schema(
        operation_id="cash_handovers_cancel", request=CashReasonSerializer, responses=CashHandoverSerializer
    )
)
class HandoverCancelView(_HandoverEndView):
    end = staticmethod(services.cash_handover_cancel)


class DenominationListView(_CashView):
    @extend_schema(
        operation_id="cash_denominations",
        responses=CashDenominationSerializer(many=True),
        summary="The notes and coins a day close counts, in the workspace's currency",
    )
    def get(self, request: Request) -> Response:
        from babel.numbers import get_currency_precision

        money = workspace_currency()
        table = denominations_for(money, exponent=get_currency_precision(money))
        return Response(CashDenominationSerializer(table, many=True).data)


class DayCloseListView(_CashView):
    @extend_schema(
        operation_id="cash_day_closes_list",
        parameters=[
            OpenApiParameter("branch", OpenApiTypes.INT),
            OpenApiParameter("date", OpenApiTypes.DATE),
        ],
        responses=CashDayCloseSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        closes = selectors.day_closes_visible(visible_branch_ids=self.visible_branch_ids())
        branch = request.query_params.get("branch")
        if branch:
            closes = closes.filter(holder__branch_id=int(branch) if branch.isdigit() else -1)
        day = request.query_params.get("date")
        if day:
            try:
                closes = closes.filter(business_date=dt.date.fromisoformat(day))
            except ValueError as error:
                raise serializers.ValidationError({"date": ["A date as YYYY-MM-DD."]}) from error
        return Response(CashDayCloseSerializer(closes[:200], many=True).data)

    @extend_schema(
        operation_id="cash_day_closes_create",
        request=CashDayCloseRequestSerializer,
        responses=CashDayCloseSerializer,
        summary="Count a holder's cash by denomination and post any shortage or surplus",
    )
    def post(self, request: Request) -> Response:
        given = CashDayCloseRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        branch = self.branch(data["branch"])
        user = None
        if not data["vault"]:
            user = request.user if data["user"] is None else _user(data["user"])
        close = services.cash_day_close(
            actor=request.user,
            branch=branch,
            user=user,
            business_date=data.get("business_date") or workspace_business_date(),
            counts=data["counts"],
            idempotency_key=data["idempotency_key"],
            note=data["note"],
        )
        return Response(CashDayCloseSerializer(close).data, status=status.HTTP_201_CREATED)
