"""Handovers between cash holders: nothing posts until the receiver confirms, once, and only the receiver."""

from __future__ import annotations

import pytest

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.cash import selectors
from core_banking.cash.models import CashHandover, CashHolder, HandoverStatus
from core_banking.cash.services import (
    cash_handover_cancel,
    cash_handover_confirm,
    cash_handover_reject,
    cash_handover_send,
)
from core_banking.ledger.models import JournalEntry
from core_banking.organisation.models import Branch
from tests.core_banking.cash.conftest import DAY, OPENING_MINOR, give_teller, make_staff


def _send(
    actor: User, branch: Branch, giver: User | None, receiver: User | None, *, amount: int, key: str
) -> CashHandover:
    return cash_handover_send(
        actor=actor,
        branch=branch,
        giver_user=giver,
        receiver_user=receiver,
        amount_minor=amount,
        value_date=DAY,
        idempotency_key=key,
    )


def _balances(branch: Branch) -> dict[str, int]:
    return {
        row.account_code: row.balance_minor
        for row in selectors.holder_rows(visible_branch_ids=None, branch_id=branch.pk)
    }


def _code(user: User) -> str:
    return f"1100-HO-U{user.pk}"


def test_a_pending_handover_posts_nothing(head_office: Branch, manager: User, teller: User) -> None:
    entries = JournalEntry.objects.count()
    handover = _send(manager, head_office, None, teller, amount=20_000_00, key="h-1")
    assert handover.status == HandoverStatus.PENDING and handover.entry is None
    assert JournalEntry.objects.count() == entries
    assert _balances(head_office) == {"1100-HO": OPENING_MINOR, _code(teller): 0}
    rows = {
        row.account_code: row
        for row in selectors.holder_rows(visible_branch_ids=None, branch_id=head_office.pk)
    }
    assert (rows["1100-HO"].pending_out_minor, rows[_code(teller)].pending_in_minor) == (20_000_00, 20_000_00)
    assert rows[_code(teller)].kind == "teller" and rows["1100-HO"].kind == "vault"
    # The same key again is the same handover; with other content it is refused.
    assert _send(manager, head_office, None, teller, amount=20_000_00, key="h-1").pk == handover.pk
    with pytest.raises(BusinessRuleViolation) as refused:
        _send(manager, head_office, None, teller, amount=20_000_01, key="h-1")
    assert refused.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert CashHandover.objects.count() == 1


def test_confirming_posts_one_entry_and_again_returns_it(
    head_office: Branch, manager: User, teller: User
) -> None:
    handover = _send(manager, head_office, None, teller, amount=20_000_00, key="h-1")
    confirmed = cash_handover_confirm(actor=teller, handover_id=handover.pk)
    assert confirmed.status == HandoverStatus.CONFIRMED and confirmed.decided_by_id == teller.pk
    lines = [
        (line.account.code, line.debit_minor, line.credit_minor)
        for line in confirmed.entry.lines.order_by("id")
    ]  # type: ignore[union-attr]
    assert lines == [(_code(teller), 20_000_00, 0), ("1100-HO", 0, 20_000_00)]
    assert confirmed.entry.value_date == DAY and confirmed.entry.branch_id == head_office.pk  # type: ignore[union-attr]
    entries = JournalEntry.objects.count()
    again = cash_handover_confirm(actor=teller, handover_id=handover.pk)
    assert again.entry_id == confirmed.entry_id and JournalEntry.objects.count() == entries
    assert _balances(head_office) == {"1100-HO": 80_000_00, _code(teller): 20_000_00}
    assert list(
        AuditEvent.objects.filter(object_type="cash.cashhandover", object_id=str(handover.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["cash.handover.send", "cash.handover.confirm"]


def test_only_the_receiver_confirms(head_office: Branch, manager: User, teller: User, field: User) -> None:
    to_teller = _send(manager, head_office, None, teller, amount=5_000_00, key="h-1")
    for outsider in (field, manager):
        with pytest.raises(BusinessRuleViolation) as refused:
            cash_handover_confirm(actor=outsider, handover_id=to_teller.pk)
        assert refused.value.code == ErrorCode.CASH_HANDOVER_NOT_RECEIVER
    with pytest.raises(BusinessRuleViolation) as refused:
        cash_handover_reject(actor=field, handover_id=to_teller.pk, reason="not mine")
    assert refused.value.code == ErrorCode.CASH_HANDOVER_NOT_RECEIVER
    assert CashHandover.objects.get(pk=to_teller.pk).status == HandoverStatus.PENDING
    cash_handover_confirm(actor=teller, handover_id=to_teller.pk)
    # Back to the vault: the teller keeps vaults too (an accountant), yet cannot confirm their own giving.
    back = _send(teller, head_office, teller, None, amount=1_000_00, key="h-2")
    with pytest.raises(BusinessRuleViolation) as refused:
        cash_handover_confirm(actor=teller, handover_id=back.pk)
    assert refused.value.code == ErrorCode.CASH_HANDOVER_SENDER_CANNOT_CONFIRM
    with pytest.raises(BusinessRuleViolation) as refused:
        cash_handover_confirm(actor=field, handover_id=back.pk)  # a field officer keeps no vault
    assert refused.value.code == ErrorCode.CASH_HANDOVER_NOT_RECEIVER
    cash_handover_confirm(actor=manager, handover_id=back.pk)
    assert _balances(head_office) == {"1100-HO": 96_000_00, _code(teller): 4_000_00}


def test_a_teller_hands_over_only_their_own_cash(
    head_office: Branch, manager: User, teller: User, field: User
) -> None:
    give_teller(manager, teller, head_office, 3_000_00)
    for giver in (teller, None):  # another's till, or a vault the field officer does not keep
        with pytest.raises(BusinessRuleViolation) as refused:
            _send(field, head_office, giver, field, amount=100_00, key="h-x")
        assert refused.value.code == ErrorCode.CASH_HOLDER_FORBIDDEN
    with pytest.raises(BusinessRuleViolation) as refused:
        _send(teller, head_office, teller, teller, amount=100_00, key="h-y")
    assert refused.value.code == ErrorCode.CASH_HANDOVER_SAME_HOLDER
    handed = _send(teller, head_office, teller, field, amount=1_200_00, key="h-z")
    cash_handover_confirm(actor=field, handover_id=handed.pk)
    assert CashHolder.objects.get(user=field).kind == "field_officer"
    assert _balances(head_office)[_code(field)] == 1_200_00


def test_no_one_hands_over_more_than_they_hold(head_office: Branch, manager: User, teller: User) -> None:
    give_teller(manager, teller, head_office, 1_000_00)
    _send(teller, head_office, teller, None, amount=600_00, key="h-1")  # pending: 400.00 remain to give
    with pytest.raises(BusinessRuleViolation) as refused:
        _send(teller, head_office, teller, None, amount=400_01, key="h-2")
    assert refused.value.code == ErrorCode.CASH_BALANCE_INSUFFICIENT
    assert refused.value.fields == {"amount": ["At most 40000."]}
    assert _send(teller, head_office, teller, None, amount=400_00, key="h-3").amount_minor == 400_00


def test_a_rejected_or_cancelled_handover_posts_nothing(
    head_office: Branch, manager: User, teller: User
) -> None:
    entries = JournalEntry.objects.count()
    rejected = cash_handover_reject(
        actor=teller,
        handover_id=_send(manager, head_office, None, teller, amount=700_00, key="h-1").pk,
        reason="Only 600 came",
    )
    assert (rejected.status, rejected.reason) == (HandoverStatus.REJECTED, "Only 600 came")
    with pytest.raises(BusinessRuleViolation) as refused:
        cash_handover_confirm(actor=teller, handover_id=rejected.pk)
    assert refused.value.code == ErrorCode.CASH_HANDOVER_NOT_PENDING
    second = _send(manager, head_office, None, teller, amount=600_00, key="h-2")
    with pytest.raises(BusinessRuleViolation) as refused:
        cash_handover_cancel(actor=teller, handover_id=second.pk)
    assert refused.value.code == ErrorCode.CASH_HOLDER_FORBIDDEN
    assert cash_handover_cancel(actor=manager, handover_id=second.pk).status == HandoverStatus.CANCELLED
    with pytest.raises(BusinessRuleViolation):
        cash_handover_confirm(actor=teller, handover_id=second.pk)
    assert JournalEntry.objects.count() == entries
    assert _balances(head_office)["1100-HO"] == OPENING_MINOR


def test_only_staff_who_may_hold_cash_at_the_branch_receive_it(head_office: Branch, manager: User) -> None:
    approver = make_staff("officer-x", ["loan_officer"])
    elsewhere = make_staff("br1-clerk", ["accountant"], branch=Branch.objects.get(code="BR1"))
    for receiver in (approver, elsewhere):
        with pytest.raises(BusinessRuleViolation) as refused:
            _send(manager, head_office, None, receiver, amount=100_00, key=f"h-{receiver.pk}")
        assert refused.value.code == ErrorCode.CASH_HOLDER_INVALID
    assert not CashHolder.objects.filter(user__in=[approver, elsewhere]).exists()


def test_a_branch_limited_officer_sees_only_their_branchs_holders(
    head_office: Branch, manager: User, teller: User
) -> None:
    give_teller(manager, teller, head_office, 2_000_00)
    br1_officer = User.objects.get(username="alpha-only")
    visible = br1_officer.staff_profile.visible_branch_ids()
    assert {row.branch.code for row in selectors.holder_rows(visible_branch_ids=visible)} == {"BR1"}
    assert (
        selectors.handover_for_staff(handover_id=CashHandover.objects.get().pk, visible_branch_ids=visible)
        is None
    )
    with pytest.raises(BusinessRuleViolation) as refused:
        cash_handover_confirm(actor=br1_officer, handover_id=CashHandover.objects.get().pk)
    assert refused.value.code == ErrorCode.CASH_HANDOVER_NOT_RECEIVER
