"""People who log in. The table exists in every schema: a cooperative's staff live in its
workspace schema, vendor operations staff in the public schema; neither can see the other."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    id = models.BigAutoField(primary_key=True)
    language = models.CharField(
        _("language"), max_length=5, blank=True, help_text=_("Empty: the cooperative's default language.")
    )

    def display_name(self) -> str:
        return self.get_full_name() or self.username
