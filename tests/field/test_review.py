"""Staff's side of field collection: suspense resolved, the pages' scope seen from the attacker's side,
and the collector's cash handed over through cash custody; the books balance after all of it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation
from core_banking.cash.models import CashHandover
from core_banking.lending.models import Loan, LoanProduct, LoanStatus, LoanTransaction
from core_banking.lending.services import loan_disburse, loan_payoff_quote, loan_repay
from core_banking.savings.models import SavingsTransaction
from field import selectors
from field.models import FieldRecord, ReviewOutcome
from field.services import field_record_mark_reviewed, field_suspense_resolve
from tests.conftest import ALPHA, BETA, workspace_client
from tests.core_banking.lending.conftest import journal_balanced, ledger_balance
from tests.core_banking.lending.test_workflow import _approved
from tests.field.conftest import (
    EMI,
    FieldDesk,
    business_date,
    device_client,
    instalment,
    item,
    register_device,
    sync,
    trial_balance_balanced,
)

pytestmark = pytest.mark.django_db


def _settle(loan: Loan) -> None:
    payoff = loan_payoff_quote(loan_id=loan.pk, on_date=business_date()).total_minor
    loan_repay(
        actor=None, loan_id=loan.pk, amount_minor=payoff, value_date=business_date(), idempotency_key="settle"
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED


def _held(client: Any, loan: Loan, *, sequence: int, amount: int = EMI) -> FieldRecord:
    """An instalment for the closed loan: posted to suspense, waiting for review."""
    sent = instalment(loan.pk, sequence=sequence, amount=amount)
    (answer,) = sync(client, sent).json()["items"]
    assert (answer["status"], answer["reason_code"], answer["flags"]) == (
        "needs_review",
        "loan_not_active",
        ["held_in_suspense"],
    )
    return FieldRecord.objects.get(client_uuid=sent["client_uuid"])


def test_cash_held_in_suspense_is_moved_to_savings_another_loan_or_back_to_the_member(
    desk: FieldDesk, loan: Loan, staff: dict[str, Any], monthly_product: LoanProduct
) -> None:
    _settle(loan)
    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    suspense_before = ledger_balance("2300")
    till = f"1100-HO-U{desk.officer_a.pk}"
    to_savings, to_loan, to_refund = (_held(client, loan, sequence=n) for n in (1, 2, 3))
    assert ledger_balance("2300") - suspense_before == -3 * EMI
    assert ledger_balance(till) == 3 * EMI  # the collector holds the cash, held for the member in suspense
    assert selectors.suspense_open_minor(desk.manager.staff_profile) == 3 * EMI

    # To savings, on the record's page.
    page = workspace_client(ALPHA, username="manager-ho")
    shown = page.get(f"/field/collections/records/{to_savings.pk}/")
    assert shown.status_code == 200 and b'value="resolve"' in shown.content
    done = page.post(
        f"/field/collections/records/{to_savings.pk}/",
        {
            "action": "resolve",
            "resolve-outcome": "deposited_to_savings",
            "resolve-savings_account": desk.account.pk,
            "resolve-note": "As asked",
        },
    )
    assert done.status_code == 302, done.content[:3000]
    with tenant_context(ALPHA.cooperative()):
        to_savings.refresh_from_db()
        assert (to_savings.review_outcome, to_savings.reviewed_by_id) == (
            "deposited_to_savings",
            desk.manager.pk,
        )
        deposit = SavingsTransaction.objects.get(idempotency_key=f"field:{to_savings.client_uuid}:resolve")
        assert (deposit.amount_minor, deposit.entry_id) == (EMI, to_savings.review_entry_id)
        assert sorted(
            (line.account.code, line.debit_minor, line.credit_minor) for line in deposit.entry.lines.all()
        ) == [("2100-VOL", 0, EMI), ("2300", EMI, 0)]
        desk.account.refresh_from_db()
        assert desk.account.balance_minor == EMI

        # To another loan of the same member.
        second = loan_disburse(
            actor=None,
            application_id=_approved(staff, loan.member, monthly_product).pk,
            disbursed_on=dt.date(2026, 3, 5),
            idempotency_key="disb-2",
        )
        principal_before = second.principal_outstanding_minor
        with pytest.raises(BusinessRuleViolation) as collector_refused:
            field_suspense_resolve(
                actor=desk.officer_a,
                record_id=to_loan.pk,
                outcome=ReviewOutcome.APPLIED_TO_LOAN,
                loan_id=second.pk,
            )
        assert collector_refused.value.code == "permission_denied"
        applied = field_suspense_resolve(
            actor=desk.accountant,
            record_id=to_loan.pk,
            outcome=ReviewOutcome.APPLIED_TO_LOAN,
            loan_id=second.pk,
        )
        payment = LoanTransaction.objects.get(idempotency_key=f"field:{to_loan.client_uuid}:resolve")
        assert (payment.loan_id, payment.amount_minor, payment.entry_id) == (
            second.pk,
            EMI,
            applied.review_entry_id,
        )
        second.refresh_from_db()
        assert principal_before - second.principal_outstanding_minor == payment.principal_minor > 0
        # A mark-reviewed cannot leave money in suspense; a refund pays it back from the payer's cash.
        with pytest.raises(BusinessRuleViolation):
            field_record_mark_reviewed(actor=desk.manager, record_id=to_refund.pk, note="Returned")
        manager_till_before = ledger_balance(f"1100-HO-U{desk.manager.pk}")
        refunded = field_suspense_resolve(
            actor=desk.manager,
            record_id=to_refund.pk,
            outcome=ReviewOutcome.REFUNDED,
            note="Paid back at the office",
        )
        assert ledger_balance(f"1100-HO-U{desk.manager.pk}") - manager_till_before == -EMI
        assert refunded.review_entry is not None
        assert refunded.review_entry.idempotency_key == f"field:{to_refund.client_uuid}:resolve"
        # Done once: a second resolution is refused, nothing posts twice.
        with pytest.raises(BusinessRuleViolation) as twice:
            field_suspense_resolve(actor=desk.manager, record_id=to_refund.pk, outcome=ReviewOutcome.REFUNDED)
        assert twice.value.code == "already_decided"
        assert ledger_balance("2300") == suspense_before
        assert selectors.suspense_open_minor(desk.manager.staff_profile) == 0
        assert (
            AuditEvent.objects.filter(
                action__startswith="field.record.",
                object_id__in=[str(r.pk) for r in (to_savings, to_loan, to_refund)],
            ).count()
            == 3
        )
        assert journal_balanced() and trial_balance_balanced()


def test_an_officer_sees_only_their_records_and_another_cooperative_sees_none(
    desk: FieldDesk, loan: Loan
) -> None:
    _, token_a = register_device(ALPHA, "officer-a")
    _, token_b = register_device(ALPHA, "officer-b")
    day = business_date()
    a_items = [
        instalment(loan.pk, sequence=1),
        item(
            "attendance",
            sequence=2,
            group=desk.group_a.pk,
            meeting_date=day.isoformat(),
            present=[loan.member_id],
            absent=[],
        ),
    ]
    b_item = item(
        "attendance", sequence=1, group=desk.group_b.pk, meeting_date=day.isoformat(), present=[], absent=[]
    )
    assert [a["status"] for a in sync(device_client(ALPHA, token_a), *a_items).json()["items"]] == [
        "created",
        "created",
    ]
    assert sync(device_client(ALPHA, token_b), b_item).json()["items"][0]["status"] == "created"
    with tenant_context(ALPHA.cooperative()):
        a_record = FieldRecord.objects.get(client_uuid=a_items[0]["client_uuid"])
        b_record = FieldRecord.objects.get(client_uuid=b_item["client_uuid"])
    a_day = f"/field/collections/{desk.officer_a.pk}/{day.isoformat()}/"

    # Officer B: their own day and record, never A's.
    officer_b = workspace_client(ALPHA, username="officer-b")
    index = officer_b.get("/field/collections/")
    assert index.status_code == 200
    assert b"officer-a" not in index.content and b"officer-b" in index.content
    assert officer_b.get(a_day).status_code == 404
    assert officer_b.get(f"/field/collections/records/{a_record.pk}/").status_code == 404
    assert officer_b.get(f"/field/collections/records/{b_record.pk}/").status_code == 200
    review = officer_b.get("/field/collections/review/").content
    assert f"/field/collections/records/{a_record.pk}/".encode() not in review

    # Officer A sees their day with their cash; the head office's manager sees both collectors.
    own = workspace_client(ALPHA, username="officer-a").get(a_day)
    assert own.status_code == 200 and b"Shapla" in own.content
    manager = workspace_client(ALPHA, username="manager-ho").get("/field/collections/")
    assert b"officer-a" in manager.content and b"officer-b" in manager.content
    # A manager of another branch sees none of the head office's records.
    other_branch = workspace_client(ALPHA, username="manager-one")
    assert b"officer-a" not in other_branch.get("/field/collections/").content
    assert other_branch.get(f"/field/collections/records/{a_record.pk}/").status_code == 404

    # Another cooperative's admin, on their own host, asking for alpha's record and day.
    beta_admin = workspace_client(BETA, username=BETA.admin)
    assert beta_admin.get(f"/field/collections/records/{a_record.pk}/").status_code == 404
    assert b"officer-a" not in beta_admin.get("/field/collections/").content
    # Nor does a signed-in alpha session work on beta's host.
    alpha_admin = workspace_client(ALPHA, username=ALPHA.admin)
    alpha_admin.defaults["HTTP_HOST"] = BETA.host
    assert alpha_admin.get(f"/field/collections/records/{a_record.pk}/").status_code in (302, 404)


def test_the_collector_hands_the_days_cash_to_the_vault_and_the_books_follow(
    desk: FieldDesk, loan: Loan
) -> None:
    _, token = register_device(ALPHA, "officer-a")
    client = device_client(ALPHA, token)
    deposit = item(
        "savings_deposit",
        sequence=2,
        account=desk.account.pk,
        amount_minor=2_000_00,
        value_date=business_date().isoformat(),
    )
    assert [a["status"] for a in sync(client, instalment(loan.pk, sequence=1), deposit).json()["items"]] == [
        "created",
        "created",
    ]
    day = f"/field/collections/{desk.officer_a.pk}/{business_date().isoformat()}/"
    officer = workspace_client(ALPHA, username="officer-a")
    (row,) = officer.get("/field/collections/").context["rows"]
    assert [(total.kind, total.count, total.amount_minor) for total in row.kinds] == [
        ("instalment", 1, EMI),
        ("savings_deposit", 1, 2_000_00),
    ]
    assert (row.collector_id, row.records, row.pending_review, row.cash_minor) == (
        desk.officer_a.pk,
        2,
        0,
        EMI + 2_000_00,
    )
    assert row.last_received_at is not None
    page = officer.get(day)
    assert page.status_code == 200
    expected = EMI + 2_000_00
    assert page.context["expected_minor"] == expected
    (till,) = page.context["tills"]
    assert till.book_minor == expected
    counted = expected - 100_00  # Tk 100 short
    sent = officer.post(
        day,
        {
            "action": "handover",
            "branch": till.holder.branch_id,
            "amount": f"{counted / 100:.2f}",
            "idempotency_key": "h-1",
        },
    )
    assert sent.status_code == 302, sent.content[:3000]
    with tenant_context(ALPHA.cooperative()):
        handover = CashHandover.objects.get(idempotency_key="h-1")
        assert (handover.amount_minor, handover.status, handover.giver.user_id) == (
            counted,
            "pending",
            desk.officer_a.pk,
        )
    # Another officer cannot confirm it (nor see the day); the head office's manager does.
    assert (
        workspace_client(ALPHA, username="officer-b")
        .post(day, {"action": "confirm", "handover": handover.pk})
        .status_code
        == 404
    )
    vault_before = ledger_balance("1100-HO")
    confirmed = workspace_client(ALPHA, username="manager-ho").post(
        day, {"action": "confirm", "handover": handover.pk}
    )
    assert confirmed.status_code == 302
    with tenant_context(ALPHA.cooperative()):
        handover.refresh_from_db()
        assert handover.status == "confirmed"
        assert (
            ledger_balance(f"1100-HO-U{desk.officer_a.pk}") == 100_00
        )  # the shortfall stays with the collector
        assert ledger_balance("1100-HO") - vault_before == counted
        assert journal_balanced() and trial_balance_balanced()
    after = workspace_client(ALPHA, username="manager-ho").get(day)
    (till_after,) = after.context["tills"]
    assert (till_after.book_minor, till_after.handed_over_minor, till_after.pending_minor) == (
        100_00,
        counted,
        0,
    )


def test_whoever_collected_the_money_does_not_resolve_it(desk: FieldDesk, loan: Loan) -> None:
    # The head office's manager collects in the field too; their own record goes to someone else.
    _settle(loan)
    _, token = register_device(ALPHA, "manager-ho")
    record = _held(device_client(ALPHA, token), loan, sequence=1)
    with pytest.raises(BusinessRuleViolation) as own:
        field_suspense_resolve(actor=desk.manager, record_id=record.pk, outcome=ReviewOutcome.REFUNDED)
    assert own.value.code == "maker_cannot_check"
    page = workspace_client(ALPHA, username="manager-ho").get(f"/field/collections/records/{record.pk}/")
    assert page.status_code == 200 and b'value="resolve"' not in page.content
    refunded = field_suspense_resolve(
        actor=desk.accountant, record_id=record.pk, outcome=ReviewOutcome.REFUNDED
    )
    assert (refunded.review_outcome, refunded.reviewed_by_id) == ("refunded", desk.accountant.pk)
    assert journal_balanced() and trial_balance_balanced()
