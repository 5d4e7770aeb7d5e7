"""Writes to the organisation: branches and regions."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from control_plane.audit.services import audit_record
from core_banking.organisation.models import Branch, Region


@transaction.atomic
def branch_create(
    *, actor: Any | None, code: str, name: str, is_head_office: bool = False, region: Region | None = None
) -> Branch:
    from core_banking.ledger.services import branch_cash_account_ensure
    from tenants.db import current_cooperative

    branch = Branch.objects.create(
        code=code.strip(), name=name.strip(), is_head_office=is_head_office, region=region
    )
    cooperative = current_cooperative()
    branch_cash_account_ensure(branch=branch, language=cooperative.default_language if cooperative else "en")
    audit_record(
        actor=actor,
        action="branch.create",
        target=branch,
        changes={"code": branch.code, "name": branch.name, "is_head_office": is_head_office},
    )
    return branch
