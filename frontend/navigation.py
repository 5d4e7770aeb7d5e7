"""The staff navigation: one entry per module, shown once the module's page exists and the role allows it.

Modules add their entry here; an entry whose URL name does not resolve yet is left out, so the
menu never links to a page that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core_banking.staff.roles import Capability


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str | Promise
    # Shown to whoever holds this capability, or any one of several.
    capability: Capability | tuple[Capability, ...] | None = None

    def shown_to(self, capabilities: frozenset[Capability]) -> bool:
        if self.capability is None:
            return True
        wanted = self.capability if isinstance(self.capability, tuple) else (self.capability,)
        return any(capability in capabilities for capability in wanted)


NAVIGATION: tuple[NavEntry, ...] = (
    NavEntry("home", _("Dashboard")),
    NavEntry("members:list", _("Members"), Capability.MANAGE_MEMBERS),
    NavEntry("savings:accounts", _("Savings"), Capability.POST_TRANSACTIONS),
    NavEntry("cash:index", _("Cash"), (Capability.POST_TRANSACTIONS, Capability.COLLECT_IN_FIELD)),
    # Loan officers appraise; tellers and accountants take repayments from the loan's page.
    NavEntry("lending:loans", _("Loans"), (Capability.APPRAISE_LOANS, Capability.POST_TRANSACTIONS)),
    NavEntry("lending:approvals", _("Approvals"), Capability.APPROVE_LOANS),
    NavEntry("accounting:index", _("Accounting"), Capability.POST_JOURNAL),
    NavEntry("field_app:index", _("Field collection"), Capability.COLLECT_IN_FIELD),
    NavEntry(
        "field_collections:index",
        _("Collections by collector"),
        (Capability.COLLECT_IN_FIELD, Capability.POST_TRANSACTIONS, Capability.VIEW_REPORTS),
    ),
    NavEntry("reporting:index", _("Reports"), Capability.VIEW_REPORTS),
    NavEntry(
        "notifications:attention", _("Messages"), (Capability.MANAGE_MEMBERS, Capability.POST_TRANSACTIONS)
    ),
    NavEntry("notification_texts:index", _("SMS texts"), Capability.MANAGE_ORGANISATION),
    NavEntry("organisation:calendar", _("Calendar")),
    NavEntry("imports:index", _("Data import"), Capability.MANAGE_ORGANISATION),
    NavEntry("staff_list", _("Staff"), Capability.MANAGE_STAFF),
    NavEntry("audit_trail", _("Audit trail"), Capability.VIEW_AUDIT_TRAIL),
)


def entries_for(capabilities: frozenset[Capability], current_path: str) -> list[dict[str, Any]]:
    visible = []
    for entry in NAVIGATION:
        if not entry.shown_to(capabilities):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue  # the module is not built yet
        current = current_path == url if url == "/" else current_path.startswith(url)
        visible.append({"url": url, "label": entry.label, "current": current})
    return visible
