"""Writing a loan off, and money recovered after (L8).

A write-off takes the loan out of the book: its principal outstanding leaves the receivable
(1300-<product>) against the loan-loss provision the close of business has built for the branch
(1390), and against the provision expense (5200) for what the provision does not cover. Interest,
fees and penalties were never income (cash basis), so they leave no ledger trace; they stay part
of the member's debt. The instalments are kept as they stand: what was owed when the loan was
written off is the write-off's ``LoanTransaction`` (``amount_minor``: everything owed on that day,
``principal_minor`` of it principal). A pledge of savings stays in place: it still secures the debt.

A recovery is cash received for a written-off loan: Dr cash / Cr 4400 (recoveries of written-off
loans), at most what is still owed (the write-off's amount less earlier recoveries). The member's
SMS is the usual "instalment received".

The write-off is decided in the office and writes no SMS: the member's debt does not change.
Both take the loan row's lock, then the branch's day lock (a closed day takes neither), then the
ledger's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from control_plane.audit.services import audit_record
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting.day_rules import OFFICE_CHANNEL, counter_day_open_require
from core_banking.ledger.models import Account, AccountDayBalance
from core_banking.ledger.presets import CHART, cash_account_code, name_in
from core_banking.ledger.services import LineSpec, actor_id, journal_post
from core_banking.lending.errors import invalid, not_found, require_positive_amount
from core_banking.lending.models import (
    Loan,
    LoanStatus,
    LoanTransaction,
    LoanTransactionKind,
    RepaymentSource,
)
from core_banking.lending.services.loans import INTEREST_RECEIVABLE_CODE, loan_payoff_quote
from core_banking.lending.services.provisions import PROVISION_ACCOUNT_CODE, PROVISION_EXPENSE_CODE
from core_banking.savings.models import Channel
from notifications.models import MessageKind
from notifications.services import outbox_enqueue
from tenants.db import current_schema, workspace_currency, workspace_language

RECOVERIES_ACCOUNT_CODE = "4400"


def recoveries_account() -> Account:
    """Account 4400, made from the preset in a workspace whose chart predates it."""
    preset = next(preset for preset in CHART if preset.code == RECOVERIES_ACCOUNT_CODE)
    account, _created = Account.objects.get_or_create(
        code=RECOVERIES_ACCOUNT_CODE,
        defaults={"name": name_in(preset.names, workspace_language()), "kind": preset.kind},
    )
    return account


def provision_held_minor(*, branch_id: int, on_date: dt.date) -> int:
    """What account 1390 holds for the branch at the end of ``on_date`` (its credit balance)."""
    sums = AccountDayBalance.objects.filter(
        account__code=PROVISION_ACCOUNT_CODE, branch_id=branch_id, day__lte=on_date
    ).aggregate(debit=Sum("debit_minor"), credit=Sum("credit_minor"))
    return int(sums["credit"] or 0) - int(sums["debit"] or 0)


def _key_reused() -> BusinessRuleViolation:
    return BusinessRuleViolation(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        _("This idempotency key was already used for a different posting."),
        fields={"idempotency_key": [_("Used by another posting.")]},
    )


def _lock(loan_id: int) -> Loan:
    loan = (
        Loan.objects.select_for_update(of=("self",))
        .select_related("product__receivable_account", "branch", "member")
        .filter(pk=loan_id)
        .first()
    )
    if loan is None:
        raise not_found("loan", "loan", loan_id)
    return loan


def _lock_branch_provision(branch_id: int) -> None:
    """Write-offs of one branch take its provision one after another."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"{current_schema()}:lending-provision:{branch_id}"],
        )


@transaction.atomic
def loan_write_off(
    *, actor: Any | None, loan_id: int, on_date: dt.date, reason: str, idempotency_key: str
) -> LoanTransaction:
    """Write an active loan off on ``on_date``: Dr 1390 (up to what it holds for the branch), Dr 5200
    for the rest, Cr the product's receivable, for the principal outstanding; status ``written_off``.

    The same key again returns the first write-off.
    """
    if not reason.strip():
        raise invalid("reason", _("Say why the loan is written off."))
    earlier = LoanTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        if earlier.kind == LoanTransactionKind.WRITE_OFF and earlier.loan_id == loan_id:
            return earlier
        raise _key_reused()
    loan = _lock(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise BusinessRuleViolation(
            ErrorCode.LOAN_NOT_ACTIVE,
            _("Loan %(number)s is %(status)s.")
            % {"number": loan.number, "status": loan.get_status_display()},
            fields={"loan": [loan.status]},
        )
    if on_date < loan.disbursed_on:
        raise invalid("on_date", _("Before the disbursement."))
    quote = loan_payoff_quote(loan_id=loan.pk, on_date=on_date)
    if quote.total_minor <= 0:
        raise invalid("loan", _("Nothing is owed on this loan."))
    principal = loan.principal_outstanding_minor
    # Interest accrued and never received is taken back out of income (products that accrue).
    unreceived = loan.interest_receivable_minor
    counter_day_open_require(branch=loan.branch, day=on_date, channel=OFFICE_CHANNEL)
    entry = None
    from_provision = 0
    if principal or unreceived:
        _lock_branch_provision(loan.branch_id)
        from_provision = min(
            principal, max(provision_held_minor(branch_id=loan.branch_id, on_date=on_date), 0)
        )
        lines = [
            LineSpec(PROVISION_ACCOUNT_CODE, debit_minor=from_provision),
            LineSpec(PROVISION_EXPENSE_CODE, debit_minor=principal - from_provision),
            LineSpec(loan.product.receivable_account.code, credit_minor=principal),
            LineSpec(loan.product.interest_income_account.code, debit_minor=unreceived),
            LineSpec(INTEREST_RECEIVABLE_CODE, credit_minor=unreceived),
        ]
        entry = journal_post(
            idempotency_key=idempotency_key,
            value_date=on_date,
            branch=loan.branch,
            lines=[line for line in lines if line.debit_minor or line.credit_minor],
            memo=f"{loan.number} — {reason.strip()}"[:300],
            actor=actor,
        )
    loan.status = LoanStatus.WRITTEN_OFF
    loan.closed_on = on_date
    loan.principal_outstanding_minor = 0
    loan.interest_receivable_minor = 0
    loan.save(
        update_fields=["status", "closed_on", "principal_outstanding_minor", "interest_receivable_minor"]
    )
    written_off = LoanTransaction.objects.create(
        loan=loan,
        kind=LoanTransactionKind.WRITE_OFF,
        value_date=on_date,
        amount_minor=quote.total_minor,
        principal_minor=principal,
        interest_minor=quote.interest_minor,
        fee_minor=quote.fee_minor,
        penalty_minor=quote.penalty_minor,
        entry=entry,
        idempotency_key=idempotency_key,
        memo=reason.strip()[:300],
        created_at=timezone.now(),
        created_by_id=actor_id(actor),
    )
    audit_record(
        actor=actor,
        action="lending.loan.write_off",
        target=loan,
        changes={
            "on_date": on_date.isoformat(),
            "reason": reason.strip(),
            "owed_minor": quote.total_minor,
            "principal_minor": principal,
            "from_provision_minor": from_provision,
            "provision_expense_minor": principal - from_provision,
        },
    )
    return written_off


def recoverable_minor(loan: Loan) -> int:
    """What is still owed on a written-off loan: the write-off's amount less the recoveries since."""
    totals = dict(
        LoanTransaction.objects.filter(
            loan_id=loan.pk, kind__in=[LoanTransactionKind.WRITE_OFF, LoanTransactionKind.RECOVERY]
        )
        .values("kind")
        .annotate(total=Sum("amount_minor"))
        .values_list("kind", "total")
    )
    return int(totals.get(LoanTransactionKind.WRITE_OFF.value, 0)) - int(
        totals.get(LoanTransactionKind.RECOVERY.value, 0)
    )


@transaction.atomic
def loan_recovery(
    *,
    actor: Any | None,
    loan_id: int,
    amount_minor: int,
    value_date: dt.date,
    idempotency_key: str,
    cash_account: str = "",
    channel: str = Channel.OFFICE,
) -> LoanTransaction:
    """Cash received for a written-off loan: Dr cash (the branch's, or ``cash_account``) / Cr 4400.

    At most what is still owed; the same key again returns the first recovery.
    """
    require_positive_amount(amount_minor)
    earlier = LoanTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        if (earlier.loan_id, earlier.kind, earlier.amount_minor, earlier.value_date) == (
            loan_id,
            LoanTransactionKind.RECOVERY,
            amount_minor,
            value_date,
        ):
            return earlier
        raise _key_reused()
    loan = _lock(loan_id)
    if loan.status != LoanStatus.WRITTEN_OFF:
        raise invalid(
            "loan",
            _("Loan %(number)s is %(status)s; only a written-off loan takes recoveries.")
            % {"number": loan.number, "status": loan.get_status_display()},
        )
    if loan.closed_on is not None and value_date < loan.closed_on:
        raise invalid("value_date", _("Before the write-off."))
    still_owed = recoverable_minor(loan)
    if amount_minor > still_owed:
        raise BusinessRuleViolation(
            ErrorCode.REPAYMENT_ABOVE_PAYOFF,
            _("%(still)s is still owed on loan %(number)s; %(amount)s is more.")
            % {"still": still_owed, "number": loan.number, "amount": amount_minor},
            fields={"amount_minor": [_("At most %(still)s.") % {"still": still_owed}]},
            extra={"payoff_minor": still_owed},
        )
    counter_day_open_require(branch=loan.branch, day=value_date, channel=channel)
    recoveries_account()
    entry = journal_post(
        idempotency_key=idempotency_key,
        value_date=value_date,
        branch=loan.branch,
        lines=[
            LineSpec(cash_account or cash_account_code(loan.branch.code), debit_minor=amount_minor),
            LineSpec(RECOVERIES_ACCOUNT_CODE, credit_minor=amount_minor),
        ],
        memo=loan.number,
        actor=actor,
    )
    recovery = LoanTransaction.objects.create(
        loan=loan,
        kind=LoanTransactionKind.RECOVERY,
        value_date=value_date,
        amount_minor=amount_minor,
        source=RepaymentSource.CASH,
        channel=channel,
        entry=entry,
        idempotency_key=idempotency_key,
        created_at=timezone.now(),
        created_by_id=actor_id(actor),
    )
    outbox_enqueue(
        kind=MessageKind.INSTALMENT_RECEIVED,
        source_ref=idempotency_key,
        member=loan.member,
        context={
            "amount_minor": amount_minor,
            "currency": workspace_currency(),
            "loan": loan.number,
            "value_date": value_date.isoformat(),
            "outstanding_minor": still_owed - amount_minor,
            "next_due_date": None,
            "next_due_minor": 0,
        },
    )
    audit_record(
        actor=actor,
        action="lending.loan.recovery",
        target=loan,
        changes={
            "amount_minor": amount_minor,
            "value_date": value_date.isoformat(),
            "still_owed_minor": still_owed - amount_minor,
        },
    )
    return recovery
