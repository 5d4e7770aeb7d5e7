"""Corrections: a reversal and a corrected voucher linked to the original, with maker-checker on request."""

from __future__ import annotations

import pytest

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.accounting.models import CorrectionRequest, CorrectionStatus, Voucher
from core_banking.accounting.selectors import entry_view
from core_banking.accounting.services import (
    VoucherLine,
    accounting_settings_update,
    correction_approve,
    correction_reject,
    correction_submit,
)
from core_banking.ledger.models import AccountDayBalance, JournalEntry
from core_banking.ledger.services import LineSpec, journal_post, ledger_verify
from core_banking.organisation.models import Branch
from tests.core_banking.accounting.conftest import DAY, receipt

FIXED = [VoucherLine("1100-HO", debit_minor=500_00), VoucherLine("4300", credit_minor=500_00)]


def _net(code: str, branch: Branch) -> int:
    row = AccountDayBalance.objects.get(account__code=code, branch=branch, day=DAY)
    return row.debit_minor - row.credit_minor


def _submit(original: JournalEntry, actor: User, key: str = "fix-1") -> CorrectionRequest:
    return correction_submit(
        actor=actor,
        original=original,
        reason="Keyed 5,000 instead of 500",
        value_date=DAY,
        corrected_lines=FIXED,
        idempotency_key=key,
    )


def test_a_correction_posts_the_reversal_and_the_corrected_voucher_linked_to_the_original(
    head_office: Branch, maker: User
) -> None:
    original = receipt(head_office, "rv-1", ("4300", 5_000_00))
    request = _submit(original.entry, maker)
    assert request.status == CorrectionStatus.POSTED
    reversal, corrected = request.reversal, request.corrected
    assert reversal is not None and corrected is not None
    assert reversal.reverses_id == original.entry.pk
    assert [(line.account.code, line.debit_minor, line.credit_minor) for line in reversal.lines.all()] == [
        ("1100-HO", 0, 5_000_00),
        ("4300", 5_000_00, 0),
    ]
    corrected_voucher = Voucher.objects.get(entry=corrected)
    assert (corrected_voucher.number, corrected_voucher.corrects_id) == (
        "RV-HO-2026-27-00002",
        original.entry.pk,
    )
    assert corrected_voucher.narration == "Fees received"
    assert (_net("1100-HO", head_office), _net("4300", head_office)) == (500_00, -500_00)
    submitted = AuditEvent.objects.get(action="accounting.correction_submit")
    assert (submitted.actor_id, submitted.changes["reason"]) == (maker.pk, "Keyed 5,000 instead of 500")
    assert AuditEvent.objects.get(action="journal.correct").changes["reason"] == "Keyed 5,000 instead of 500"
    view = entry_view(original.entry)
    assert not view.correctable and view.reversals == [reversal]
    assert ledger_verify().reason == ""

    again = _submit(original.entry, maker)
    assert again.pk == request.pk and JournalEntry.objects.count() == 3
    with pytest.raises(BusinessRuleViolation) as twice:
        _submit(original.entry, maker, key="fix-2")
    assert twice.value.code == ErrorCode.ENTRY_ALREADY_CORRECTED


def test_a_correction_without_lines_cancels_any_office_entry(head_office: Branch, maker: User) -> None:
    entry = journal_post(
        idempotency_key="raw-1",
        value_date=DAY,
        branch=head_office,
        lines=[LineSpec("1200", debit_minor=300), LineSpec("1100-HO", credit_minor=300)],
    )
    request = correction_submit(
        actor=maker, original=entry, reason="Posted twice", value_date=DAY, corrected_lines=[],
        idempotency_key="cancel-1",
    )  # fmt: skip
    assert request.corrected is None and request.reversal is not None
    assert _net("1200", head_office) == 0


def test_with_maker_checker_nothing_posts_until_another_person_approves(
    head_office: Branch, maker: User, checker: User
) -> None:
    accounting_settings_update(actor=None, fiscal_year_start_month=7, corrections_need_approval=True)
    original = receipt(head_office, "rv-1", ("4300", 5_000_00))
    request = _submit(original.entry, maker)
    assert request.status == CorrectionStatus.PENDING
    assert JournalEntry.objects.count() == 1
    assert _net("1100-HO", head_office) == 5_000_00
    with pytest.raises(BusinessRuleViolation) as own:
        correction_approve(actor=maker, request_id=request.pk)
    assert own.value.code == ErrorCode.MAKER_CANNOT_CHECK
    assert JournalEntry.objects.count() == 1
    with pytest.raises(BusinessRuleViolation) as second:
        _submit(original.entry, checker, key="fix-2")
    assert second.value.code == ErrorCode.CORRECTION_PENDING

    approved = correction_approve(actor=checker, request_id=request.pk)
    assert (approved.status, approved.maker_id, approved.checker_id) == ("posted", maker.pk, checker.pk)
    assert JournalEntry.objects.count() == 3
    assert _net("1100-HO", head_office) == 500_00
    assert AuditEvent.objects.get(action="accounting.correction_approve").actor_id == checker.pk
    assert correction_approve(actor=checker, request_id=request.pk).pk == request.pk  # no second posting
    assert JournalEntry.objects.count() == 3


def test_a_rejected_correction_posts_nothing_and_frees_the_entry(
    head_office: Branch, maker: User, checker: User, br1_accountant: User
) -> None:
    accounting_settings_update(actor=None, fiscal_year_start_month=7, corrections_need_approval=True)
    original = receipt(head_office, "rv-1", ("4300", 5_000_00))
    request = _submit(original.entry, maker)
    with pytest.raises(BusinessRuleViolation) as outside:
        correction_reject(actor=br1_accountant, request_id=request.pk, reason="No")
    assert outside.value.code == ErrorCode.PERMISSION_DENIED  # the head office is not their branch
    rejected = correction_reject(actor=checker, request_id=request.pk, reason="Amount was right")
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Amount was right")
    assert JournalEntry.objects.count() == 1
    with pytest.raises(BusinessRuleViolation) as late:
        correction_approve(actor=checker, request_id=request.pk)
    assert late.value.code == ErrorCode.CORRECTION_NOT_PENDING
    assert _submit(original.entry, maker, key="fix-2").status == CorrectionStatus.PENDING


def test_entries_of_other_modules_and_reversals_are_not_corrected_here(
    head_office: Branch, maker: User
) -> None:
    from decimal import Decimal

    from core_banking.savings.services import savings_account_open, savings_deposit, savings_product_create
    from tests.core_banking.savings.conftest import make_member

    product = savings_product_create(
        actor=None, code="VOL", name="Voluntary", kind="voluntary", annual_rate=Decimal("6"),
        rate_effective_from=DAY,
    )  # fmt: skip
    account = savings_account_open(actor=None, member=make_member("HO-1"), product=product, opened_on=DAY)
    deposit = savings_deposit(
        account_id=account.pk, amount_minor=100_00, value_date=DAY, idempotency_key="d-1"
    )
    with pytest.raises(BusinessRuleViolation) as owned:
        _submit(JournalEntry.objects.get(pk=deposit.entry_id), maker)
    assert owned.value.code == ErrorCode.ENTRY_OWNED_BY_MODULE  # corrected in savings, so balances agree

    original = receipt(head_office, "rv-1", ("4300", 5_000_00))
    request = _submit(original.entry, maker)
    with pytest.raises(BusinessRuleViolation) as of_reversal:
        _submit(request.reversal, maker, key="fix-2")  # type: ignore[arg-type]
    assert of_reversal.value.code == ErrorCode.ENTRY_IS_A_REVERSAL


def test_an_unbalanced_correction_is_refused(head_office: Branch, maker: User) -> None:
    original = receipt(head_office, "rv-1", ("4300", 5_000_00))
    with pytest.raises(BusinessRuleViolation) as raised:
        correction_submit(
            actor=maker, original=original.entry, reason="Fix", value_date=DAY, idempotency_key="fix-1",
            corrected_lines=[VoucherLine("1100-HO", debit_minor=500_00), VoucherLine("4300", credit_minor=5)],
        )  # fmt: skip
    assert raised.value.code == ErrorCode.ENTRY_UNBALANCED
    assert not CorrectionRequest.objects.exists()
