"""Head office, branches and (optionally) regions of one cooperative."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=120, unique=True)

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    id = models.BigAutoField(primary_key=True)
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    is_head_office = models.BooleanField(_("head office"), default=False)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="branches"
    )

    class Meta:
        ordering = ["-is_head_office", "code"]
        verbose_name_plural = "branches"
        constraints = [
            models.UniqueConstraint(
                fields=["is_head_office"], condition=models.Q(is_head_office=True), name="one_head_office"
            )
        ]

    def __str__(self) -> str:
        return self.name


# --- The working-day calendar --------------------------------------------------------------------


class Weekday(models.IntegerChoices):
    """Days of the week as Python numbers them (``date.weekday()``): 0 is Monday.

    The names are Django's own (translated in every language Django speaks).
    """

    MONDAY = 0, WEEKDAYS[0]
    TUESDAY = 1, WEEKDAYS[1]
    WEDNESDAY = 2, WEEKDAYS[2]
    THURSDAY = 3, WEEKDAYS[3]
    FRIDAY = 4, WEEKDAYS[4]
    SATURDAY = 5, WEEKDAYS[5]
    SUNDAY = 6, WEEKDAYS[6]


class WeeklyOffDays(models.Model):
    """The days of the week nobody works: the cooperative's (no branch) or one branch's own.

    A branch without a row of its own keeps the cooperative's days.
    """

    id = models.BigAutoField(primary_key=True)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="weekly_off_days"
    )
    weekdays = ArrayField(models.PositiveSmallIntegerField(choices=Weekday.choices), default=list)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("weekly off-days")
        verbose_name_plural = _("weekly off-days")
        constraints = [
            # One row for the cooperative (branch NULL) and at most one per branch.
            models.UniqueConstraint(
                fields=["branch"], nulls_distinct=False, name="one_weekly_off_days_per_branch"
            ),
            models.CheckConstraint(
                condition=models.Q(weekdays__contained_by=list(Weekday.values)),
                name="weekly_off_days_are_weekdays",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch or '*'}: {sorted(self.weekdays)}"


class Holiday(models.Model):
    """A day off for every branch (no branch) or for one branch; ``every_year`` repeats it on that day
    and month every year from the year of ``day`` on."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120)
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="holidays",
        verbose_name=_("branch"),
    )
    every_year = models.BooleanField(_("every year"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day", "branch_id"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "branch"], nulls_distinct=False, name="one_holiday_per_day_and_branch"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.name}"
