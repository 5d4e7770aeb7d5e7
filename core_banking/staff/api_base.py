"""What every workspace API view needs: the signed-in staff profile, capabilities, branch visibility."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.staff.models import StaffProfile
from core_banking.staff.roles import Capability


class IsStaff(permissions.BasePermission):
    """A signed-in user with a staff profile in this workspace."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and _profile(request) is not None)


def _profile(request: Request) -> StaffProfile | None:
    return getattr(request.user, "staff_profile", None)


class StaffApiView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsStaff]

    def profile(self) -> StaffProfile:
        profile = _profile(self.request)
        assert profile is not None  # IsStaff has checked
        return profile

    def require(self, capability: Capability) -> StaffProfile:
        profile = self.profile()
        if not profile.can(capability):
            raise BusinessRuleViolation(
                ErrorCode.PERMISSION_DENIED, f"Your roles do not allow this ({capability.value})."
            )
        return profile

    def visible_branch_ids(self) -> list[int] | None:
        return self.profile().visible_branch_ids()

    def require_branch(self, branch_id: int) -> None:
        """Outside the user's branches a record answers exactly as one that does not exist."""
        visible = self.visible_branch_ids()
        if visible is not None and branch_id not in visible:
            raise Http404
