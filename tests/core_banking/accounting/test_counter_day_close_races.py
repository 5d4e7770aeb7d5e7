"""A branch's day close racing the counter, with postings that really commit (a workspace of its own).

Each call runs in a thread with its own connection outside any transaction, as a teller's request
does, so a deposit takes the one-statement path. Whatever the timing, a posting either commits
before the close is taken (and is in the close's totals) or is refused with ``day_closed``; none
lands after the close.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django_tenants.utils import tenant_context

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.accounting.day_rules import counter_day_open_require
from core_banking.accounting.models import BranchDayClose
from core_banking.accounting.services import branch_day_close
from core_banking.ledger.models import AccountDayBalance, JournalEntry
from core_banking.ledger.services import ledger_verify
from core_banking.organisation.models import Branch
from core_banking.savings import services as savings_services
from core_banking.savings.models import Channel, SavingsAccount, SavingsProduct, SavingsTransaction
from core_banking.savings.services import (
    savings_account_open,
    savings_deposit,
    savings_product_create,
    savings_withdraw,
)
from core_banking.shares.services import share_purchase, share_settings_update
from notifications.models import OutboxMessage
from tenants.models import Cooperative
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision
from tests.core_banking.savings.conftest import OPENED, make_member
from tests.core_banking.threads import in_threads

pytestmark = pytest.mark.django_db
FIRST_DAY = dt.date(2026, 10, 1)


@pytest.fixture(scope="module")
def books(django_db_setup: None, django_db_blocker: Any) -> Cooperative:
    with django_db_blocker.unblock():
        cooperative = cooperative_provision(
            spec=CooperativeSpec(name="Day close races", slug=f"day-{uuid.uuid4().hex[:8]}", country="BD"),
            admin=AdminSpec(username="admin", password=None, email="admin@day-close.example"),
        )
        with tenant_context(cooperative):
            savings_product_create(
                actor=None,
                code="VOL",
                name="Voluntary savings",
                kind="voluntary",
                annual_rate=Decimal("6"),
                rate_effective_from=OPENED,
            )
            share_settings_update(
                actor=None, nominal_value_minor=100_00, minimum_shares=0, maximum_shares=None
            )
        connection.close()
    return cooperative


def _one(books: Cooperative, work: Callable[[], Any]) -> Any:
    (result,) = in_threads(1, lambda _number: work(), books)
    if isinstance(result, Exception):
        raise result
    return result


def _new_account(books: Cooperative, number: str, opening_minor: int = 0) -> int:
    def open_account() -> int:
        product = SavingsProduct.objects.get(code="VOL")
        account = savings_account_open(
            actor=None, member=make_member(number), product=product, opened_on=OPENED
        )
        if opening_minor:
            savings_deposit(
                account_id=account.pk,
                amount_minor=opening_minor,
                value_date=OPENED,
                idempotency_key=f"open-{number}",
            )
        return account.pk

    account_id: int = _one(books, open_account)
    return account_id


def _head_office() -> Branch:
    return Branch.objects.get(is_head_office=True)


def _close(books: Cooperative, day: dt.date) -> BranchDayClose:
    close: BranchDayClose = _one(books, lambda: branch_day_close(actor=None, branch=_head_office(), day=day))
    return close


def _written(key: str) -> tuple[bool, bool, bool]:
    return (
        JournalEntry.objects.filter(idempotency_key=key).exists(),
        SavingsTransaction.objects.filter(idempotency_key=key).exists(),
        OutboxMessage.objects.filter(source_ref=key).exists(),
    )


def test_the_one_statement_deposit_checks_the_closed_day_in_its_statement(books: Cooperative) -> None:
    day = FIRST_DAY
    account_id = _new_account(books, "HO-200001")
    _close(books, day)

    def one_statement(key: str, channel: str, on: dt.date = day) -> Any:
        return savings_services._deposit_in_one_statement(
            account_id=account_id, amount_minor=500_00, value_date=on, idempotency_key=key, actor=None,
            channel=channel, memo="", counter_account_code="",
        )  # fmt: skip

    # The statement's guard refuses the office deposit: nothing is written, the slow path explains.
    assert _one(books, lambda: one_statement("fast-office", Channel.OFFICE)) is None
    with pytest.raises(BusinessRuleViolation) as refused:
        _one(books, lambda: savings_deposit(account_id=account_id, amount_minor=500_00, value_date=day,
                                            idempotency_key="fast-office"))  # fmt: skip
    assert refused.value.code == ErrorCode.DAY_CLOSED
    # A field collection goes through the same statement on the closed day.
    collected = _one(books, lambda: one_statement("fast-field", Channel.FIELD))
    assert collected is not None and collected.balance_after_minor == 500_00
    # The next day is open, in one statement.
    later = _one(books, lambda: one_statement("fast-next-day", Channel.OFFICE, day + dt.timedelta(days=1)))
    assert later is not None and later.balance_after_minor == 1_000_00
    with tenant_context(books):
        assert _written("fast-office") == (False, False, False)
        assert _written("fast-field") == (True, True, True)
        assert _written("fast-next-day") == (True, True, True)
        assert SavingsAccount.objects.get(pk=account_id).balance_minor == 1_000_00


def test_the_check_belongs_inside_the_movements_transaction(books: Cooperative) -> None:
    def outside() -> None:
        with tenant_context(books):
            counter_day_open_require(branch=_head_office(), day=FIRST_DAY, channel=Channel.OFFICE)

    with pytest.raises(RuntimeError, match="inside the movement's transaction"):
        _one(books, outside)


def _until_refused(post: Callable[[int], Any], limit: int = 400) -> list[str]:
    """Post again and again until the day is closed: each attempt's outcome, in order."""
    outcomes = []
    for number in range(limit):
        try:
            post(number)
        except BusinessRuleViolation as error:
            outcomes.append(error.code.value)
            if error.code == ErrorCode.DAY_CLOSED:
                break
        else:
            outcomes.append("posted")
    return outcomes


@pytest.mark.parametrize("round_number", range(3))
def test_counter_postings_racing_the_close_land_before_it_or_are_refused(
    books: Cooperative, round_number: int
) -> None:
    day = FIRST_DAY + dt.timedelta(days=10 + round_number)
    tag = f"r{round_number}"
    fast = [_new_account(books, f"HO-3{round_number}0{n}") for n in range(2)]
    withdrawing = _new_account(books, f"HO-3{round_number}10", opening_minor=1_000_000_00)
    buyer = _one(books, lambda: make_member(f"HO-3{round_number}20").pk)

    def work(number: int) -> Any:
        if number == 0:  # the accountant closes the day once some postings are in
            deadline = time.monotonic() + 20
            while not SavingsTransaction.objects.filter(value_date=day).count() >= 4:
                assert time.monotonic() < deadline, "no posting landed"
                time.sleep(0.002)
            return branch_day_close(actor=None, branch=_head_office(), day=day)
        if number in (1, 2):  # tellers' deposits, one statement each
            account_id = fast[number - 1]
            return _until_refused(
                lambda n: savings_deposit(
                    account_id=account_id,
                    amount_minor=100 + n,
                    value_date=day,
                    idempotency_key=f"{tag}-d{number}-{n}",
                )
            )
        if number == 3:  # a deposit inside a transaction (the step-by-step path), then a withdrawal

            def deposit_and_withdraw(n: int) -> None:
                with transaction.atomic():
                    savings_deposit(
                        account_id=withdrawing,
                        amount_minor=300,
                        value_date=day,
                        idempotency_key=f"{tag}-s{n}",
                    )
                savings_withdraw(
                    account_id=withdrawing, amount_minor=200, value_date=day, idempotency_key=f"{tag}-w{n}"
                )

            return _until_refused(deposit_and_withdraw)
        return _until_refused(  # share purchases at the counter
            lambda n: share_purchase(member_id=buyer, shares=1, value_date=day, idempotency_key=f"{tag}-p{n}")
        )

    results = in_threads(5, work, books)
    errors = [result for result in results if isinstance(result, Exception)]
    assert not errors, errors
    close, *outcomes = results
    for sequence in outcomes:
        # Each counter saw the day open, then closed; it never saw it open again.
        assert sequence[-1] == "day_closed", sequence
        assert set(sequence[:-1]) <= {"posted"}, sequence
    with tenant_context(books):
        branch = _head_office()
        entries = JournalEntry.objects.filter(branch=branch, value_date=day)
        # Nothing landed after the close: its totals are the day's books as they stand now.
        posted = AccountDayBalance.objects.filter(branch=branch, day=day).aggregate(
            debit=Sum("debit_minor"), credit=Sum("credit_minor")
        )
        assert (close.entry_count, close.debit_minor, close.credit_minor) == (
            entries.count(),
            posted["debit"],
            posted["credit"],
        )
        # And every posting a counter was told had landed is among them.
        told_posted = (
            outcomes[0].count("posted")
            + outcomes[1].count("posted")
            + 2 * outcomes[2].count("posted")  # a deposit and a withdrawal each
            + _deposit_before_refused_withdrawal(tag, day)
            + outcomes[3].count("posted")
        )
        assert close.entry_count == told_posted >= 4
        report = ledger_verify()
        assert report.reason == "", report


def _deposit_before_refused_withdrawal(tag: str, day: dt.date) -> int:
    """The step-by-step counter's last try: its deposit may have landed before its withdrawal was refused."""
    deposits = SavingsTransaction.objects.filter(
        value_date=day, idempotency_key__startswith=f"{tag}-s"
    ).count()
    withdrawals = SavingsTransaction.objects.filter(
        value_date=day, idempotency_key__startswith=f"{tag}-w"
    ).count()
    return deposits - withdrawals
