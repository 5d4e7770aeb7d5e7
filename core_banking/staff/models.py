"""A staff user's place in the cooperative: roles, authority level and branches."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from core_banking.organisation.models import Branch
from core_banking.staff.roles import Capability, Role, capabilities_of, is_read_only


class StaffProfile(models.Model):
    id = models.BigAutoField(primary_key=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_profile"
    )
    roles = ArrayField(
        models.CharField(max_length=32, choices=[(r.value, r.value) for r in Role]), default=list
    )
    approver_level = models.PositiveSmallIntegerField(
        _("approval authority level"), null=True, blank=True, help_text=_("1 is the lowest authority.")
    )
    home_branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="home_staff")
    all_branches = models.BooleanField(_("all branches"), default=False)
    branches = models.ManyToManyField(Branch, blank=True, related_name="limited_staff")
    # A group leader's login is a member's: the groups they lead are the ones they collect for.
    member = models.OneToOneField(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="login"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(roles__contains=[Role.APPROVER.value])
                | models.Q(approver_level__isnull=False),
                name="approver_has_level",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({', '.join(self.roles)})"

    @property
    def capabilities(self) -> frozenset[Capability]:
        return capabilities_of(self.roles)

    @property
    def read_only(self) -> bool:
        return is_read_only(self.roles)

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def visible_branch_ids(self) -> list[int] | None:
        """None means every branch (head office view); otherwise the ids this user may see."""
        if self.all_branches or Role.COOPERATIVE_ADMIN.value in self.roles:
            return None
        ids = set(self.branches.values_list("id", flat=True))
        ids.add(self.home_branch_id)
        return sorted(ids)
