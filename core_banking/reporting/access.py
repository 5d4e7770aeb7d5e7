"""Who may see which reports of which branches.

A report needs the VIEW_REPORTS capability. Staff limited to some branches
(``StaffProfile.visible_branch_ids()`` is a list) may choose among those branches only; the
consolidated view of the whole cooperative is for staff who see every branch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.organisation.models import Branch
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability


@dataclass(frozen=True)
class BranchSet:
    """The branches a report covers; ``branch_ids`` None is the whole cooperative, consolidated."""

    branch_ids: tuple[int, ...] | None
    branches: tuple[Branch, ...]  # the chosen branches, for headings; empty when consolidated

    @property
    def consolidated(self) -> bool:
        return self.branch_ids is None

    def label(self) -> str:
        if self.branch_ids is None:
            return _("All branches (consolidated)")
        return ", ".join(f"{branch.code} {branch.name}" for branch in self.branches)

    def as_list(self) -> list[int] | None:
        return None if self.branch_ids is None else list(self.branch_ids)


def reporting_profile(user: Any) -> StaffProfile:
    """The signed-in staff member's profile, if they may see reports at all."""
    profile: StaffProfile | None = getattr(user, "staff_profile", None)
    if profile is None or not profile.can(Capability.VIEW_REPORTS):
        raise BusinessRuleViolation(
            ErrorCode.PERMISSION_DENIED, _("Your role does not include viewing reports.")
        )
    return profile


def branches_choosable(profile: StaffProfile) -> list[Branch]:
    """The branches this person may put in a report's branch set."""
    visible = profile.visible_branch_ids()
    branches = Branch.objects.all()
    return list(branches if visible is None else branches.filter(id__in=visible))


def branch_set_resolve(*, profile: StaffProfile, branch_ids: Sequence[int] | None) -> BranchSet:
    """Check a requested branch set against what the person may see.

    ``branch_ids`` None (or empty) asks for the whole cooperative, consolidated.
    """
    visible = profile.visible_branch_ids()
    if not branch_ids:
        if visible is not None:
            raise BusinessRuleViolation(
                ErrorCode.REPORT_CONSOLIDATED_FORBIDDEN,
                _("You see only some branches: choose among your branches instead of all branches."),
                fields={"branch": [_("Choose one or more of your branches.")]},
            )
        return BranchSet(branch_ids=None, branches=())
    requested = sorted(set(branch_ids))
    # Refused before looking the ids up, so a limited user learns nothing about other branches.
    outside = [branch_id for branch_id in requested if visible is not None and branch_id not in visible]
    if outside:
        raise BusinessRuleViolation(
            ErrorCode.REPORT_BRANCH_FORBIDDEN,
            _("You may see reports of your own branches only."),
            fields={
                "branch": [
                    _("Not one of your branches: %(id)s.") % {"id": branch_id} for branch_id in outside
                ]
            },
        )
    branches = list(Branch.objects.filter(id__in=requested).order_by("code"))
    missing = sorted(set(requested) - {branch.pk for branch in branches})
    if missing:
        raise BusinessRuleViolation(
            ErrorCode.REPORT_BRANCH_UNKNOWN,
            _("Some of these branches do not exist."),
            fields={"branch": [_("No branch %(id)s.") % {"id": branch_id} for branch_id in missing]},
        )
    return BranchSet(branch_ids=tuple(branch.pk for branch in branches), branches=tuple(branches))
