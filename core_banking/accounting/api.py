"""REST API of the office books (under /api/v1/accounting/): vouchers, entries, corrections, closings,
the chart of accounts.

Amounts travel as decimal strings in major units ("1250.75"; VND without decimals). A voucher or
correction carries the client's ``idempotency_key``: sent again it returns the first result (200),
with other content it is refused (409 ``idempotency_key_reused``). Staff limited to some branches
see and post only there (404 otherwise); closing months and years needs every branch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting import selectors, services
from core_banking.accounting.models import (
    AccountingSettings,
    BranchDayClose,
    CorrectionRequest,
    CorrectionStatus,
    PeriodClose,
    Voucher,
    VoucherKind,
    YearEndClosing,
)
from core_banking.api_fields import IdempotencyKeyField, MoneyField
from core_banking.ledger import services as ledger_services
from core_banking.ledger.models import Account, AccountKind, JournalEntry, JournalLine
from core_banking.organisation.models import Branch
from core_banking.staff.api_base import StaffApiView
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability


class VoucherEntryLineSerializer(serializers.Serializer):
    account = serializers.CharField(source="account.code")
    account_name = serializers.CharField(source="account.name")
    debit = MoneyField(source="debit_minor", positive=False)
    credit = MoneyField(source="credit_minor", positive=False)


class VoucherSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code", read_only=True)
    fiscal_year_label = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField()
    lines = VoucherEntryLineSerializer(source="entry.lines", many=True, read_only=True)
    posted_by = serializers.CharField(source="posted_by.username", default=None, read_only=True)

    class Meta:
        model = Voucher
        fields = [
            "id", "number", "kind", "branch", "branch_code", "fiscal_year", "fiscal_year_label", "value_date",
            "narration", "entry", "corrects", "amount", "lines", "posted_by", "posted_at",
        ]  # fmt: skip

    def get_fiscal_year_label(self, voucher: Voucher) -> str:
        return selectors.fiscal_year_for(voucher.value_date).label

    @extend_schema_field(OpenApiTypes.STR)
    def get_amount(self, voucher: Voucher) -> str:
        total = sum(line.debit_minor for line in voucher.entry.lines.all())
        return str(MoneyField(positive=False).to_representation(total))


class VoucherLineInSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=20)
    amount = MoneyField(positive=False, required=False, help_text="Receipts and payments: the line's amount.")
    debit = MoneyField(positive=False, required=False, default=0, help_text="Journal vouchers.")
    credit = MoneyField(positive=False, required=False, default=0, help_text="Journal vouchers.")


class VoucherInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=VoucherKind.choices)
    branch = serializers.IntegerField()
    value_date = serializers.DateField(required=False, help_text="Default: the cooperative's business date.")
    narration = serializers.CharField(max_length=250)
    cash_account = serializers.CharField(
        max_length=20, required=False, default="", allow_blank=True,
        help_text="Receipts and payments: the cash or bank account (default: the branch's cash).",
    )  # fmt: skip
    lines = VoucherLineInSerializer(many=True)
    idempotency_key = IdempotencyKeyField()


class EntryCorrectionLineSerializer(serializers.Serializer):
    account = serializers.CharField()
    debit = MoneyField(positive=False)
    credit = MoneyField(positive=False)


class EntryCorrectionSerializer(serializers.ModelSerializer):
    lines = serializers.SerializerMethodField()
    maker = serializers.CharField(source="maker.username", default=None, read_only=True)
    checker = serializers.CharField(source="checker.username", default=None, read_only=True)

    class Meta:
        model = CorrectionRequest
        fields = [
            "id", "original", "status", "reason", "value_date", "narration", "lines", "maker", "made_at",
            "checker", "decided_at", "rejection_reason", "reversal", "corrected",
        ]  # fmt: skip

    @extend_schema_field(EntryCorrectionLineSerializer(many=True))
    def get_lines(self, request: CorrectionRequest) -> list[dict[str, Any]]:
        return [
            EntryCorrectionLineSerializer({"account": code, "debit": debit, "credit": credit}).data
            for code, debit, credit in request.corrected_lines
        ]


class EntryCorrectionInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=250)
    value_date = serializers.DateField(required=False, help_text="Default: the cooperative's business date.")
    narration = serializers.CharField(max_length=250, required=False, default="", allow_blank=True)
    lines = VoucherLineInSerializer(
        many=True, required=False, default=list, help_text="The corrected entry; none cancels the original."
    )
    idempotency_key = IdempotencyKeyField()


class CorrectionRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=250)


class JournalEntryLineSerializer(serializers.Serializer):
    account = serializers.CharField(source="account_code")
    account_name = serializers.CharField()
    debit = MoneyField(source="debit_minor", positive=False)
    credit = MoneyField(source="credit_minor", positive=False)


class JournalEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="entry.id")
    value_date = serializers.DateField(source="entry.value_date")
    branch = serializers.IntegerField(source="entry.branch_id")
    branch_code = serializers.CharField(source="entry.branch.code")
    memo = serializers.CharField(source="entry.memo")
    reverses = serializers.IntegerField(source="entry.reverses_id", allow_null=True)
    posted_at = serializers.DateTimeField(source="entry.posted_at")
    voucher = serializers.CharField(source="voucher.number", default=None)
    lines = JournalEntryLineSerializer(many=True)
    debit = MoneyField(source="debit_minor", positive=False)
    credit = MoneyField(source="credit_minor", positive=False)
    reversals = serializers.SerializerMethodField()
    corrections = EntryCorrectionSerializer(many=True)
    correctable = serializers.BooleanField()

    def get_reversals(self, view: selectors.EntryView) -> list[int]:
        return [entry.pk for entry in view.reversals]


class BranchDayCloseSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code", read_only=True)
    debit = MoneyField(source="debit_minor", positive=False, read_only=True)
    credit = MoneyField(source="credit_minor", positive=False, read_only=True)
    cash_balance = MoneyField(source="cash_balance_minor", positive=False, read_only=True)
    closed_by = serializers.CharField(source="closed_by.username", default=None, read_only=True)

    class Meta:
        model = BranchDayClose
        fields = [
            "id", "branch", "branch_code", "day", "entry_count", "debit", "credit", "cash_balance",
            "closed_by", "closed_at",
        ]  # fmt: skip


class BranchDayCloseInSerializer(serializers.Serializer):
    branch = serializers.IntegerField()
    day = serializers.DateField(required=False, help_text="Default: the cooperative's business date.")


class PeriodCloseSerializer(serializers.ModelSerializer):
    closed_by = serializers.CharField(source="closed_by.username", default=None, read_only=True)

    class Meta:
        model = PeriodClose
        fields = ["id", "period_end", "previous_closed_through", "is_year_end", "closed_by", "closed_at"]


class PeriodCloseInSerializer(serializers.Serializer):
    period_end = serializers.DateField(help_text="The last day of the month to close.")


class YearEndClosingSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code", read_only=True)
    income = MoneyField(source="income_minor", positive=False, read_only=True)
    expense = MoneyField(source="expense_minor", positive=False, read_only=True)
    surplus = MoneyField(source="surplus_minor", positive=False, read_only=True)

    class Meta:
        model = YearEndClosing
        fields = ["id", "fiscal_year", "branch", "branch_code", "entry", "income", "expense", "surplus"]


class YearEndInSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField(
        min_value=1900, max_value=9999, help_text="The calendar year the fiscal year starts in."
    )


class YearEndResultSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField(source="fiscal_year.start_year")
    fiscal_year_label = serializers.CharField(source="fiscal_year.label")
    start = serializers.DateField(source="fiscal_year.start")
    end = serializers.DateField(source="fiscal_year.end")
    closings = YearEndClosingSerializer(many=True)


class AccountingSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccountingSettings
        fields = ["fiscal_year_start_month", "corrections_need_approval", "retained_surplus_code"]
        read_only_fields = ["retained_surplus_code"]
        extra_kwargs = {"fiscal_year_start_month": {"min_value": 1, "max_value": 12}}


def _flat(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as flat field names, the way the services name them: lines[0].amount."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))
            flat.update(_flat(value, name))
        return flat
    if isinstance(detail, list) and detail and all(isinstance(item, dict | list) for item in detail):
        flat = {}
        for number, item in enumerate(detail):
            flat.update(_flat(item, f"{prefix}[{number}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(message) for message in messages]}


def _validated(serializer: serializers.Serializer) -> dict[str, Any]:
    if not serializer.is_valid():
        raise serializers.ValidationError(_flat(serializer.errors))
    return dict(serializer.validated_data)


def _business_date() -> dt.date:
    return selectors.business_date()


class AccountingApiView(StaffApiView):
    def reader(self) -> StaffProfile:
        profile = self.profile()
        if not (profile.can(Capability.POST_JOURNAL) or profile.can(Capability.VIEW_REPORTS)):
            self.require(Capability.POST_JOURNAL)
        return profile

    def branch(self, branch_id: int) -> Branch:
        self.require_branch(branch_id)
        branch = Branch.objects.filter(pk=branch_id).first()
        if branch is None:
            raise Http404
        return branch

    def whole_books(self) -> StaffProfile:
        """Closing months and years touches every branch: it is done at the head office."""
        profile = self.require(Capability.POST_JOURNAL)
        if not selectors.closes_whole_books(profile):
            raise BusinessRuleViolation(
                ErrorCode.PERMISSION_DENIED, "Closing the books is done at the head office."
            )
        return profile

    def entry(self, entry_id: int) -> JournalEntry:
        entry = (
            selectors.entries_visible(visible_branch_ids=self.visible_branch_ids())
            .filter(pk=entry_id)
            .first()
        )
        if entry is None:
            raise Http404
        return entry


def _vouchers_with_lines(vouchers: Any) -> Any:
    return vouchers.prefetch_related(
        Prefetch("entry__lines", queryset=JournalLine.objects.select_related("account").order_by("id"))
    )


def _date_param(request: Request, name: str) -> dt.date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise BusinessRuleViolation(
            ErrorCode.VALIDATION_ERROR, "Dates are YYYY-MM-DD.", fields={name: ["YYYY-MM-DD."]}
        ) from error


class VoucherListView(AccountingApiView):
    @extend_schema(
        operation_id="accounting_vouchers_list",
        parameters=[
            OpenApiParameter("branch", OpenApiTypes.INT),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=VoucherKind.values),
            OpenApiParameter("start", OpenApiTypes.DATE),
            OpenApiParameter("end", OpenApiTypes.DATE),
        ],
        responses=VoucherSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        self.reader()
        branch = request.query_params.get("branch", "")
        vouchers = selectors.vouchers_visible(
            visible_branch_ids=self.visible_branch_ids(),
            branch_id=int(branch) if branch.isdigit() else None,
            kind=request.query_params.get("kind", ""),
            start=_date_param(request, "start"),
            end=_date_param(request, "end"),
        )
        return Response(VoucherSerializer(_vouchers_with_lines(vouchers)[:500], many=True).data)

    @extend_schema(
        operation_id="accounting_vouchers_post", request=VoucherInSerializer, responses=VoucherSerializer
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.POST_JOURNAL)
        data = _validated(VoucherInSerializer(data=request.data))
        result = services.voucher_post(
            actor=request.user,
            branch=self.branch(data["branch"]),
            kind=data["kind"],
            value_date=data.get("value_date") or _business_date(),
            narration=data["narration"],
            lines=services.typed_lines(data["kind"], data["lines"]),
            idempotency_key=data["idempotency_key"],
            cash_account=data["cash_account"],
        )
        voucher = _vouchers_with_lines(Voucher.objects.select_related("branch", "posted_by")).get(
            pk=result.voucher.pk
        )
        answer = status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED
        return Response(VoucherSerializer(voucher).data, status=answer)


class VoucherDetailView(AccountingApiView):
    @extend_schema(operation_id="accounting_vouchers_retrieve", responses=VoucherSerializer)
    def get(self, request: Request, voucher_id: int) -> Response:
        self.reader()
        voucher = (
            _vouchers_with_lines(selectors.vouchers_visible(visible_branch_ids=self.visible_branch_ids()))
            .filter(pk=voucher_id)
            .first()
        )
        if voucher is None:
            raise Http404
        return Response(VoucherSerializer(voucher).data)


class EntryDetailView(AccountingApiView):
    @extend_schema(operation_id="accounting_entries_retrieve", responses=JournalEntrySerializer)
    def get(self, request: Request, entry_id: int) -> Response:
        self.reader()
        return Response(JournalEntrySerializer(selectors.entry_view(self.entry(entry_id))).data)


class EntryCorrectionView(AccountingApiView):
    @extend_schema(
        operation_id="accounting_entries_correct",
        request=EntryCorrectionInSerializer,
        responses=EntryCorrectionSerializer,
        summary="Correct a posted entry: reversal and corrected entry, or a request awaiting approval",
    )
    def post(self, request: Request, entry_id: int) -> Response:
        self.require(Capability.POST_JOURNAL)
        original = self.entry(entry_id)
        data = _validated(EntryCorrectionInSerializer(data=request.data))
        before = CorrectionRequest.objects.filter(idempotency_key=data["idempotency_key"]).exists()
        correction = services.correction_submit(
            actor=request.user,
            original=original,
            reason=data["reason"],
            value_date=data.get("value_date") or _business_date(),
            corrected_lines=services.typed_lines(VoucherKind.JOURNAL, data["lines"]),
            idempotency_key=data["idempotency_key"],
            narration=data["narration"],
        )
        answer = status.HTTP_200_OK if before else status.HTTP_201_CREATED
        return Response(EntryCorrectionSerializer(correction).data, status=answer)


class CorrectionListView(AccountingApiView):
    @extend_schema(
        operation_id="accounting_corrections_list",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=CorrectionStatus.values)],
        responses=EntryCorrectionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        self.reader()
        corrections = selectors.corrections_visible(
            visible_branch_ids=self.visible_branch_ids(), status=request.query_params.get("status", "")
        )
        return Response(EntryCorrectionSerializer(corrections[:500], many=True).data)


class _CorrectionDecisionView(AccountingApiView):
    def correction(self, correction_id: int) -> CorrectionRequest:
        self.require(Capability.POST_JOURNAL)
        found = (
            selectors.corrections_visible(visible_branch_ids=self.visible_branch_ids())
            .filter(pk=correction_id)
            .first()
        )
        if found is None:
            raise Http404
        return found


class CorrectionApproveView(_CorrectionDecisionView):
    @extend_schema(
        operation_id="accounting_corrections_approve", request=None, responses=EntryCorrectionSerializer
    )
    def post(self, request: Request, correction_id: int) -> Response:
        found = self.correction(correction_id)
        approved = services.correction_approve(actor=request.user, request_id=found.pk)
        return Response(EntryCorrectionSerializer(approved).data)


class CorrectionRejectView(_CorrectionDecisionView):
    @extend_schema(
        operation_id="accounting_corrections_reject",
        request=CorrectionRejectSerializer,
        responses=EntryCorrectionSerializer,
    )
    def post(self, request: Request, correction_id: int) -> Response:
        found = self.correction(correction_id)
        given = CorrectionRejectSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        rejected = services.correction_reject(
            actor=request.user, request_id=found.pk, reason=given.validated_data["reason"]
        )
        return Response(EntryCorrectionSerializer(rejected).data)


class DayCloseListView(AccountingApiView):
    @extend_schema(operation_id="accounting_day_closes_list", responses=BranchDayCloseSerializer(many=True))
    def get(self, request: Request) -> Response:
        self.reader()
        closes = selectors.day_closes_visible(visible_branch_ids=self.visible_branch_ids())
        return Response(BranchDayCloseSerializer(closes[:500], many=True).data)

    @extend_schema(
        operation_id="accounting_day_closes_create",
        request=BranchDayCloseInSerializer,
        responses=BranchDayCloseSerializer,
    )
    def post(self, request: Request) -> Response:
        self.require(Capability.POST_JOURNAL)
        given = BranchDayCloseInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        close = services.branch_day_close(
            actor=request.user,
            branch=self.branch(given.validated_data["branch"]),
            day=given.validated_data.get("day") or _business_date(),
        )
        return Response(BranchDayCloseSerializer(close).data, status=status.HTTP_201_CREATED)


class PeriodCloseListView(AccountingApiView):
    @extend_schema(operation_id="accounting_period_closes_list", responses=PeriodCloseSerializer(many=True))
    def get(self, request: Request) -> Response:
        self.reader()
        return Response(PeriodCloseSerializer(selectors.period_closes()[:500], many=True).data)

    @extend_schema(
        operation_id="accounting_period_closes_create",
        request=PeriodCloseInSerializer,
        responses=PeriodCloseSerializer,
    )
    def post(self, request: Request) -> Response:
        self.whole_books()
        given = PeriodCloseInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        close = services.period_close(actor=request.user, period_end=given.validated_data["period_end"])
        return Response(PeriodCloseSerializer(close).data, status=status.HTTP_201_CREATED)


class YearEndListView(AccountingApiView):
    @extend_schema(operation_id="accounting_year_end_list", responses=YearEndClosingSerializer(many=True))
    def get(self, request: Request) -> Response:
        self.reader()
        closings = selectors.year_end_closings(visible_branch_ids=self.visible_branch_ids())
        return Response(YearEndClosingSerializer(closings[:500], many=True).data)

    @extend_schema(
        operation_id="accounting_year_end_close",
        request=YearEndInSerializer,
        responses=YearEndResultSerializer,
    )
    def post(self, request: Request) -> Response:
        self.whole_books()
        given = YearEndInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = services.fiscal_year_close(
            actor=request.user, fiscal_year=given.validated_data["fiscal_year"]
        )
        return Response(YearEndResultSerializer(result).data, status=status.HTTP_201_CREATED)


class SettingsView(AccountingApiView):
    @extend_schema(operation_id="accounting_settings_retrieve", responses=AccountingSettingsSerializer)
    def get(self, request: Request) -> Response:
        self.reader()
        return Response(AccountingSettingsSerializer(selectors.accounting_settings()).data)

    @extend_schema(
        operation_id="accounting_settings_update",
        request=AccountingSettingsSerializer,
        responses=AccountingSettingsSerializer,
    )
    def put(self, request: Request) -> Response:
        self.require(Capability.MANAGE_ORGANISATION)
        given = AccountingSettingsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        saved = services.accounting_settings_update(
            actor=request.user,
            fiscal_year_start_month=given.validated_data["fiscal_year_start_month"],
            corrections_need_approval=given.validated_data["corrections_need_approval"],
        )
        return Response(AccountingSettingsSerializer(saved).data)


class LedgerAccountSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code", default=None, read_only=True)
    is_control = serializers.SerializerMethodField(
        help_text="Posted to by the product's transactions: only the name can change."
    )

    class Meta:
        model = Account
        fields = ["id", "code", "name", "kind", "branch", "branch_code", "is_active", "is_control"]

    def get_is_control(self, account: Account) -> bool:
        return ledger_services.is_control_account(account.code)


class LedgerAccountInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20, help_text="3-6 digits, then optional -parts: 5300, 5300-01.")
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=AccountKind.choices)
    branch = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="One branch's own account; null: shared."
    )


class LedgerAccountPatchSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20, required=False)
    name = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=AccountKind.choices, required=False)
    is_active = serializers.BooleanField(required=False)
    branch = serializers.IntegerField(required=False, allow_null=True)


class _ChartApiView(AccountingApiView):
    def editor(self) -> StaffProfile:
        profile = self.profile()
        if not (profile.can(Capability.POST_JOURNAL) or profile.can(Capability.MANAGE_ORGANISATION)):
            self.require(Capability.POST_JOURNAL)
        if not selectors.chart_editor(profile):
            raise BusinessRuleViolation(
                ErrorCode.PERMISSION_DENIED, "The chart of accounts is kept at the head office."
            )
        return profile

    def account_branch(self, branch_id: int | None) -> Branch | None:
        if branch_id is None:
            return None
        branch = Branch.objects.filter(pk=branch_id).first()
        if branch is None:
            raise BusinessRuleViolation(
                ErrorCode.VALIDATION_ERROR, "Unknown branch.", fields={"branch": ["No such branch."]}
            )
        return branch


class AccountListView(_ChartApiView):
    @extend_schema(operation_id="accounting_accounts_list", responses=LedgerAccountSerializer(many=True))
    def get(self, request: Request) -> Response:
        self.reader()
        return Response(LedgerAccountSerializer(selectors.chart_of_accounts(), many=True).data)

    @extend_schema(
        operation_id="accounting_accounts_create",
        request=LedgerAccountInSerializer,
        responses=LedgerAccountSerializer,
    )
    def post(self, request: Request) -> Response:
        self.editor()
        data = _validated(LedgerAccountInSerializer(data=request.data))
        account = ledger_services.account_create(
            actor=request.user,
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            branch=self.account_branch(data["branch"]),
        )
        return Response(LedgerAccountSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountDetailView(_ChartApiView):
    def account(self, account_id: int) -> Account:
        account = selectors.chart_of_accounts().filter(pk=account_id).first()
        if account is None:
            raise Http404
        return account

    @extend_schema(operation_id="accounting_accounts_retrieve", responses=LedgerAccountSerializer)
    def get(self, request: Request, account_id: int) -> Response:
        self.reader()
        return Response(LedgerAccountSerializer(self.account(account_id)).data)

    @extend_schema(
        operation_id="accounting_accounts_update",
        request=LedgerAccountPatchSerializer,
        responses=LedgerAccountSerializer,
    )
    def patch(self, request: Request, account_id: int) -> Response:
        self.editor()
        account = self.account(account_id)
        data = _validated(LedgerAccountPatchSerializer(data=request.data))
        changes: dict[str, Any] = {
            name: data[name] for name in ("code", "name", "kind", "is_active") if name in data
        }
        if "branch" in data:
            changes["branch"] = self.account_branch(data["branch"])
        updated = ledger_services.account_update(actor=request.user, account_id=account.pk, **changes)
        return Response(LedgerAccountSerializer(updated).data)
