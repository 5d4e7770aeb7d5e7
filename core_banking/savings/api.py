"""REST API of savings (under /api/v1/savings/): products, accounts, movements, transfers, liens.

Amounts travel as decimal strings in major units ("1250.75"; VND without decimals). Every
money movement carries the client's ``idempotency_key``: sent again, it returns the first
result. Staff limited to some branches see only those branches' accounts (404 otherwise).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core_banking.api_fields import IdempotencyKeyField, MoneyField
from core_banking.cash.services import cash_account_for_posting
from core_banking.members.models import Member
from core_banking.savings import interest_posting, selectors, services
from core_banking.savings.models import (
    DayCount,
    InterestMethod,
    InterestPeriod,
    RoundingMode,
    SavingsAccount,
    SavingsKind,
    SavingsProduct,
    SavingsTransaction,
)
from core_banking.staff.api_base import StaffApiView
from core_banking.staff.roles import Capability


class RateSerializer(serializers.Serializer):
    effective_from = serializers.DateField()
    annual_rate = serializers.DecimalField(max_digits=7, decimal_places=4, min_value=0)


class ProductSerializer(serializers.ModelSerializer):
    minimum_balance = MoneyField(source="minimum_balance_minor", positive=False)
    maximum_withdrawal = MoneyField(source="maximum_withdrawal_minor", allow_null=True, read_only=True)
    minimum_balance_for_interest = MoneyField(
        source="minimum_balance_for_interest_minor", positive=False, read_only=True
    )
    installment = MoneyField(source="installment_minor", allow_null=True, read_only=True)
    control_account = serializers.CharField(source="control_account.code", read_only=True)
    rates = RateSerializer(many=True, read_only=True)

    class Meta:
        model = SavingsProduct
        fields = [
            "id", "code", "name", "kind", "control_account", "minimum_balance", "withdrawals_allowed",
            "maximum_withdrawal", "withdrawals_per_month", "interest_method", "day_count", "accrual_period",
            "posting_period", "rounding", "minimum_balance_for_interest", "term_months", "installment",
            "premature_rate_reduction", "is_active", "rates",
        ]  # fmt: skip


class ProductCreateSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^[A-Za-z0-9-]{1,12}$")
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=SavingsKind.choices)
    annual_rate = serializers.DecimalField(max_digits=7, decimal_places=4, min_value=0)
    rate_effective_from = serializers.DateField()
    minimum_balance = MoneyField(positive=False, required=False, default=0)
    withdrawals_allowed = serializers.BooleanField(default=True)
    withdrawals_per_month = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    interest_method = serializers.ChoiceField(
        choices=InterestMethod.choices, default=InterestMethod.DAILY_BALANCE
    )
    term_months = serializers.IntegerField(min_value=1, max_value=600, required=False, allow_null=True)


class ProductUpdateSerializer(serializers.Serializer):
    """A product's changeable settings; what is not sent stays. The code and kind never change."""

    name = serializers.CharField(max_length=120, required=False)
    minimum_balance = MoneyField(positive=False, required=False)
    withdrawals_allowed = serializers.BooleanField(required=False)
    maximum_withdrawal = MoneyField(required=False, allow_null=True, help_text="null: no limit.")
    withdrawals_per_month = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="null: no limit."
    )
    interest_method = serializers.ChoiceField(choices=InterestMethod.choices, required=False)
    day_count = serializers.ChoiceField(choices=DayCount.choices, required=False)
    accrual_period = serializers.ChoiceField(choices=InterestPeriod.choices, required=False)
    posting_period = serializers.ChoiceField(choices=InterestPeriod.choices, required=False)
    rounding = serializers.ChoiceField(choices=RoundingMode.choices, required=False)
    minimum_balance_for_interest = MoneyField(positive=False, required=False)
    term_months = serializers.IntegerField(min_value=1, max_value=600, required=False, allow_null=True)
    installment = MoneyField(required=False, allow_null=True)
    premature_rate_reduction = serializers.DecimalField(
        max_digits=7, decimal_places=4, min_value=0, required=False
    )
    is_active = serializers.BooleanField(required=False, help_text="false: closed to new accounts.")

    FIXED = ("code", "kind", "control_account")
    # API names to the service's (model) names.
    RENAMED = {
        "minimum_balance": "minimum_balance_minor",
        "maximum_withdrawal": "maximum_withdrawal_minor",
        "minimum_balance_for_interest": "minimum_balance_for_interest_minor",
        "installment": "installment_minor",
    }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        fixed = [name for name in self.FIXED if name in self.initial_data]
        if fixed:
            raise serializers.ValidationError({name: ["Cannot be changed."] for name in fixed})
        return attrs

    def service_changes(self) -> dict[str, Any]:
        return {self.RENAMED.get(name, name): value for name, value in self.validated_data.items()}


class AccountSerializer(serializers.ModelSerializer):
    member_number = serializers.CharField(source="member.number", read_only=True)
    member_name = serializers.CharField(source="member.full_name", read_only=True)
    product = serializers.CharField(source="product.code", read_only=True)
    branch = serializers.CharField(source="branch.code", read_only=True)
    balance = MoneyField(source="balance_minor", positive=False, read_only=True)
    lien = MoneyField(source="lien_minor", positive=False, read_only=True)
    available = MoneyField(source="available_minor", positive=False, read_only=True)

    class Meta:
        model = SavingsAccount
        fields = [
            "id", "number", "member", "member_number", "member_name", "product", "branch", "opened_on",
            "status", "balance", "lien", "available", "maturity_date",
        ]  # fmt: skip


class AccountOpenSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    product = serializers.IntegerField()
    opened_on = serializers.DateField()


class TransactionSerializer(serializers.ModelSerializer):
    amount = MoneyField(source="amount_minor", positive=False, read_only=True)
    balance_after = MoneyField(source="balance_after_minor", positive=False, read_only=True)

    class Meta:
        model = SavingsTransaction
        fields = [
            "id",
            "kind",
            "amount",
            "balance_after",
            "value_date",
            "entry",
            "idempotency_key",
            "channel",
            "memo",
        ]


class MovementSerializer(serializers.Serializer):
    amount = MoneyField()
    value_date = serializers.DateField(required=False, help_text="Default: the cooperative's business date.")
    idempotency_key = IdempotencyKeyField()
    memo = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class TransferSerializer(MovementSerializer):
    from_account = serializers.IntegerField()
    to_account = serializers.IntegerField()


class TransferResultSerializer(serializers.Serializer):
    taken = TransactionSerializer()
    added = TransactionSerializer()


class LienSerializer(serializers.Serializer):
    amount = MoneyField()
    reason = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=80, required=False, default="", allow_blank=True)


class LienResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = MoneyField(source="amount_minor", read_only=True)
    reason = serializers.CharField()
    reference = serializers.CharField()
    released_at = serializers.DateTimeField(allow_null=True)


class StatementSerializer(serializers.Serializer):
    account = AccountSerializer()
    start = serializers.DateField()
    end = serializers.DateField()
    opening = MoneyField(source="opening_minor", positive=False)
    deposits = MoneyField(source="deposits_minor", positive=False)
    withdrawals = MoneyField(source="withdrawals_minor", positive=False)
    closing = MoneyField(source="closing_minor", positive=False)
    transactions = TransactionSerializer(many=True)


def _business_date() -> dt.date:
    from django.db import connection

    return connection.tenant.business_date()  # type: ignore[attr-defined]


class ProductListView(StaffApiView):
    @extend_schema(operation_id="savings_products_list", responses=ProductSerializer(many=True))
    def get(self, request: Request) -> Response:
        products = SavingsProduct.objects.select_related("control_account").prefetch_related("rates")
        return Response(ProductSerializer(products, many=True).data)

    @extend_schema(
        operation_id="savings_products_create", request=ProductCreateSerializer, responses=ProductSerializer
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        given = ProductCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        product = services.savings_product_create(
            actor=request.user,
            code=data.pop("code"),
            name=data.pop("name"),
            kind=data.pop("kind"),
            annual_rate=data.pop("annual_rate"),
            rate_effective_from=data.pop("rate_effective_from"),
            minimum_balance_minor=data.pop("minimum_balance"),
            **data,
        )
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailView(StaffApiView):
    @extend_schema(operation_id="savings_products_retrieve", responses=ProductSerializer)
    def get(self, request: Request, product_id: int) -> Response:
        return Response(ProductSerializer(_product(product_id)).data)

    @extend_schema(
        operation_id="savings_products_update",
        request=ProductUpdateSerializer,
        responses=ProductSerializer,
        summary="Change a product's settings (not its code, kind or control account)",
        description="Fields not sent stay as they are. New interest settings apply from the interest "
        "job's next run, to the accounts already open too; the change is audited.",
    )
    def patch(self, request: Request, product_id: int) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        product = _product(product_id)
        given = ProductUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.savings_product_update(actor=request.user, product_id=product.pk, **given.service_changes())
        return Response(ProductSerializer(_product(product_id)).data)


def _product(product_id: int) -> SavingsProduct:
    product = (
        SavingsProduct.objects.select_related("control_account")
        .prefetch_related("rates")
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise Http404
    return product


class ProductRatesView(StaffApiView):
    @extend_schema(
        operation_id="savings_products_rates_schedule",
        request=RateSerializer,
        responses=ProductSerializer,
        summary="Set the product's rate from a date on (a future date schedules a change)",
    )
    def post(self, request: Request, product_id: int) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        product = SavingsProduct.objects.filter(pk=product_id).first()
        if product is None:
            raise Http404
        given = RateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.savings_rate_schedule(actor=request.user, product=product, **given.validated_data)
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)


class AccountListView(StaffApiView):
    @extend_schema(
        operation_id="savings_accounts_list",
        parameters=[OpenApiParameter("member", OpenApiTypes.INT)],
        responses=AccountSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        accounts = selectors.accounts_visible(visible_branch_ids=self.visible_branch_ids())
        member = request.query_params.get("member")
        if member:
            accounts = accounts.filter(member_id=int(member) if member.isdigit() else -1)
        return Response(AccountSerializer(accounts[:500], many=True).data)

    @extend_schema(
        operation_id="savings_accounts_open", request=AccountOpenSerializer, responses=AccountSerializer
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.POST_TRANSACTIONS)
        given = AccountOpenSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        member = Member.objects.filter(pk=given.validated_data["member"]).first()
        product = SavingsProduct.objects.filter(pk=given.validated_data["product"]).first()
        if member is None or product is None:
            raise Http404
        self.require_branch(member.branch_id)
        account = services.savings_account_open(
            actor=request.user, member=member, product=product, opened_on=given.validated_data["opened_on"]
        )
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountView(StaffApiView):
    def account(self, account_id: int) -> SavingsAccount:
        account = (
            selectors.accounts_visible(visible_branch_ids=self.visible_branch_ids())
            .filter(pk=account_id)
            .first()
        )
        if account is None:
            raise Http404
        return account


class AccountDetailView(AccountView):
    @extend_schema(operation_id="savings_accounts_retrieve", responses=AccountSerializer)
    def get(self, request: Request, account_id: int) -> Response:
        return Response(AccountSerializer(self.account(account_id)).data)


class AccountStatementView(AccountView):
    @extend_schema(
        operation_id="savings_accounts_statement",
        parameters=[OpenApiParameter("start", OpenApiTypes.DATE), OpenApiParameter("end", OpenApiTypes.DATE)],
        responses=StatementSerializer,
    )
    def get(self, request: Request, account_id: int) -> Response:
        account = self.account(account_id)
        period = _PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        end = period.validated_data.get("end") or _business_date()
        start = period.validated_data.get("start") or end.replace(day=1)
        return Response(
            StatementSerializer(selectors.account_statement(account=account, start=start, end=end)).data
        )


class _PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": ["The start is after the end."]})
        return attrs


class _MovementView(AccountView):
    def movement(self, request: Request, account_id: int) -> tuple[SavingsAccount, dict[str, Any]]:
        self.require(Capability.POST_TRANSACTIONS)
        account = self.account(account_id)
        given = MovementSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        data.setdefault("value_date", _business_date())
        return account, data


class DepositView(_MovementView):
    @extend_schema(
        operation_id="savings_deposit", request=MovementSerializer, responses=TransactionSerializer
    )
    def post(self, request: Request, account_id: int) -> Response:
        account, data = self.movement(request, account_id)
        movement = services.savings_deposit(
            account_id=account.pk,
            amount_minor=data["amount"],
            value_date=data["value_date"],
            idempotency_key=data["idempotency_key"],
            memo=data["memo"],
            actor=request.user,
            counter_account_code=cash_account_for_posting(actor=request.user, branch=account.branch),
        )
        return Response(TransactionSerializer(movement).data, status=status.HTTP_201_CREATED)


class WithdrawalView(_MovementView):
    @extend_schema(
        operation_id="savings_withdraw", request=MovementSerializer, responses=TransactionSerializer
    )
    def post(self, request: Request, account_id: int) -> Response:
        account, data = self.movement(request, account_id)
        movement = services.savings_withdraw(
            account_id=account.pk,
            amount_minor=data["amount"],
            value_date=data["value_date"],
            idempotency_key=data["idempotency_key"],
            memo=data["memo"],
            actor=request.user,
            counter_account_code=cash_account_for_posting(actor=request.user, branch=account.branch),
        )
        return Response(TransactionSerializer(movement).data, status=status.HTTP_201_CREATED)


class TransferView(AccountView):
    @extend_schema(
        operation_id="savings_transfer", request=TransferSerializer, responses=TransferResultSerializer
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.POST_TRANSACTIONS)
        given = TransferSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        source, target = self.account(data["from_account"]), self.account(data["to_account"])
        moved = services.savings_transfer(
            from_account_id=source.pk,
            to_account_id=target.pk,
            amount_minor=data["amount"],
            value_date=data.get("value_date") or _business_date(),
            idempotency_key=data["idempotency_key"],
            memo=data["memo"],
            actor=request.user,
        )
        return Response(TransferResultSerializer(moved).data, status=status.HTTP_201_CREATED)


class LienView(AccountView):
    @extend_schema(operation_id="savings_lien_place", request=LienSerializer, responses=LienResultSerializer)
    def post(self, request: Request, account_id: int) -> Response:
        self.require(Capability.POST_TRANSACTIONS)
        account = self.account(account_id)
        given = LienSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        lien = services.lien_place(
            actor=request.user,
            account_id=account.pk,
            amount_minor=given.validated_data["amount"],
            reason=given.validated_data["reason"],
            reference=given.validated_data["reference"],
        )
        return Response(LienResultSerializer(lien).data, status=status.HTTP_201_CREATED)


class LienReleaseView(AccountView):
    @extend_schema(operation_id="savings_lien_release", request=None, responses=LienResultSerializer)
    def post(self, request: Request, lien_id: int) -> Response:
        self.require(Capability.POST_TRANSACTIONS)
        from core_banking.savings.models import Lien

        lien = Lien.objects.select_related("account").filter(pk=lien_id).first()
        if lien is None:
            raise Http404
        self.require_branch(lien.account.branch_id)
        return Response(LienResultSerializer(services.lien_release(actor=request.user, lien_id=lien.pk)).data)


class CloseEarlySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    idempotency_key = IdempotencyKeyField()
    value_date = serializers.DateField(required=False, help_text="Default: the cooperative's business date.")


class CloseEarlyResultSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    closed_on = serializers.DateField(source="posting.period_end")
    principal = MoneyField(source="principal_minor", positive=False)
    interest = MoneyField(source="interest_minor", positive=False)
    penalty = MoneyField(
        source="penalty_minor",
        positive=False,
        help_text="Interest the contract rate would have paid for the same months, less what was paid.",
    )
    paid_out = MoneyField(source="paid_out_minor", positive=False)
    interest_transaction = TransactionSerializer(allow_null=True)
    payout_transaction = TransactionSerializer(allow_null=True)


class CloseEarlyView(AccountView):
    """Close a fixed or recurring deposit before maturity; the cash leaves the caller's till."""

    @extend_schema(
        operation_id="savings_deposit_close_early",
        request=CloseEarlySerializer,
        responses=CloseEarlyResultSerializer,
        summary="Close a fixed or recurring deposit before maturity and pay it out in cash",
        description="Interest for the completed months at the reduced rate is credited, then the whole "
        "balance is paid out from the caller's till (the branch's cash when they hold none there) and "
        "the account closes. The same idempotency key again answers with the first closure.",
    )
    def post(self, request: Request, account_id: int) -> Response:
        self.require(Capability.POST_TRANSACTIONS)
        account = self.account(account_id)
        given = CloseEarlySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        closure = interest_posting.savings_deposit_close_early(
            account_id=account.pk,
            on=data.get("value_date") or _business_date(),
            idempotency_key=data["idempotency_key"],
            actor=request.user,
            reason=data["reason"],
            counter_account_code=cash_account_for_posting(actor=request.user, branch=account.branch),
        )
        return Response(CloseEarlyResultSerializer(closure).data, status=status.HTTP_201_CREATED)


class CorrectionSerializer(serializers.Serializer):
    corrected_amount = MoneyField(positive=False, help_text="The right amount; 0 cancels the transaction.")
    reason = serializers.CharField(max_length=200)
    value_date = serializers.DateField(required=False, help_text="Default: the cooperative's business date.")
    idempotency_key = IdempotencyKeyField()


class CorrectionResultSerializer(serializers.Serializer):
    movement = TransactionSerializer()
    reversal = serializers.IntegerField(source="reversal.pk")
    corrected = serializers.IntegerField(source="corrected.pk", allow_null=True, default=None)


class CorrectionView(AccountView):
    """Correct a deposit or withdrawal (accountants): reversal plus corrected entry, never an edit."""

    @extend_schema(
        operation_id="savings_transaction_correct",
        request=CorrectionSerializer,
        responses=CorrectionResultSerializer,
    )
    def post(self, request: Request, transaction_id: int) -> Response:
        self.require(Capability.POST_JOURNAL)
        original = SavingsTransaction.objects.filter(pk=transaction_id).only("account_id").first()
        if original is None:
            raise Http404
        self.account(original.account_id)  # 404 outside the caller's branches
        given = CorrectionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        correction = services.savings_correct(
            transaction_id=transaction_id,
            corrected_amount_minor=data["corrected_amount"],
            reason=data["reason"],
            idempotency_key=data["idempotency_key"],
            value_date=data.get("value_date") or _business_date(),
            actor=request.user,
        )
        return Response(CorrectionResultSerializer(correction).data, status=status.HTTP_201_CREATED)
