"""Head office, branches and (optionally) regions of one cooperative."""

from __future__ import annotations

from django.db import models
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
