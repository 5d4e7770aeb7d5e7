"""REST API of lending (under /api/v1/lending/): schedule preview, products, applications, loans,
the wording of loan documents.

Amounts travel as decimal strings in major units ("1250.75"; VND without decimals). Money
movements carry the client's ``idempotency_key``. Staff limited to some branches see only
those branches' applications and loans (404 otherwise).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.api_fields import IdempotencyKeyField, MoneyField
from core_banking.cash.services import cash_account_for_posting
from core_banking.lending import selectors, services
from core_banking.lending import wording as wordings
from core_banking.lending.models import (
    Amortization,
    ApplicationStatus,
    DaysInMonth,
    DaysInYear,
    Decision,
    FeeCollection,
    FeeKind,
    Frequency,
    InterestMethod,
    InterestPeriod,
    LimitBasis,
    Loan,
    LoanApplication,
    LoanInstallment,
    LoanProduct,
    LoanTransaction,
    PenaltyKind,
    PrepaymentStrategy,
    ProductType,
    RepaymentSource,
    Rounding,
)
from core_banking.lending.schedule import TermsError, schedule_generate, schedule_to_json, terms_from_json
from core_banking.members.models import MemberType
from core_banking.staff.api_base import StaffApiView
from core_banking.staff.roles import Capability


def _business_date() -> dt.date:
    from django.db import connection

    return connection.tenant.business_date()  # type: ignore[attr-defined]


# --- Schedule preview ----------------------------------------------------------------------------


class SchedulePreviewView(APIView):
    """The engine's schedule for plain terms, exactly as ``python -m core_banking.lending.schedule``."""

    permission_classes = StaffApiView.permission_classes

    @extend_schema(
        operation_id="lending_schedule_preview",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
        summary="Repayment schedule for the given terms (see docs/lending-schedule.md)",
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise BusinessRuleViolation(ErrorCode.MALFORMED_REQUEST, "Send the terms as a JSON object.")
        try:
            schedule = schedule_generate(terms_from_json(request.data))
        except TermsError as error:
            raise BusinessRuleViolation(
                ErrorCode.SCHEDULE_TERMS_INVALID, "The terms are not valid.", fields=error.errors
            ) from error
        return Response(schedule_to_json(schedule))


# --- Products ------------------------------------------------------------------------------------


class LoanRateSerializer(serializers.Serializer):
    effective_from = serializers.DateField()
    annual_rate = serializers.DecimalField(max_digits=7, decimal_places=4, min_value=0)


class LoanLimitRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    basis = serializers.ChoiceField(choices=LimitBasis.choices)
    factor = serializers.DecimalField(
        max_digits=9, decimal_places=4, min_value=0, required=False, default=Decimal(0)
    )
    amount = MoneyField(source="amount_minor", positive=False, required=False, default=0)
    member_type = serializers.PrimaryKeyRelatedField(
        queryset=MemberType.objects.all(), required=False, allow_null=True, default=None
    )
    minimum_membership_months = serializers.IntegerField(min_value=0, required=False, default=0)


_PRODUCT_MONEY = {
    "minimum_amount": "minimum_amount_minor",
    "maximum_amount": "maximum_amount_minor",
    "installment_multiple": "installment_multiple_minor",
    "fee_flat": "fee_flat_minor",
    "penalty_flat": "penalty_flat_minor",
    "guarantor_minimum_salary": "guarantor_minimum_salary_minor",
    "guarantor_maximum_liability": "guarantor_maximum_liability_minor",
}


class LoanProductSettingsSerializer(serializers.Serializer):
    """A product's settings; on update, what is not sent stays."""

    name = serializers.CharField(max_length=120, required=False)
    minimum_amount = MoneyField(positive=False, required=False)
    maximum_amount = MoneyField(required=False, allow_null=True)
    default_installments = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    maximum_installments = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    maximum_installments_with_deferment = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, allow_null=True
    )
    interest_method = serializers.ChoiceField(choices=InterestMethod.choices, required=False)
    amortization = serializers.ChoiceField(choices=Amortization.choices, required=False)
    interest_period = serializers.ChoiceField(choices=InterestPeriod.choices, required=False)
    days_in_year = serializers.ChoiceField(choices=DaysInYear.choices, required=False)
    days_in_month = serializers.ChoiceField(choices=DaysInMonth.choices, required=False)
    frequency = serializers.ChoiceField(choices=Frequency.choices, required=False)
    repay_every = serializers.IntegerField(min_value=1, max_value=120, required=False)
    rounding = serializers.ChoiceField(choices=Rounding.choices, required=False)
    installment_multiple = MoneyField(required=False, allow_null=True)
    grace_principal = serializers.IntegerField(min_value=0, required=False)
    grace_interest_payment = serializers.IntegerField(min_value=0, required=False)
    interest_free_periods = serializers.IntegerField(min_value=0, required=False)
    follows_group_meetings = serializers.BooleanField(required=False)
    minimum_days_to_first_meeting = serializers.IntegerField(min_value=0, max_value=365, required=False)
    fee_kind = serializers.ChoiceField(choices=[("", "none"), *FeeKind.choices], required=False)
    fee_flat = MoneyField(positive=False, required=False)
    fee_percent = serializers.DecimalField(max_digits=7, decimal_places=4, min_value=0, required=False)
    fee_collection = serializers.ChoiceField(choices=FeeCollection.choices, required=False)
    penalty_kind = serializers.ChoiceField(choices=PenaltyKind.choices, required=False)
    penalty_flat = MoneyField(positive=False, required=False)
    penalty_percent = serializers.DecimalField(max_digits=7, decimal_places=4, min_value=0, required=False)
    penalty_grace_days = serializers.IntegerField(min_value=0, required=False)
    allocation_order = serializers.ListField(child=serializers.CharField(), required=False)
    prepayment_strategy = serializers.ChoiceField(choices=PrepaymentStrategy.choices, required=False)
    minimum_guarantors = serializers.IntegerField(min_value=0, required=False)
    guarantor_member_types = serializers.PrimaryKeyRelatedField(
        queryset=MemberType.objects.all(), many=True, required=False
    )
    maximum_guarantees_per_person = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    guarantor_minimum_salary = MoneyField(positive=False, required=False, allow_null=True)
    guarantor_maximum_liability = MoneyField(positive=False, required=False, allow_null=True)
    share_security_percent = serializers.DecimalField(
        max_digits=7, decimal_places=4, min_value=0, required=False
    )
    deposit_security_percent = serializers.DecimalField(
        max_digits=7, decimal_places=4, min_value=0, required=False
    )
    requires_collateral = serializers.BooleanField(required=False)
    accrues_interest = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)

    def service_settings(self) -> tuple[dict[str, Any], Any]:
        data: dict[str, Any] = dict(self.validated_data)
        types = data.pop("guarantor_member_types", None)
        return {_PRODUCT_MONEY.get(str(name), str(name)): value for name, value in data.items()}, types


class LoanProductCreateSerializer(LoanProductSettingsSerializer):
    code = serializers.RegexField(r"^[A-Za-z0-9_-]{1,20}$")
    name = serializers.CharField(max_length=120)
    product_type = serializers.ChoiceField(choices=ProductType.choices)
    sub_type = serializers.IntegerField(required=False, allow_null=True)
    annual_rate = serializers.DecimalField(max_digits=7, decimal_places=4, min_value=0)
    rate_effective_from = serializers.DateField()
    default_installments = serializers.IntegerField(min_value=1, max_value=1000)
    maximum_installments = serializers.IntegerField(min_value=1, max_value=1000)
    interest_method = serializers.ChoiceField(choices=InterestMethod.choices)
    frequency = serializers.ChoiceField(choices=Frequency.choices)


class LoanProductSerializer(serializers.ModelSerializer):
    receivable_account = serializers.CharField(source="receivable_account.code", read_only=True)
    minimum_amount = MoneyField(source="minimum_amount_minor", positive=False)
    maximum_amount = MoneyField(source="maximum_amount_minor", allow_null=True)
    installment_multiple = MoneyField(source="installment_multiple_minor", allow_null=True)
    fee_flat = MoneyField(source="fee_flat_minor", positive=False)
    penalty_flat = MoneyField(source="penalty_flat_minor", positive=False)
    guarantor_minimum_salary = MoneyField(
        source="guarantor_minimum_salary_minor", positive=False, allow_null=True
    )
    guarantor_maximum_liability = MoneyField(
        source="guarantor_maximum_liability_minor", positive=False, allow_null=True
    )
    rates = LoanRateSerializer(many=True, read_only=True)
    limit_rules = LoanLimitRuleSerializer(many=True, read_only=True)

    class Meta:
        model = LoanProduct
        fields = [
            "id", "code", "name", "product_type", "sub_type", "is_active", "receivable_account",
            "minimum_amount", "maximum_amount", "default_installments", "maximum_installments",
            "maximum_installments_with_deferment", "interest_method", "amortization", "interest_period",
            "days_in_year", "days_in_month", "frequency", "repay_every", "rounding", "installment_multiple",
            "grace_principal", "grace_interest_payment", "interest_free_periods", "follows_group_meetings",
            "minimum_days_to_first_meeting", "fee_kind", "fee_flat", "fee_percent", "fee_collection",
            "penalty_kind", "penalty_flat", "penalty_percent", "penalty_grace_days", "allocation_order",
            "prepayment_strategy", "minimum_guarantors", "guarantor_member_types",
            "maximum_guarantees_per_person", "guarantor_minimum_salary", "guarantor_maximum_liability",
            "share_security_percent", "deposit_security_percent", "requires_collateral", "accrues_interest",
            "rates", "limit_rules",
        ]  # fmt: skip


def _product(product_id: int) -> LoanProduct:
    product = selectors.products().filter(pk=product_id).first()
    if product is None:
        raise Http404
    return product


class ProductListView(StaffApiView):
    @extend_schema(operation_id="lending_products_list", responses=LoanProductSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(LoanProductSerializer(selectors.products(), many=True).data)

    @extend_schema(
        operation_id="lending_products_create",
        request=LoanProductCreateSerializer,
        responses=LoanProductSerializer,
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        given = LoanProductCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        settings, types = given.service_settings()
        sub_type_id = settings.pop("sub_type", None)
        if sub_type_id is not None:
            from core_banking.lending.models import LoanSubType

            settings["sub_type"] = LoanSubType.objects.filter(pk=sub_type_id).first()
            if settings["sub_type"] is None:
                raise BusinessRuleViolation(
                    ErrorCode.VALIDATION_ERROR, "Unknown sub-type.", fields={"sub_type": ["Unknown."]}
                )
        product = services.loan_product_create(
            actor=request.user,
            code=settings.pop("code"),
            name=settings.pop("name"),
            product_type=settings.pop("product_type"),
            annual_rate=settings.pop("annual_rate"),
            rate_effective_from=settings.pop("rate_effective_from"),
            guarantor_member_types=types or (),
            **settings,
        )
        return Response(LoanProductSerializer(_product(product.pk)).data, status=status.HTTP_201_CREATED)


class ProductDetailView(StaffApiView):
    @extend_schema(operation_id="lending_products_retrieve", responses=LoanProductSerializer)
    def get(self, request: Request, product_id: int) -> Response:
        return Response(LoanProductSerializer(_product(product_id)).data)

    @extend_schema(
        operation_id="lending_products_update",
        request=LoanProductSettingsSerializer,
        responses=LoanProductSerializer,
        summary="Change a product's settings; loans already paid out keep their terms",
    )
    def patch(self, request: Request, product_id: int) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        product = _product(product_id)
        fixed = [name for name in ("code", "product_type", "receivable_account") if name in request.data]
        if fixed:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR,
                "Some fields cannot be changed.",
                fields={n: ["Cannot be changed."] for n in fixed},
            )
        given = LoanProductSettingsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        settings, types = given.service_settings()
        services.loan_product_update(
            actor=request.user, product_id=product.pk, guarantor_member_types=types, **settings
        )
        return Response(LoanProductSerializer(_product(product_id)).data)


class ProductRatesView(StaffApiView):
    @extend_schema(
        operation_id="lending_products_rates_schedule",
        request=LoanRateSerializer,
        responses=LoanProductSerializer,
        summary="Set the product's rate from a date on (a future date schedules a change)",
    )
    def post(self, request: Request, product_id: int) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        product = _product(product_id)
        given = LoanRateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.loan_rate_schedule(actor=request.user, product=product, **given.validated_data)
        return Response(LoanProductSerializer(_product(product_id)).data, status=status.HTTP_201_CREATED)


class ProductLimitRulesView(StaffApiView):
    @extend_schema(
        operation_id="lending_products_limit_rules_add",
        request=LoanLimitRuleSerializer,
        responses=LoanProductSerializer,
    )
    def post(self, request: Request, product_id: int) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        product = _product(product_id)
        given = LoanLimitRuleSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.loan_limit_rule_add(actor=request.user, product=product, **given.validated_data)
        return Response(LoanProductSerializer(_product(product_id)).data, status=status.HTTP_201_CREATED)


class LoanSubTypeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    product_type = serializers.ChoiceField(choices=ProductType.choices)
    code = serializers.RegexField(r"^[a-z0-9_]{1,30}$", help_text="Lower-case letters, digits and _.")
    name = serializers.CharField(max_length=120)
    is_active = serializers.BooleanField(read_only=True)


class SubTypeListView(StaffApiView):
    """The purposes within each product type; cooperatives add their own (L1)."""

    @extend_schema(operation_id="lending_sub_types_list", responses=LoanSubTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            LoanSubTypeSerializer(selectors.sub_types().order_by("product_type", "code"), many=True).data
        )

    @extend_schema(
        operation_id="lending_sub_types_create",
        request=LoanSubTypeSerializer,
        responses={201: LoanSubTypeSerializer},
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        given = LoanSubTypeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        created = services.loan_sub_type_create(actor=request.user, **given.validated_data)
        return Response(LoanSubTypeSerializer(created).data, status=status.HTTP_201_CREATED)


class ApprovalLevelSerializer(serializers.Serializer):
    level = serializers.IntegerField(min_value=1, max_value=20)
    required_above = MoneyField(source="required_above_minor", positive=False)


class ApprovalLevelsView(StaffApiView):
    @extend_schema(operation_id="lending_approval_levels_list", responses=ApprovalLevelSerializer(many=True))
    def get(self, request: Request) -> Response:
        from core_banking.lending.models import ApprovalLevel

        return Response(ApprovalLevelSerializer(ApprovalLevel.objects.order_by("level"), many=True).data)

    @extend_schema(
        operation_id="lending_approval_levels_set",
        request=ApprovalLevelSerializer(many=True),
        responses=ApprovalLevelSerializer(many=True),
        summary="Replace the approval ladder",
    )
    def put(self, request: Request) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        given = ApprovalLevelSerializer(data=request.data, many=True)
        given.is_valid(raise_exception=True)
        levels = services.approval_levels_set(
            actor=request.user,
            levels=[(item["level"], item["required_above_minor"]) for item in given.validated_data],
        )
        return Response(ApprovalLevelSerializer(levels, many=True).data)


# --- Applications --------------------------------------------------------------------------------


class LoanGuarantorInputSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    monthly_salary = MoneyField(positive=False, required=False, allow_null=True, default=None)
    liability = MoneyField(required=False, allow_null=True, default=None)


class LoanApplicationInputSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    product = serializers.IntegerField()
    amount = MoneyField()
    installments = serializers.IntegerField(min_value=1, max_value=1000)
    applied_on = serializers.DateField(required=False, help_text="Default: the cooperative's business date.")
    number = serializers.CharField(
        max_length=40, required=False, default="", allow_blank=True, help_text="Empty: automatic."
    )
    sub_type = serializers.IntegerField(required=False, allow_null=True, default=None)
    purpose = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    with_deferment = serializers.BooleanField(required=False, default=False)
    monthly_salary = MoneyField(positive=False, required=False, allow_null=True, default=None)
    collateral_value = MoneyField(positive=False, required=False, default=0)
    collateral_description = serializers.CharField(
        max_length=300, required=False, default="", allow_blank=True
    )
    pledged_savings = serializers.IntegerField(required=False, allow_null=True, default=None)
    refinances = serializers.IntegerField(required=False, allow_null=True, default=None)
    guarantors = LoanGuarantorInputSerializer(many=True, required=False, default=list)


class LoanDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class LoanDecisionOutSerializer(serializers.Serializer):
    level = serializers.IntegerField(allow_null=True)
    decision = serializers.CharField()
    reason = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by_name")
    decided_at = serializers.DateTimeField()


class LoanApplicationSerializer(serializers.ModelSerializer):
    member_number = serializers.CharField(source="member.number", read_only=True)
    member_name = serializers.CharField(source="member.full_name", read_only=True)
    product_code = serializers.CharField(source="product.code", read_only=True)
    branch = serializers.CharField(source="branch.code", read_only=True)
    amount = MoneyField(source="amount_minor", read_only=True)
    monthly_salary = MoneyField(
        source="monthly_salary_minor", positive=False, allow_null=True, read_only=True
    )
    collateral_value = MoneyField(source="collateral_value_minor", positive=False, read_only=True)
    eligibility = serializers.JSONField(source="eligibility_json", read_only=True)
    next_level = serializers.SerializerMethodField()
    decisions = serializers.SerializerMethodField()

    class Meta:
        model = LoanApplication
        fields = [
            "id", "number", "member", "member_number", "member_name", "product", "product_code", "sub_type",
            "branch", "amount", "installments", "with_deferment", "purpose", "monthly_salary",
            "collateral_value", "collateral_description", "pledged_savings", "refinances", "applied_on",
            "status", "annual_rate", "required_levels", "next_level", "eligibility", "return_reasons",
            "decisions",
        ]  # fmt: skip

    def get_next_level(self, application: LoanApplication) -> int | None:
        if application.status != ApplicationStatus.SUBMITTED:
            return None
        return services.applications.next_level(application)

    @extend_schema(responses=LoanDecisionOutSerializer(many=True))
    def get_decisions(self, application: LoanApplication) -> list[dict[str, Any]]:
        return LoanDecisionOutSerializer(selectors.decisions(application), many=True).data  # type: ignore[return-value]


def _application_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "member_id": data["member"],
        "product_id": data["product"],
        "amount_minor": data["amount"],
        "installments": data["installments"],
        "applied_on": data.get("applied_on") or _business_date(),
        "number": data["number"],
        "sub_type_id": data["sub_type"],
        "purpose": data["purpose"],
        "with_deferment": data["with_deferment"],
        "monthly_salary_minor": data["monthly_salary"],
        "collateral_value_minor": data["collateral_value"],
        "collateral_description": data["collateral_description"],
        "pledged_savings_id": data["pledged_savings"],
        "refinances_id": data["refinances"],
        "guarantors": [
            services.GuarantorInput(g["member"], g["monthly_salary"], g["liability"])
            for g in data["guarantors"]
        ],
    }


class ApplicationListView(StaffApiView):
    @extend_schema(
        operation_id="lending_applications_list",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ApplicationStatus.values),
            OpenApiParameter("member", OpenApiTypes.INT),
        ],
        responses=LoanApplicationSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        found = selectors.applications_visible(visible_branch_ids=self.visible_branch_ids())
        if request.query_params.get("status"):
            found = found.filter(status=request.query_params["status"])
        member = request.query_params.get("member", "")
        if member:
            found = found.filter(member_id=int(member) if member.isdigit() else -1)
        return Response(LoanApplicationSerializer(found[:500], many=True).data)

    @extend_schema(
        operation_id="lending_applications_submit",
        request=LoanApplicationInputSerializer,
        responses={201: LoanApplicationSerializer},
        summary="File an application; an ineligible one is refused (422, loan_not_eligible)",
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.APPRAISE_LOANS)
        given = LoanApplicationInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        member = selectors.member_visible(
            member_id=given.validated_data["member"], visible_branch_ids=self.visible_branch_ids()
        )
        applied = services.loan_application_submit(
            actor=request.user, **_application_kwargs({**given.validated_data, "member": member.pk})
        )
        return Response(LoanApplicationSerializer(applied.application).data, status=status.HTTP_201_CREATED)


class EligibilityView(StaffApiView):
    @extend_schema(
        operation_id="lending_eligibility_check",
        request=LoanApplicationInputSerializer,
        responses=OpenApiTypes.OBJECT,
        summary="Check eligibility without filing: every check with its arithmetic, and existing loans",
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.APPRAISE_LOANS)
        given = LoanApplicationInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        member = selectors.member_visible(
            member_id=given.validated_data["member"], visible_branch_ids=self.visible_branch_ids()
        )
        result = selectors.eligibility_preview(member=member, **_application_kwargs(given.validated_data))
        return Response(result.as_json())


class ApplicationView(StaffApiView):
    def application(self, application_id: int) -> LoanApplication:
        found = (
            selectors.applications_visible(visible_branch_ids=self.visible_branch_ids())
            .filter(pk=application_id)
            .first()
        )
        if found is None:
            raise Http404
        return found


class ApplicationDetailView(ApplicationView):
    @extend_schema(operation_id="lending_applications_retrieve", responses=LoanApplicationSerializer)
    def get(self, request: Request, application_id: int) -> Response:
        return Response(LoanApplicationSerializer(self.application(application_id)).data)


class ApplicationDecisionView(ApplicationView):
    @extend_schema(
        operation_id="lending_applications_decide",
        request=LoanDecisionSerializer,
        responses=LoanApplicationSerializer,
        summary="Approve at the next level, reject, or return as incomplete (with reasons)",
    )
    def post(self, request: Request, application_id: int) -> Response:
        self.require(Capability.APPROVE_LOANS)
        application = self.application(application_id)
        given = LoanDecisionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.loan_application_decide(
            actor=request.user, application_id=application.pk, **given.validated_data
        )
        return Response(LoanApplicationSerializer(self.application(application_id)).data)


class LoanDisburseSerializer(serializers.Serializer):
    disbursed_on = serializers.DateField(
        required=False, help_text="Default: the cooperative's business date."
    )
    idempotency_key = IdempotencyKeyField()
    to_savings_account = serializers.IntegerField(required=False, allow_null=True, default=None)
    first_due_date = serializers.DateField(required=False, allow_null=True, default=None)


class LoanInstallmentSerializer(serializers.ModelSerializer):
    principal = MoneyField(source="principal_minor", positive=False)
    interest = MoneyField(source="interest_minor", positive=False)
    fee = MoneyField(source="fee_minor", positive=False)
    penalty = MoneyField(source="penalty_minor", positive=False)
    paid = MoneyField(source="paid_minor", positive=False)
    outstanding = MoneyField(source="outstanding_minor", positive=False)

    class Meta:
        model = LoanInstallment
        fields = [
            "number",
            "period_start",
            "due_date",
            "principal",
            "interest",
            "fee",
            "penalty",
            "paid",
            "outstanding",
            "paid_on",
        ]


class LoanSerializer(serializers.ModelSerializer):
    member_number = serializers.CharField(source="member.number", read_only=True)
    member_name = serializers.CharField(source="member.full_name", read_only=True)
    product_code = serializers.CharField(source="product.code", read_only=True)
    application_number = serializers.CharField(source="application.number", read_only=True)
    branch = serializers.CharField(source="branch.code", read_only=True)
    principal = MoneyField(source="principal_minor")
    principal_outstanding = MoneyField(source="principal_outstanding_minor", positive=False)
    overdue = MoneyField(source="overdue_minor", positive=False)
    installments = LoanInstallmentSerializer(many=True, read_only=True)

    class Meta:
        model = Loan
        fields = [
            "id", "number", "application", "application_number", "member", "member_number", "member_name",
            "product", "product_code", "branch", "principal", "disbursed_on", "status",
            "principal_outstanding", "days_past_due", "overdue", "arrears_as_of", "closed_on", "terms_json",
            "installments",
        ]  # fmt: skip


class ApplicationDisburseView(ApplicationView):
    @extend_schema(
        operation_id="lending_applications_disburse",
        request=LoanDisburseSerializer,
        responses={201: LoanSerializer},
        summary="Pay out an approved application in cash or into the member's savings",
    )
    def post(self, request: Request, application_id: int) -> Response:
        self.require(Capability.POST_TRANSACTIONS)
        application = self.application(application_id)
        given = LoanDisburseSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        loan = services.loan_disburse(
            actor=request.user,
            application_id=application.pk,
            disbursed_on=data.get("disbursed_on") or _business_date(),
            idempotency_key=data["idempotency_key"],
            to_savings_account_id=data["to_savings_account"],
            first_due_date=data["first_due_date"],
            cash_account=cash_account_for_posting(actor=request.user, branch=application.branch),
        )
        return Response(LoanSerializer(selectors.loan_detail(loan.pk)).data, status=status.HTTP_201_CREATED)


# --- Loans ---------------------------------------------------------------------------------------


class LoanView(StaffApiView):
    def loan(self, loan_id: int) -> Loan:
        found = (
            selectors.loans_visible(visible_branch_ids=self.visible_branch_ids()).filter(pk=loan_id).first()
        )
        if found is None:
            raise Http404
        return found


class LoanListView(StaffApiView):
    @extend_schema(
        operation_id="lending_loans_list",
        parameters=[
            OpenApiParameter("member", OpenApiTypes.INT),
            OpenApiParameter("status", OpenApiTypes.STR),
        ],
        responses=LoanSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        found = selectors.loans_visible(visible_branch_ids=self.visible_branch_ids()).prefetch_related(
            "installments"
        )
        member = request.query_params.get("member", "")
        if member:
            found = found.filter(member_id=int(member) if member.isdigit() else -1)
        if request.query_params.get("status"):
            found = found.filter(status=request.query_params["status"])
        return Response(LoanSerializer(found[:200], many=True).data)


class LoanDetailView(LoanView):
    @extend_schema(operation_id="lending_loans_retrieve", responses=LoanSerializer)
    def get(self, request: Request, loan_id: int) -> Response:
        return Response(LoanSerializer(selectors.loan_detail(self.loan(loan_id).pk)).data)


class LoanPayoffSerializer(serializers.Serializer):
    loan_number = serializers.CharField()
    on_date = serializers.DateField()
    principal = MoneyField(source="principal_minor", positive=False)
    interest = MoneyField(source="interest_minor", positive=False)
    fee = MoneyField(source="fee_minor", positive=False)
    penalty = MoneyField(source="penalty_minor", positive=False)
    total = MoneyField(source="total_minor", positive=False)


class LoanPayoffView(LoanView):
    @extend_schema(
        operation_id="lending_loans_payoff",
        parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="Default: the business date.")],
        responses=LoanPayoffSerializer,
        summary="What settles the loan on a date",
    )
    def get(self, request: Request, loan_id: int) -> Response:
        loan = self.loan(loan_id)
        raw = request.query_params.get("on", "")
        try:
            on_date = dt.date.fromisoformat(raw) if raw else _business_date()
        except ValueError as error:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR, "Not a date.", fields={"on": ["YYYY-MM-DD."]}
            ) from error
        return Response(
            LoanPayoffSerializer(services.loan_payoff_quote(loan_id=loan.pk, on_date=on_date)).data
        )


class LoanRepaymentSerializer(serializers.Serializer):
    amount = MoneyField()
    value_date = serializers.DateField(required=False, help_text="Default: the cooperative's business date.")
    idempotency_key = IdempotencyKeyField()
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[RepaymentSource.CASH, RepaymentSource.SAVINGS], required=False, default=RepaymentSource.CASH
    )
    savings_account = serializers.IntegerField(required=False, allow_null=True, default=None)
    memo = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class LoanTransactionSerializer(serializers.ModelSerializer):
    amount = MoneyField(source="amount_minor")
    principal = MoneyField(source="principal_minor", positive=False)
    interest = MoneyField(source="interest_minor", positive=False)
    fee = MoneyField(source="fee_minor", positive=False)
    penalty = MoneyField(source="penalty_minor", positive=False)

    class Meta:
        model = LoanTransaction
        fields = [
            "id", "kind", "value_date", "amount", "principal", "interest", "fee", "penalty", "source",
            "channel", "entry", "idempotency_key", "memo",
        ]  # fmt: skip


class LoanRepaymentView(LoanView):
    @extend_schema(
        operation_id="lending_loans_repay",
        request=LoanRepaymentSerializer,
        responses={201: LoanTransactionSerializer},
        summary="Take a payment (cash or from savings); the payoff amount settles and closes the loan",
    )
    def post(self, request: Request, loan_id: int) -> Response:
        self.require(Capability.POST_TRANSACTIONS)
        loan = self.loan(loan_id)
        given = LoanRepaymentSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        payment = services.loan_repay(
            actor=request.user,
            loan_id=loan.pk,
            amount_minor=data["amount"],
            value_date=data.get("value_date") or _business_date(),
            idempotency_key=data["idempotency_key"],
            source=data["source"],
            savings_account_id=data["savings_account"],
            cash_account=cash_account_for_posting(actor=request.user, branch=loan.branch),
            memo=data["memo"],
        )
        return Response(LoanTransactionSerializer(payment).data, status=status.HTTP_201_CREATED)


# --- Document wording ----------------------------------------------------------------------------


class DocumentTemplateInputSerializer(serializers.Serializer):
    """A document's wording in one language; a part not sent, or empty, takes the default wording."""

    title = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    opening = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    clauses = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, default=list
    )
    closing = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class DocumentTemplateVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    default = serializers.BooleanField(help_text="Every part empty: the default wording.")
    saved_by = serializers.CharField()
    saved_at = serializers.DateTimeField()
    title = serializers.CharField()
    opening = serializers.CharField()
    clauses = serializers.ListField(child=serializers.CharField())
    closing = serializers.CharField()


class DocumentTemplateSummarySerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=f"One of: {', '.join(wordings.KINDS)}.")
    language = serializers.CharField()
    custom = serializers.BooleanField(help_text="False: the default wording.")
    version = serializers.IntegerField(allow_null=True)
    saved_by = serializers.CharField(allow_null=True)
    saved_at = serializers.DateTimeField(allow_null=True)


class DocumentTemplateSerializer(DocumentTemplateSummarySerializer):
    title = serializers.CharField()
    opening = serializers.CharField()
    clauses = serializers.ListField(child=serializers.CharField())
    closing = serializers.CharField()
    parts = serializers.ListField(child=serializers.CharField(), help_text="The parts this document has.")
    placeholders = serializers.ListField(
        child=serializers.CharField(), help_text="The names a text may use, as {{ name }}."
    )
    history = DocumentTemplateVersionSerializer(many=True, help_text="Newest first.")


def _version_data(view: wordings.VersionView) -> dict[str, Any]:
    row = view.row
    return {
        "version": row.version,
        "default": row.is_default,
        "saved_by": view.saved_by,
        "saved_at": row.saved_at,
        "title": row.title,
        "opening": row.opening,
        "clauses": list(row.clauses or []),
        "closing": row.closing,
    }


def _summary(kind: str, language: str, current: wordings.VersionView | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "language": language,
        "custom": current is not None and not current.row.is_default,
        "version": current.row.version if current is not None else None,
        "saved_by": current.saved_by if current is not None else None,
        "saved_at": current.row.saved_at if current is not None else None,
    }


def _template_state(kind: str, language: str) -> dict[str, Any]:
    history = wordings.template_history(kind, language)
    current = history[0] if history else None
    shown = wordings.Wording.of(current.row if current is not None else None)
    return {
        **_summary(kind, language, current),
        **shown.as_dict(),
        "parts": list(wordings.FIELDS[kind]),
        "placeholders": list(wordings.PLACEHOLDERS[kind]),
        "history": [_version_data(view) for view in history],
    }


def _template_key(kind: str, language: str) -> None:
    if kind not in wordings.KINDS or language not in wordings.languages():
        raise Http404


_KIND_PATH = OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(wordings.KINDS))
_LANGUAGE_PATH = OpenApiParameter(
    "language", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(wordings.languages())
)


class DocumentTemplateListView(StaffApiView):
    """Each loan document's wording per language: the default or the cooperative's own (L7)."""

    @extend_schema(
        operation_id="lending_document_templates_list", responses=DocumentTemplateSummarySerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        current = wordings.templates_overview()
        found = [
            _summary(kind, language, current.get((kind, language)))
            for kind in wordings.KINDS
            for language in wordings.languages()
        ]
        return Response(DocumentTemplateSummarySerializer(found, many=True).data)


class DocumentTemplateView(StaffApiView):
    @extend_schema(
        operation_id="lending_document_templates_retrieve",
        parameters=[_KIND_PATH, _LANGUAGE_PATH],
        responses=DocumentTemplateSerializer,
        summary="A document's wording in one language, its placeholders and its versions",
    )
    def get(self, request: Request, kind: str, language: str) -> Response:
        _template_key(kind, language)
        return Response(DocumentTemplateSerializer(_template_state(kind, language)).data)

    @extend_schema(
        operation_id="lending_document_templates_update",
        parameters=[_KIND_PATH, _LANGUAGE_PATH],
        request=DocumentTemplateInputSerializer,
        responses=DocumentTemplateSerializer,
        summary=(
            "Save the wording as a new version (documents issued after use it); every part empty "
            "restores the default. Refused text: 400 validation_error with a message per part"
        ),
    )
    def put(self, request: Request, kind: str, language: str) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        _template_key(kind, language)
        given = DocumentTemplateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.document_template_save(
            actor=request.user, kind=kind, language=language, **given.validated_data
        )
        return Response(DocumentTemplateSerializer(_template_state(kind, language)).data)
