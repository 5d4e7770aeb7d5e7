"""What lending tells the member-exit check (core_banking.shares.exit_rules): loans and guarantees."""

from __future__ import annotations

from django.utils.translation import get_language, gettext

from core_banking.lending.models import Loan, LoanStatus
from core_banking.members.models import Member
from core_banking.shares.exit_rules import register_exit_blocker
from frontend.formatting import format_money
from tenants.db import workspace_currency


def _money(amount_minor: int) -> str:
    return format_money(amount_minor, workspace_currency(), get_language() or "en")


def loans_outstanding(member: Member) -> list[str]:
    """A member who has not repaid a loan owes the cooperative money."""
    return [
        gettext("Loan %(number)s: %(amount)s of principal not repaid.")
        % {"number": loan.number, "amount": _money(loan.principal_outstanding_minor)}
        for loan in Loan.objects.filter(member_id=member.pk, status=LoanStatus.ACTIVE).order_by("number")
    ]


def guarantees_live_loan(member: Member) -> list[str]:
    """A guarantor answers for the loan until it is repaid."""
    loans = (
        Loan.objects.filter(application__guarantors__member_id=member.pk, status=LoanStatus.ACTIVE)
        .select_related("member")
        .order_by("number")
    )
    return [
        gettext("Guarantees loan %(number)s of %(borrower)s.")
        % {"number": loan.number, "borrower": loan.member.full_name}
        for loan in loans
    ]


def register() -> None:
    register_exit_blocker("loans_outstanding", loans_outstanding)
    register_exit_blocker("guarantees_live_loan", guarantees_live_loan)
