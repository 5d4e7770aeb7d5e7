"""Roles and what each may do. Plain Python: the mapping is the policy, read by views and services."""

from __future__ import annotations

import enum

from django.utils.translation import gettext_lazy as _


class Role(enum.StrEnum):
    COOPERATIVE_ADMIN = "cooperative_admin"
    BRANCH_MANAGER = "branch_manager"
    ACCOUNTANT = "accountant"
    LOAN_OFFICER = "loan_officer"
    APPROVER = "approver"
    FIELD_OFFICER = "field_officer"
    AUDITOR = "auditor"
    # A member who leads a savings-and-loan group and collects at its meetings with the field app:
    # not staff, so nothing beyond their own groups' collection sheets and their own cash.
    GROUP_LEADER = "group_leader"


ROLE_LABELS = {
    Role.COOPERATIVE_ADMIN: _("Cooperative admin"),
    Role.BRANCH_MANAGER: _("Branch manager"),
    Role.ACCOUNTANT: _("Accountant"),
    Role.LOAN_OFFICER: _("Loan officer"),
    Role.APPROVER: _("Approver"),
    Role.FIELD_OFFICER: _("Field officer"),
    Role.AUDITOR: _("Auditor"),
    Role.GROUP_LEADER: _("Group leader"),
}


class Capability(enum.StrEnum):
    MANAGE_STAFF = "manage_staff"
    MANAGE_ORGANISATION = "manage_organisation"
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    VIEW_REPORTS = "view_reports"
    POST_TRANSACTIONS = "post_transactions"
    POST_JOURNAL = "post_journal"
    MANAGE_MEMBERS = "manage_members"
    APPRAISE_LOANS = "appraise_loans"
    APPROVE_LOANS = "approve_loans"
    COLLECT_IN_FIELD = "collect_in_field"


ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.COOPERATIVE_ADMIN: frozenset(Capability),
    Role.BRANCH_MANAGER: frozenset(
        {
            Capability.MANAGE_MEMBERS,
            Capability.POST_TRANSACTIONS,
            Capability.VIEW_REPORTS,
            Capability.APPRAISE_LOANS,
            Capability.COLLECT_IN_FIELD,
        }
    ),
    Role.ACCOUNTANT: frozenset(
        {Capability.POST_JOURNAL, Capability.POST_TRANSACTIONS, Capability.VIEW_REPORTS}
    ),
    Role.LOAN_OFFICER: frozenset(
        {Capability.MANAGE_MEMBERS, Capability.APPRAISE_LOANS, Capability.VIEW_REPORTS}
    ),
    Role.APPROVER: frozenset({Capability.APPROVE_LOANS, Capability.VIEW_REPORTS}),
    Role.FIELD_OFFICER: frozenset({Capability.COLLECT_IN_FIELD, Capability.POST_TRANSACTIONS}),
    # Auditors read everything and change nothing (enforced by ReadOnlyRoleMiddleware too).
    Role.AUDITOR: frozenset({Capability.VIEW_AUDIT_TRAIL, Capability.VIEW_REPORTS}),
    Role.GROUP_LEADER: frozenset({Capability.COLLECT_IN_FIELD}),
}

# Roles that collect only for the groups tied to them (assigned as officer, or led), seeing no one
# else's records and, for a group leader, no one else's cash.
COLLECTOR_ROLES = frozenset({Role.FIELD_OFFICER, Role.GROUP_LEADER})

READ_ONLY_ROLES = frozenset({Role.AUDITOR})


def capabilities_of(roles: list[str] | tuple[str, ...]) -> frozenset[Capability]:
    granted: set[Capability] = set()
    for role in roles:
        granted |= ROLE_CAPABILITIES.get(Role(role), frozenset())
    return frozenset(granted)


def is_read_only(roles: list[str] | tuple[str, ...]) -> bool:
    """Read-only when every role held is a read-only one (an auditor who is also an accountant may post)."""
    return bool(roles) and all(Role(role) in READ_ONLY_ROLES for role in roles)


def is_collector_only(roles: list[str] | tuple[str, ...]) -> bool:
    """Every role held is a field collector's: the user works only their own groups."""
    return bool(roles) and all(Role(role) in COLLECTOR_ROLES for role in roles)


def is_group_leader(roles: list[str] | tuple[str, ...]) -> bool:
    return Role.GROUP_LEADER.value in roles
