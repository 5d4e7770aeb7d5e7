"""Stable error codes for business-rule violations, and how the API reports them.

Every rule a service enforces raises ``BusinessRuleViolation`` with a code from an enum.
The API answers ``{"error": {"code", "message", "fields"}}`` with a 4xx status; the code
never changes once published, so clients may branch on it.
"""

from __future__ import annotations

import enum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ErrorCode(enum.StrEnum):
    VALIDATION_ERROR = "validation_error"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    READ_ONLY_ROLE = "read_only_role"
    THROTTLED = "throttled"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NOT_ACCEPTABLE = "not_acceptable"
    MALFORMED_REQUEST = "malformed_request"
    # Provisioning
    SLUG_INVALID = "slug_invalid"
    SLUG_RESERVED = "slug_reserved"
    SLUG_TAKEN = "slug_taken"
    CURRENCY_UNKNOWN = "currency_unknown"
    COUNTRY_UNKNOWN = "country_unknown"
    LANGUAGE_UNSUPPORTED = "language_unsupported"
    TIME_ZONE_UNKNOWN = "time_zone_unknown"
    TEMPLATE_SCHEMA_MISSING = "template_schema_missing"
    TEMPLATE_SCHEMA_OUTDATED = "template_schema_outdated"
    # Control plane (the operations console)
    LIFECYCLE_TRANSITION_INVALID = "lifecycle_transition_invalid"
    FLEET_MIGRATION_BUSY = "fleet_migration_busy"
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    # Billing
    PLAN_PRICE_MISSING = "plan_price_missing"
    BILLING_ACCOUNT_MISSING = "billing_account_missing"
    # Ledger
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    ENTRY_UNBALANCED = "entry_unbalanced"
    ENTRY_TOO_FEW_LINES = "entry_too_few_lines"
    LINE_AMOUNT_INVALID = "line_amount_invalid"
    ACCOUNT_UNKNOWN = "account_unknown"
    PERIOD_CLOSED = "period_closed"
    ENTRY_IS_A_REVERSAL = "entry_is_a_reversal"
    ENTRY_ALREADY_CORRECTED = "entry_already_corrected"
    # Chart of accounts
    ACCOUNT_CODE_INVALID = "account_code_invalid"
    ACCOUNT_CODE_TAKEN = "account_code_taken"
    ACCOUNT_HAS_POSTINGS = "account_has_postings"
    ACCOUNT_IS_CONTROL = "account_is_control"
    # Savings and shares
    AMOUNT_INVALID = "amount_invalid"
    MEMBER_EXITED = "member_exited"
    SAVINGS_ACCOUNT_NOT_ACTIVE = "savings_account_not_active"
    WITHDRAWAL_NOT_ALLOWED = "withdrawal_not_allowed"
    WITHDRAWAL_LIMIT_EXCEEDED = "withdrawal_limit_exceeded"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    TRANSFER_BETWEEN_MEMBERS = "transfer_between_members"
    EXIT_REFUSED = "exit_refused"
    # Shares (core_banking.shares)
    SHARES_ABOVE_MAXIMUM = "shares_above_maximum"
    SHARES_BELOW_MINIMUM = "shares_below_minimum"
    SHARE_VALUE_LOCKED = "share_value_locked"
    # Staff
    ROLE_UNKNOWN = "role_unknown"
    APPROVER_LEVEL_REQUIRED = "approver_level_required"
    BRANCH_OUTSIDE_WORKSPACE = "branch_outside_workspace"
    # Members and groups
    NATIONAL_ID_INVALID = "national_id_invalid"
    NATIONAL_ID_TAKEN = "national_id_taken"
    PHONE_INVALID = "phone_invalid"
    NOMINEE_SHARES_INVALID = "nominee_shares_invalid"
    MEMBER_STATUS_CHANGE_INVALID = "member_status_change_invalid"
    GROUP_OUTSIDE_BRANCH = "group_outside_branch"
    GROUP_LEADER_OUTSIDE_BRANCH = "group_leader_outside_branch"
    FIELD_OFFICER_OUTSIDE_BRANCH = "field_officer_outside_branch"
    GROUP_CODE_TAKEN = "group_code_taken"
    MEMBER_TYPE_CODE_TAKEN = "member_type_code_taken"
    DOCUMENT_TOO_LARGE = "document_too_large"
    DOCUMENT_NOT_AN_IMAGE = "document_not_an_image"
    DOCUMENT_FORMAT_UNSUPPORTED = "document_format_unsupported"
    # Reports (core_banking.reporting)
    REPORT_BRANCH_FORBIDDEN = "report_branch_forbidden"
    REPORT_CONSOLIDATED_FORBIDDEN = "report_consolidated_forbidden"
    REPORT_BRANCH_UNKNOWN = "report_branch_unknown"
    REPORT_PERIOD_INVALID = "report_period_invalid"
    REPORT_TOO_LARGE = "report_too_large"
    REPORT_MEMBER_UNKNOWN = "report_member_unknown"
    REPORT_GROUP_UNKNOWN = "report_group_unknown"
    # Accounting: vouchers, corrections, closings (core_banking.accounting)
    ACCOUNT_OUTSIDE_BRANCH = "account_outside_branch"
    ACCOUNTING_DATE_IN_FUTURE = "accounting_date_in_future"
    DAY_CLOSED = "day_closed"
    PERIOD_CLOSE_INVALID = "period_close_invalid"
    FISCAL_YEAR_NOT_CLOSED = "fiscal_year_not_closed"
    FISCAL_YEAR_CLOSE_INVALID = "fiscal_year_close_invalid"
    FISCAL_YEAR_START_LOCKED = "fiscal_year_start_locked"
    ENTRY_OWNED_BY_MODULE = "entry_owned_by_module"
    CORRECTION_PENDING = "correction_pending"
    CORRECTION_NOT_PENDING = "correction_not_pending"
    MAKER_CANNOT_CHECK = "maker_cannot_check"
    # Cash custody (core_banking.cash)
    CASH_HOLDER_INVALID = "cash_holder_invalid"
    CASH_HOLDER_FORBIDDEN = "cash_holder_forbidden"
    CASH_HANDOVER_SAME_HOLDER = "cash_handover_same_holder"
    CASH_HANDOVER_NOT_RECEIVER = "cash_handover_not_receiver"
    CASH_HANDOVER_SENDER_CANNOT_CONFIRM = "cash_handover_sender_cannot_confirm"
    CASH_HANDOVER_NOT_PENDING = "cash_handover_not_pending"
    CASH_HANDOVER_PENDING = "cash_handover_pending"
    CASH_BALANCE_INSUFFICIENT = "cash_balance_insufficient"
    CASH_DAY_CLOSED = "cash_day_closed"
    CASH_CLOSE_DATE_INVALID = "cash_close_date_invalid"
    CASH_DENOMINATION_INVALID = "cash_denomination_invalid"
    # Working-day calendar (core_banking.organisation)
    HOLIDAY_EXISTS = "holiday_exists"
    HOLIDAY_UNKNOWN = "holiday_unknown"
    WEEKDAYS_INVALID = "weekdays_invalid"
    CALENDAR_RANGE_INVALID = "calendar_range_invalid"
    # Subscription state of the workspace (tenants.access)
    WORKSPACE_READ_ONLY = "workspace_read_only"
    WORKSPACE_SUSPENDED = "workspace_suspended"
    # Lending (core_banking.lending)
    SCHEDULE_TERMS_INVALID = "schedule_terms_invalid"
    LOAN_NOT_ELIGIBLE = "loan_not_eligible"
    APPLICATION_NUMBER_TAKEN = "application_number_taken"
    APPLICATION_NOT_PENDING = "application_not_pending"
    OWN_APPLICATION = "own_application"
    APPROVER_LEVEL_TOO_LOW = "approver_level_too_low"
    ALREADY_DECIDED = "already_decided"
    LOAN_NOT_ACTIVE = "loan_not_active"
    REPAYMENT_ABOVE_PAYOFF = "repayment_above_payoff"
    REFINANCE_EXCEEDS_LOAN = "refinance_exceeds_loan"
    LOAN_TRANSACTION_NOT_REVERSIBLE = "loan_transaction_not_reversible"
    DISBURSEMENT_ACCOUNT_INVALID = "disbursement_account_invalid"
    # Field collection (field)
    FIELD_DEVICE_TOKEN_INVALID = "field_device_token_invalid"  # noqa: S105 (an error code)
    FIELD_DEVICE_REVOKED = "field_device_revoked"
    # Notifications
    MESSAGE_NOT_DEAD = "message_not_dead"
    MESSAGE_TEMPLATE_INVALID = "message_template_invalid"
    NOTIFICATION_SETTINGS_INVALID = "notification_settings_invalid"
    # Data import (imports)
    IMPORT_FILE_TYPE = "import_file_type"
    IMPORT_FILE_TOO_LARGE = "import_file_too_large"
    IMPORT_NOT_COMMITTABLE = "import_not_committable"
    IMPORT_NOT_CLEAN = "import_not_clean"
    IMPORT_WARNINGS_NOT_ACCEPTED = "import_warnings_not_accepted"
    IMPORT_UNRECONCILED = "import_unreconciled"
    IMPORT_CUT_OVER_MISMATCH = "import_cut_over_mismatch"
    IMPORT_NOT_REVERSIBLE = "import_not_reversible"
    WORKSPACE_ALREADY_LIVE = "workspace_already_live"


# HTTP status per code where it is not 400.
_STATUS: dict[ErrorCode, int] = {
    # Subscription state: the request is understood and refused until the cooperative pays.
    ErrorCode.WORKSPACE_READ_ONLY: status.HTTP_403_FORBIDDEN,
    ErrorCode.WORKSPACE_SUSPENDED: status.HTTP_403_FORBIDDEN,
    # Control plane: the cooperative is not in a state the transition starts from.
    ErrorCode.LIFECYCLE_TRANSITION_INVALID: status.HTTP_409_CONFLICT,
    ErrorCode.FLEET_MIGRATION_BUSY: status.HTTP_409_CONFLICT,
    ErrorCode.PAYMENT_PROVIDER_ERROR: status.HTTP_502_BAD_GATEWAY,
    # Billing: the plan is not sold in that currency; the cooperative has no plan to bill against.
    ErrorCode.PLAN_PRICE_MISSING: status.HTTP_409_CONFLICT,
    ErrorCode.BILLING_ACCOUNT_MISSING: status.HTTP_409_CONFLICT,
    # Lending
    ErrorCode.LOAN_NOT_ELIGIBLE: status.HTTP_422_UNPROCESSABLE_ENTITY,
    ErrorCode.APPLICATION_NUMBER_TAKEN: status.HTTP_409_CONFLICT,
    ErrorCode.APPLICATION_NOT_PENDING: status.HTTP_409_CONFLICT,
    ErrorCode.OWN_APPLICATION: status.HTTP_403_FORBIDDEN,
    ErrorCode.APPROVER_LEVEL_TOO_LOW: status.HTTP_403_FORBIDDEN,
    ErrorCode.ALREADY_DECIDED: status.HTTP_403_FORBIDDEN,
    ErrorCode.LOAN_NOT_ACTIVE: status.HTTP_409_CONFLICT,
    ErrorCode.REPAYMENT_ABOVE_PAYOFF: status.HTTP_409_CONFLICT,
    ErrorCode.REFINANCE_EXCEEDS_LOAN: status.HTTP_409_CONFLICT,
    ErrorCode.LOAN_TRANSACTION_NOT_REVERSIBLE: status.HTTP_409_CONFLICT,
    ErrorCode.MESSAGE_NOT_DEAD: status.HTTP_409_CONFLICT,
    # Field collection: an unknown token is not authenticated; a revoked device is known and refused.
    ErrorCode.FIELD_DEVICE_TOKEN_INVALID: status.HTTP_401_UNAUTHORIZED,
    ErrorCode.FIELD_DEVICE_REVOKED: status.HTTP_403_FORBIDDEN,
    # Working-day calendar
    ErrorCode.HOLIDAY_EXISTS: status.HTTP_409_CONFLICT,
    ErrorCode.HOLIDAY_UNKNOWN: status.HTTP_404_NOT_FOUND,
    # Accounting
    ErrorCode.DAY_CLOSED: status.HTTP_409_CONFLICT,
    ErrorCode.FISCAL_YEAR_NOT_CLOSED: status.HTTP_409_CONFLICT,
    ErrorCode.FISCAL_YEAR_CLOSE_INVALID: status.HTTP_409_CONFLICT,
    ErrorCode.FISCAL_YEAR_START_LOCKED: status.HTTP_409_CONFLICT,
    ErrorCode.ENTRY_OWNED_BY_MODULE: status.HTTP_409_CONFLICT,
    ErrorCode.CORRECTION_PENDING: status.HTTP_409_CONFLICT,
    ErrorCode.CORRECTION_NOT_PENDING: status.HTTP_409_CONFLICT,
    ErrorCode.MAKER_CANNOT_CHECK: status.HTTP_403_FORBIDDEN,
    # Cash custody
    ErrorCode.CASH_HOLDER_FORBIDDEN: status.HTTP_403_FORBIDDEN,
    ErrorCode.CASH_HANDOVER_NOT_RECEIVER: status.HTTP_403_FORBIDDEN,
    ErrorCode.CASH_HANDOVER_SENDER_CANNOT_CONFIRM: status.HTTP_403_FORBIDDEN,
    ErrorCode.CASH_HANDOVER_NOT_PENDING: status.HTTP_409_CONFLICT,
    ErrorCode.CASH_HANDOVER_PENDING: status.HTTP_409_CONFLICT,
    ErrorCode.CASH_BALANCE_INSUFFICIENT: status.HTTP_409_CONFLICT,
    ErrorCode.CASH_DAY_CLOSED: status.HTTP_409_CONFLICT,
    # Reports
    ErrorCode.REPORT_BRANCH_FORBIDDEN: status.HTTP_403_FORBIDDEN,
    ErrorCode.REPORT_CONSOLIDATED_FORBIDDEN: status.HTTP_403_FORBIDDEN,
    # Members and groups
    ErrorCode.NATIONAL_ID_TAKEN: status.HTTP_409_CONFLICT,
    ErrorCode.MEMBER_STATUS_CHANGE_INVALID: status.HTTP_409_CONFLICT,
    ErrorCode.GROUP_CODE_TAKEN: status.HTTP_409_CONFLICT,
    ErrorCode.MEMBER_TYPE_CODE_TAKEN: status.HTTP_409_CONFLICT,
    ErrorCode.DOCUMENT_TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.IMPORT_FILE_TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.IMPORT_FILE_TYPE: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.IMPORT_NOT_COMMITTABLE: status.HTTP_409_CONFLICT,
    ErrorCode.IMPORT_NOT_CLEAN: status.HTTP_409_CONFLICT,
    ErrorCode.IMPORT_WARNINGS_NOT_ACCEPTED: status.HTTP_409_CONFLICT,
    ErrorCode.IMPORT_UNRECONCILED: status.HTTP_409_CONFLICT,
    ErrorCode.IMPORT_CUT_OVER_MISMATCH: status.HTTP_409_CONFLICT,
    ErrorCode.IMPORT_NOT_REVERSIBLE: status.HTTP_409_CONFLICT,
    ErrorCode.WORKSPACE_ALREADY_LIVE: status.HTTP_409_CONFLICT,
    ErrorCode.SLUG_TAKEN: status.HTTP_409_CONFLICT,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: status.HTTP_409_CONFLICT,
    ErrorCode.PERIOD_CLOSED: status.HTTP_409_CONFLICT,
    ErrorCode.ENTRY_ALREADY_CORRECTED: status.HTTP_409_CONFLICT,
    ErrorCode.ACCOUNT_CODE_TAKEN: status.HTTP_409_CONFLICT,
    ErrorCode.ACCOUNT_HAS_POSTINGS: status.HTTP_409_CONFLICT,
    ErrorCode.ACCOUNT_IS_CONTROL: status.HTTP_409_CONFLICT,
    ErrorCode.INSUFFICIENT_BALANCE: status.HTTP_409_CONFLICT,
    ErrorCode.SAVINGS_ACCOUNT_NOT_ACTIVE: status.HTTP_409_CONFLICT,
    ErrorCode.EXIT_REFUSED: status.HTTP_409_CONFLICT,
    ErrorCode.READ_ONLY_ROLE: status.HTTP_403_FORBIDDEN,
    ErrorCode.PERMISSION_DENIED: status.HTTP_403_FORBIDDEN,
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.THROTTLED: status.HTTP_429_TOO_MANY_REQUESTS,
    ErrorCode.TEMPLATE_SCHEMA_MISSING: status.HTTP_503_SERVICE_UNAVAILABLE,
    ErrorCode.TEMPLATE_SCHEMA_OUTDATED: status.HTTP_503_SERVICE_UNAVAILABLE,
}


class BusinessRuleViolation(Exception):
    """A request the rules refuse. ``fields`` maps field names to messages."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        # Structured detail a client may show (e.g. an eligibility check's working); optional.
        self.extra = extra or {}

    @property
    def http_status(self) -> int:
        return _STATUS.get(self.code, status.HTTP_400_BAD_REQUEST)

    def as_dict(self) -> dict[str, Any]:
        body = {"code": str(self.code), "message": self.message, "fields": self.fields}
        if self.extra:
            body["detail"] = self.extra
        return body


def error_body(code: ErrorCode, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": str(code), "message": message, "fields": fields or {}}}


def _field_messages(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            str(key): [str(item) for item in (value if isinstance(value, list) else [value])]
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every error leaves the API in the same shape."""
    if isinstance(exc, BusinessRuleViolation):
        return Response({"error": exc.as_dict()}, status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code, message = ErrorCode.VALIDATION_ERROR, "Some fields are not valid."
        fields = _field_messages(exc.detail)
    else:
        codes = {
            exceptions.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
            exceptions.AuthenticationFailed: ErrorCode.NOT_AUTHENTICATED,
            exceptions.PermissionDenied: ErrorCode.PERMISSION_DENIED,
            exceptions.NotFound: ErrorCode.NOT_FOUND,
            exceptions.Throttled: ErrorCode.THROTTLED,
            exceptions.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
            exceptions.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            exceptions.NotAcceptable: ErrorCode.NOT_ACCEPTABLE,
            exceptions.ParseError: ErrorCode.MALFORMED_REQUEST,
        }
        code = next((c for kind, c in codes.items() if isinstance(exc, kind)), ErrorCode.MALFORMED_REQUEST)
        detail = getattr(exc, "detail", "")
        message, fields = str(detail), {}
    response.data = error_body(code, message, fields)
    return response


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's own error shape, not an HTML page."""
    return JsonResponse(error_body(ErrorCode.NOT_FOUND, "No such API endpoint."), status=404)
