"""Small constructors for lending's rule violations, so each message reads the same everywhere."""

from __future__ import annotations

from control_plane.errors import BusinessRuleViolation, ErrorCode


def invalid(field: str, message: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(ErrorCode.VALIDATION_ERROR, message, fields={field: [message]})


def not_found(what: str, field: str, identifier: object) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.NOT_FOUND, f"No such {what}.", fields={field: [f"No {what} {identifier}."]}
    )


def require_positive_amount(amount_minor: object, field: str = "amount_minor") -> int:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise BusinessRuleViolation(
            ErrorCode.AMOUNT_INVALID,
            "The amount must be a positive whole number of minor units.",
            fields={field: ["A positive whole number."]},
        )
    return amount_minor
