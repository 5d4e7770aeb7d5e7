"""The staff menu: an entry is shown to the roles that use its pages."""

from __future__ import annotations

from core_banking.staff.roles import Role, capabilities_of
from frontend.navigation import entries_for


def _labels(role: Role) -> set[str]:
    return {str(entry["label"]) for entry in entries_for(capabilities_of([role.value]), "/")}


def test_loans_are_in_the_menu_of_whoever_appraises_or_takes_repayments() -> None:
    assert "Loans" in _labels(Role.LOAN_OFFICER)
    assert "Loans" in _labels(Role.ACCOUNTANT)  # takes repayments at the counter
    assert "Approvals" in _labels(Role.APPROVER) and "Approvals" not in _labels(Role.ACCOUNTANT)
