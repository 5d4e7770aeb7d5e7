"""What keeps a member from leaving: a registry of exit blockers.

A member may not exit while they owe the cooperative money or stand behind someone else's debt.
Each module that knows of such a tie registers a *blocker*: a plain callable that receives the
member and returns the reasons they cannot leave yet (an empty sequence when nothing blocks).
``member_exit`` asks every registered blocker and refuses with ``ErrorCode.EXIT_REFUSED`` and
``fields = {blocker name: [reasons...]}`` when any answers; the exit page shows the same reasons
before asking for confirmation.

Registering (the lending module, in its ``AppConfig.ready()``)::

    from core_banking.shares.exit_rules import register_exit_blocker

    def loans_outstanding(member: Member) -> list[str]:
        return [gettext("Loan %(number)s is not repaid.") % {...} for loan in ...]

    register_exit_blocker("loans_outstanding", loans_outstanding)
    register_exit_blocker("guarantees_live_loan", guarantees_of_live_loans)

Contract of a blocker:
- It runs inside the exit's transaction after the member's row is locked (``SELECT ... FOR NO KEY
  UPDATE``) and after the member's savings accounts are locked. A module that creates what a
  blocker looks for (a disbursement, a guarantee) must lock the member's row the same way and
  refuse an exited member in its own transaction, so the two cannot interleave.
- It only reads. It returns short, translated sentences (``gettext``) naming the account or loan.
- Its name is the stable key of the reasons in the API's ``fields`` (snake_case).

Shipped today: ``savings_lien`` (savings pledged as security and not released).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.translation import get_language, gettext

from core_banking.members.models import Member
from frontend.formatting import format_money
from tenants.db import workspace_currency

ExitBlockerCheck = Callable[[Member], Sequence[str]]


@dataclass(frozen=True)
class ExitBlocker:
    name: str
    check: ExitBlockerCheck


_REGISTRY: dict[str, ExitBlockerCheck] = {}


def register_exit_blocker(name: str, check: ExitBlockerCheck) -> ExitBlockerCheck:
    """Add a blocker under ``name`` (registering a name again replaces it); returns ``check``."""
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"An exit blocker's name is a snake_case key, not {name!r}.")
    _REGISTRY[name] = check
    return check


def unregister_exit_blocker(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered_exit_blockers() -> tuple[ExitBlocker, ...]:
    return tuple(ExitBlocker(name, check) for name, check in sorted(_REGISTRY.items()))


def exit_blockers(member: Member) -> dict[str, list[str]]:
    """Every registered blocker's reasons for this member, by blocker name; empty when free to go."""
    found: dict[str, list[str]] = {}
    for blocker in registered_exit_blockers():
        reasons = [str(reason) for reason in blocker.check(member)]
        if reasons:
            found[blocker.name] = reasons
    return found


def _money(amount_minor: int) -> str:
    return format_money(amount_minor, workspace_currency(), get_language() or "en")


def savings_under_lien(member: Member) -> list[str]:
    """Savings pledged as security for a loan stay until the lien is released."""
    from core_banking.savings.models import AccountStatus, Lien, SavingsAccount

    reasons = []
    accounts = SavingsAccount.objects.filter(member_id=member.pk, lien_minor__gt=0).exclude(
        status=AccountStatus.CLOSED
    )
    for account in accounts.order_by("id"):
        liens = Lien.objects.filter(account_id=account.pk, released_at__isnull=True).order_by("id")
        purposes = "; ".join(
            f"{lien.reason} ({lien.reference})" if lien.reference else lien.reason for lien in liens
        )
        reasons.append(
            gettext("Savings account %(number)s: %(amount)s pledged as security (%(purpose)s).")
            % {"number": account.number, "amount": _money(account.lien_minor), "purpose": purposes or "—"}
        )
    return reasons


register_exit_blocker("savings_lien", savings_under_lien)
