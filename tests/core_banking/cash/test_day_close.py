"""A cashier's day close: cash counted by denomination against the book, the difference posted once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.cash import selectors
from core_banking.cash.denominations import MAX_PIECES
from core_banking.cash.models import CashDayClose
from core_banking.cash.services import cash_day_close, cash_handover_send
from core_banking.ledger.models import Account, JournalEntry
from core_banking.organisation.models import Branch
from tests.core_banking.cash.conftest import DAY, give_teller

# Tk 19,950.50: 19 × 1000, 1 × 500, 4 × 100, 2 × 20, 1 × 10 notes, and a 50-poisha coin.
SHORT_COUNT = {"note-1000": 19, "note-500": 1, "note-100": 4, "note-20": 2, "note-10": 1, "coin-0.50": 1}


def _close(
    actor: User, branch: Branch, holder: User | None, counts: dict[str, Any], key: str = "close-1"
) -> CashDayClose:
    return cash_day_close(
        actor=actor, branch=branch, user=holder, business_date=DAY, counts=counts, idempotency_key=key
    )


def _lines(close: CashDayClose) -> list[tuple[str, int, int]]:
    assert close.entry is not None
    return [
        (line.account.code, line.debit_minor, line.credit_minor) for line in close.entry.lines.order_by("id")
    ]


@pytest.fixture
def till(head_office: Branch, manager: User, teller: User) -> str:
    """The teller holds Tk 20,000.00 on DAY."""
    give_teller(manager, teller, head_office, 20_000_00)
    return f"1100-HO-U{teller.pk}"


def test_a_shortage_posts_dr_shortages_cr_the_till(head_office: Branch, teller: User, till: str) -> None:
    close = _close(teller, head_office, teller, SHORT_COUNT)
    assert (close.counted_minor, close.book_minor, close.difference_minor) == (19_950_50, 20_000_00, -49_50)
    assert close.shortage_minor == 49_50 and close.surplus_minor == 0
    assert close.counts == SHORT_COUNT
    assert _lines(close) == [("1450", 49_50, 0), (till, 0, 49_50)]
    with translation.override("bn"):  # the ledger is written in the cooperative's language
        memo = translation.gettext("Cash shortage at day close: %(holder)s") % {"holder": "Teller"}
    assert close.entry.value_date == DAY and close.entry.memo == memo  # type: ignore[union-attr]
    assert selectors.balance_minor(Account.objects.get(code=till).pk) == 19_950_50
    event = AuditEvent.objects.get(action="cash.day_close", object_id=str(close.pk))
    assert event.changes["difference_minor"] == -49_50 and event.actor_id == teller.pk


def test_a_surplus_posts_dr_the_till_cr_surpluses(head_office: Branch, teller: User, till: str) -> None:
    close = _close(teller, head_office, teller, {"note-1000": 20, "note-5": 1, "coin-2": 2, "coin-1": 1})
    assert (close.counted_minor, close.difference_minor) == (20_010_00, 10_00)
    assert _lines(close) == [(till, 10_00, 0), ("2310", 0, 10_00)]
    assert selectors.balance_minor(Account.objects.get(code=till).pk) == 20_010_00


def test_a_count_that_agrees_posts_nothing(head_office: Branch, teller: User, till: str) -> None:
    entries = JournalEntry.objects.count()
    close = _close(teller, head_office, teller, {"note-1000": 20})
    assert close.difference_minor == 0 and close.entry is None
    assert JournalEntry.objects.count() == entries


def test_a_day_closes_once(head_office: Branch, teller: User, manager: User, till: str) -> None:
    first = _close(teller, head_office, teller, SHORT_COUNT)
    entries = JournalEntry.objects.count()
    assert _close(teller, head_office, teller, SHORT_COUNT).pk == first.pk  # the same request again
    with pytest.raises(BusinessRuleViolation) as refused:
        _close(teller, head_office, teller, {"note-1000": 20}, key="close-1")
    assert refused.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    for actor in (teller, manager):  # a second close, by the teller or by the keeper
        with pytest.raises(BusinessRuleViolation) as refused:
            _close(actor, head_office, teller, {"note-1000": 20}, key=f"close-2-{actor.pk}")
        assert refused.value.code == ErrorCode.CASH_DAY_CLOSED
    assert JournalEntry.objects.count() == entries
    with pytest.raises(IntegrityError), transaction.atomic():  # PostgreSQL has the last word
        CashDayClose.objects.create(
            holder=first.holder, business_date=DAY, counted_minor=0, book_minor=0, difference_minor=0,
            idempotency_key="sneaky", closed_by=teller, closed_at=first.closed_at,
        )  # fmt: skip


def test_a_closed_day_takes_no_more_handovers(
    head_office: Branch, teller: User, manager: User, till: str
) -> None:
    _close(teller, head_office, teller, {"note-1000": 20})
    with pytest.raises(BusinessRuleViolation) as refused:
        cash_handover_send(
            actor=manager, branch=head_office, giver_user=None, receiver_user=teller,
            amount_minor=100_00, value_date=DAY, idempotency_key="late",
        )  # fmt: skip
    assert refused.value.code == ErrorCode.CASH_DAY_CLOSED


def test_pending_handovers_are_settled_before_the_close(
    head_office: Branch, teller: User, manager: User, till: str
) -> None:
    pending = cash_handover_send(
        actor=teller, branch=head_office, giver_user=teller, receiver_user=None,
        amount_minor=5_000_00, value_date=DAY, idempotency_key="back",
    )  # fmt: skip
    with pytest.raises(BusinessRuleViolation) as refused:
        _close(teller, head_office, teller, {"note-1000": 15})
    assert refused.value.code == ErrorCode.CASH_HANDOVER_PENDING
    assert refused.value.fields == {"handovers": [f"#{pending.pk}"]}
    assert not CashDayClose.objects.exists()


def test_the_vault_is_closed_by_its_keeper(
    head_office: Branch, teller: User, manager: User, field: User, till: str
) -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        _close(field, head_office, None, {"note-1000": 80})
    assert refused.value.code == ErrorCode.CASH_HOLDER_FORBIDDEN
    with pytest.raises(BusinessRuleViolation) as refused:
        _close(field, head_office, teller, {"note-1000": 20})  # nor someone else's till
    assert refused.value.code == ErrorCode.CASH_HOLDER_FORBIDDEN
    close = _close(manager, head_office, None, {"note-1000": 80})
    assert (close.book_minor, close.difference_minor, close.holder.account.code) == (80_000_00, 0, "1100-HO")


def test_counts_must_name_the_currencys_notes_in_whole_pieces(
    head_office: Branch, teller: User, till: str
) -> None:
    for counts, key in (
        ({"note-2000": 1}, "note-2000"),
        ({"note-500": -1}, "note-500"),
        ({"note-500": 1.5}, "note-500"),
        ({"note-500": MAX_PIECES + 1}, "note-500"),
    ):
        with pytest.raises(BusinessRuleViolation) as refused:
            _close(teller, head_office, teller, counts)
        assert refused.value.code == ErrorCode.CASH_DENOMINATION_INVALID
        assert list(refused.value.fields) == [f"counts.{key}"]


def test_no_close_ahead_of_the_business_date(head_office: Branch, teller: User, till: str) -> None:
    from tenants.db import current_cooperative

    cooperative = current_cooperative()
    assert cooperative is not None
    with pytest.raises(BusinessRuleViolation) as refused:
        cash_day_close(
            actor=teller, branch=head_office, user=teller, counts={},
            business_date=cooperative.business_date() + dt.timedelta(days=1), idempotency_key="tomorrow",
        )  # fmt: skip
    assert refused.value.code == ErrorCode.CASH_CLOSE_DATE_INVALID


def test_a_workspace_older_than_the_shortage_account_gets_it_on_first_use(
    head_office: Branch, teller: User, till: str
) -> None:
    Account.objects.filter(code="1450").delete()  # as in a workspace seeded before the account existed
    close = _close(teller, head_office, teller, SHORT_COUNT)
    account = Account.objects.get(code="1450")
    assert (account.kind, account.name) == ("asset", "নগদ ঘাটতি (নিষ্পত্তির অপেক্ষায়)")
    assert _lines(close)[0] == ("1450", 49_50, 0)


def test_postings_that_name_the_till_count_in_its_book(head_office: Branch, teller: User, till: str) -> None:
    """Savings and shares post to the holder's account when told to; the close counts against it."""
    from decimal import Decimal

    from core_banking.savings.services import savings_account_open, savings_deposit, savings_product_create
    from core_banking.shares.services import share_purchase, share_settings_update
    from tests.core_banking.savings.conftest import OPENED, make_member

    assert selectors.holder_account_code_for(user=teller, branch=head_office) == till
    assert selectors.holder_account_code_for(user=teller, branch=Branch.objects.get(code="BR1")) is None
    product = savings_product_create(
        actor=None, code="VOL", name="Voluntary", kind="voluntary", annual_rate=Decimal("6"),
        rate_effective_from=OPENED,
    )  # fmt: skip
    member = make_member("HO-000001")
    account = savings_account_open(actor=None, member=member, product=product, opened_on=OPENED)
    savings_deposit(
        account_id=account.pk, amount_minor=1_250_75, value_date=DAY, idempotency_key="dep-1",
        counter_account_code=till,
    )  # fmt: skip
    share_settings_update(actor=None, nominal_value_minor=100_00, minimum_shares=1, maximum_shares=None)
    share_purchase(
        member_id=member.pk, shares=3, value_date=DAY, idempotency_key="sh-1", cash_account_code=till
    )
    assert selectors.balance_minor(Account.objects.get(code=till).pk) == 20_000_00 + 1_250_75 + 300_00
    close = _close(teller, head_office, teller, {"note-1000": 21, "note-500": 1, "coin-0.50": 1})
    assert (close.book_minor, close.counted_minor, close.difference_minor) == (21_550_75, 21_500_50, -50_25)
