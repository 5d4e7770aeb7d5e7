"""Who may use the operations console. The table exists in the public schema only (SHARED_APPS)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsoleOperator(models.Model):
    """A vendor operations person: a public-schema user who may log in to the console (with 2FA)."""

    id = models.BigAutoField(primary_key=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="console_operator"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Who created it: an operator's user name, or "manage.py" for the command line.
    created_by = models.CharField(_("created by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("console operator")
        verbose_name_plural = _("console operators")

    def __str__(self) -> str:
        return self.user.get_username()
