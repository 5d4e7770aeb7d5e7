"""Demo share capital for the demo cooperatives (registered in ``tenants.demo.DEMO_EXTENSIONS``).

Every demo member bought shares on joining; some bought more since. The share terms are set once
(the currency's usual value of a share, a minimum and a maximum holding). Purchases go through the
service with keys derived from the member number, so loading again buys nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from core_banking.members.models import Member, MemberStatus
from core_banking.shares.models import ShareSettings, ShareTransaction
from core_banking.shares.services import share_purchase, share_settings_defaults, share_settings_update

if TYPE_CHECKING:
    from tenants.demo import DemoCooperative
    from tenants.models import Cooperative

KEY_PREFIX = "demo-shr"
# Per cooperative: (minimum holding, maximum holding, shares bought on joining, shares bought later).
TERMS = {
    "rupali": (5, 1000, (5, 10, 20), 10),  # Tk 100 a share: Tk 500-2,000 on joining
    "binhminh": (2, 200, (2, 5, 10), 3),  # 100,000 dong a share: 200,000-1,000,000 on joining
}


def shares_demo_load(cooperative: Cooperative, demo: DemoCooperative) -> None:
    if cooperative.slug not in TERMS:
        return
    minimum, maximum, on_joining, later = TERMS[cooperative.slug]
    if not ShareSettings.objects.exists():
        share_settings_update(
            actor=None,
            nominal_value_minor=share_settings_defaults(cooperative.currency).nominal_value_minor,
            minimum_shares=minimum,
            maximum_shares=maximum,
        )
    today = cooperative.business_date()
    done = set(
        ShareTransaction.objects.filter(idempotency_key__startswith=f"{KEY_PREFIX}:").values_list(
            "idempotency_key", flat=True
        )
    )
    members = Member.objects.exclude(status=MemberStatus.EXITED).order_by("id")
    for index, member in enumerate(members):
        first_key = f"{KEY_PREFIX}:{member.number}:1"
        if first_key not in done:
            share_purchase(
                member_id=member.pk,
                shares=on_joining[index % len(on_joining)],
                value_date=member.join_date,
                idempotency_key=first_key,
            )
        more_on = today - dt.timedelta(days=30 + index)
        second_key = f"{KEY_PREFIX}:{member.number}:2"
        if index % 4 == 0 and more_on > member.join_date and second_key not in done:
            share_purchase(member_id=member.pk, shares=later, value_date=more_on, idempotency_key=second_key)
