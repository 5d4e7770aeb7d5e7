"""Who may act for which cash: the policy read by services, selectors, pages and the API.

- A teller or field officer holds cash at any branch they see, if their roles let them post
  transactions or collect in the field; only they act for their own till.
- A group leader holds the cash they collect in a till of their own and sees only that till and
  their own handovers (to their field officer or the vault).
- The vault of a branch is kept by its branch managers, accountants and the cooperative's
  admin: any of them may send from it, confirm what is handed to it and close it; a keeper may
  also close a teller's till of that branch (a count taken in the teller's absence).
"""

from __future__ import annotations

from typing import Any

from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability, Role, is_group_leader

VAULT_KEEPER_ROLES = frozenset({Role.COOPERATIVE_ADMIN, Role.BRANCH_MANAGER, Role.ACCOUNTANT})
HOLDING_CAPABILITIES = frozenset({Capability.POST_TRANSACTIONS, Capability.COLLECT_IN_FIELD})


def profile_of(user: Any) -> StaffProfile | None:
    """The staff profile of a signed-in user of this workspace; None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    profile: StaffProfile | None = getattr(user, "staff_profile", None)
    return profile


def sees_branch(profile: StaffProfile, branch_id: int) -> bool:
    visible = profile.visible_branch_ids()
    return visible is None or branch_id in visible


def own_cash_only(profile: StaffProfile) -> bool:
    """A group leader (a member, not staff) sees their own till and handovers, no one else's."""
    return is_group_leader(profile.roles)


def keeps_vault(profile: StaffProfile, branch_id: int) -> bool:
    return (
        not profile.read_only
        and any(Role(role) in VAULT_KEEPER_ROLES for role in profile.roles)
        and sees_branch(profile, branch_id)
    )


def may_hold_cash(profile: StaffProfile, branch_id: int) -> bool:
    return bool(profile.capabilities & HOLDING_CAPABILITIES) and sees_branch(profile, branch_id)


def acts_for(profile: StaffProfile, *, branch_id: int, user_id: int | None) -> bool:
    """May this person hand over or receive the cash of this holder (``user_id`` None: the vault)?"""
    if profile.read_only or not sees_branch(profile, branch_id):
        return False
    if user_id is None:
        return keeps_vault(profile, branch_id)
    return bool(profile.user_id == user_id)


def may_close(profile: StaffProfile, *, branch_id: int, user_id: int | None) -> bool:
    """The holder closes their own till; a vault keeper closes the vault and any till of the branch."""
    return acts_for(profile, branch_id=branch_id, user_id=user_id) or keeps_vault(profile, branch_id)
