"""A branch's closed day at the counter: office movements refused, field, import and system ones land.

Each refused operation leaves nothing behind: no journal entry, no savings or share transaction, no
SMS in the outbox, balances as they were. The same operations through the REST API answer 409
``day_closed``; the teller's deposit form shows the message. Races against the close itself (the
one-statement deposit outside any transaction) are in ``test_counter_day_close_races.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from control_plane.errors import BusinessRuleViolation, ErrorCode
from control_plane.identity.models import User
from core_banking.accounting.day_rules import CHANNELS_AFTER_DAY_CLOSE, counter_day_open_require
from core_banking.accounting.services import branch_day_close
from core_banking.cash.models import CashHandover, HandoverStatus
from core_banking.cash.services import cash_day_close, cash_handover_confirm, cash_handover_send
from core_banking.ledger.models import JournalEntry
from core_banking.ledger.services import LineSpec, journal_post
from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from core_banking.savings.batch import DepositRequest, savings_deposit_batch
from core_banking.savings.interest_posting import savings_interest_post
from core_banking.savings.models import Channel, SavingsAccount, SavingsProduct, SavingsTransaction
from core_banking.savings.services import (
    savings_account_open,
    savings_correct,
    savings_deposit,
    savings_product_create,
    savings_transfer,
    savings_withdraw,
)
from core_banking.shares.models import MemberExit, ShareAccount, ShareTransaction
from core_banking.shares.services import member_exit, share_purchase, share_settings_update
from notifications.models import OutboxMessage
from tests.conftest import ALPHA, Workspace
from tests.core_banking.cash.conftest import make_staff
from tests.core_banking.savings.conftest import OPENED, make_member
from tests.core_banking.savings.page_helpers import client_for, form_key

DAY = dt.date(2026, 10, 5)  # the day the head office closes
BEFORE = DAY - dt.timedelta(days=1)
OPENING_MINOR = 10_000_00  # on each of the member's two accounts, the day before


@pytest.fixture
def head_office(in_alpha: Workspace) -> Branch:
    return Branch.objects.get(is_head_office=True)


@pytest.fixture
def voluntary(in_alpha: Workspace) -> SavingsProduct:
    return savings_product_create(
        actor=None,
        code="VOL",
        name="Voluntary savings",
        kind="voluntary",
        annual_rate=Decimal("6.0"),
        rate_effective_from=OPENED,
        minimum_balance_minor=500_00,
        posting_period="monthly",
    )


@pytest.fixture
def member(in_alpha: Workspace) -> Member:
    share_settings_update(actor=None, nominal_value_minor=100_00, minimum_shares=5, maximum_shares=200)
    return make_member("HO-000001")


@pytest.fixture
def accounts(voluntary: SavingsProduct, member: Member) -> tuple[SavingsAccount, SavingsAccount]:
    """The member's two accounts, Tk 10,000.00 each, and 10 shares, all bought the day before."""
    opened = [
        savings_account_open(actor=None, member=member, product=voluntary, opened_on=OPENED) for _ in range(2)
    ]
    for account in opened:
        savings_deposit(
            account_id=account.pk,
            amount_minor=OPENING_MINOR,
            value_date=BEFORE,
            idempotency_key=f"open-{account.pk}",
        )
    share_purchase(member_id=member.pk, shares=10, value_date=BEFORE, idempotency_key="shares-before")
    return opened[0], opened[1]


def _close(branch: Branch, day: dt.date = DAY) -> None:
    branch_day_close(actor=None, branch=branch, day=day)


def _books() -> dict[str, Any]:
    """Everything a money movement writes: entries, movements, messages and every balance."""
    return {
        "entries": JournalEntry.objects.count(),
        "savings_movements": SavingsTransaction.objects.count(),
        "share_movements": ShareTransaction.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "exits": MemberExit.objects.count(),
        "savings": sorted(SavingsAccount.objects.values_list("pk", "balance_minor", "status")),
        "shares": sorted(ShareAccount.objects.values_list("member_id", "shares", "balance_minor")),
        "member_status": sorted(Member.objects.values_list("pk", "status")),
    }


# Every office operation at the counter, on the closed day: what each service is asked.
OFFICE_OPERATIONS: dict[str, Callable[[Member, SavingsAccount, SavingsAccount], Any]] = {
    "deposit": lambda member, first, second: savings_deposit(
        account_id=first.pk, amount_minor=250_00, value_date=DAY, idempotency_key="late-deposit"
    ),
    "withdrawal": lambda member, first, second: savings_withdraw(
        account_id=first.pk, amount_minor=250_00, value_date=DAY, idempotency_key="late-withdrawal"
    ),
    "transfer": lambda member, first, second: savings_transfer(
        from_account_id=first.pk,
        to_account_id=second.pk,
        amount_minor=250_00,
        value_date=DAY,
        idempotency_key="late-transfer",
    ),
    "batch deposit": lambda member, first, second: savings_deposit_batch(
        deposits=[DepositRequest(first.pk, 250_00, DAY, "late-batch")], channel=Channel.OFFICE
    ),
    "share purchase": lambda member, first, second: share_purchase(
        member_id=member.pk, shares=5, value_date=DAY, idempotency_key="late-shares"
    ),
    "share exit": lambda member, first, second: member_exit(
        member_id=member.pk, exit_date=DAY, idempotency_key="late-exit", reason="Moved away"
    ),
}


@pytest.mark.parametrize("operation", list(OFFICE_OPERATIONS))
def test_an_office_operation_on_a_closed_day_is_refused_and_writes_nothing(
    operation: str, member: Member, accounts: tuple[SavingsAccount, SavingsAccount], head_office: Branch
) -> None:
    _close(head_office)
    before = _books()
    with pytest.raises(BusinessRuleViolation) as refused:
        OFFICE_OPERATIONS[operation](member, *accounts)
    assert refused.value.code == ErrorCode.DAY_CLOSED
    assert refused.value.http_status == 409
    field = "deposits[0].value_date" if operation == "batch deposit" else "value_date"
    assert list(refused.value.fields) == [field]
    assert "HO" in refused.value.message and DAY.isoformat() in refused.value.message
    assert _books() == before
    assert not JournalEntry.objects.filter(value_date=DAY).exists()


@pytest.mark.parametrize("operation", list(OFFICE_OPERATIONS))
def test_the_day_after_a_close_is_open_at_the_counter(
    operation: str, member: Member, accounts: tuple[SavingsAccount, SavingsAccount], head_office: Branch
) -> None:
    _close(head_office, DAY - dt.timedelta(days=1))  # the day before DAY is closed, DAY is not
    OFFICE_OPERATIONS[operation](member, *accounts)
    assert JournalEntry.objects.filter(branch=head_office, value_date=DAY).exists()


def test_another_branchs_counter_stays_open(voluntary: SavingsProduct, head_office: Branch) -> None:
    branch_one = Branch.objects.get(code="BR1")
    account = savings_account_open(
        actor=None, member=make_member("BR1-000001", branch=branch_one), product=voluntary, opened_on=OPENED
    )
    _close(head_office)
    movement = savings_deposit(
        account_id=account.pk, amount_minor=75_00, value_date=DAY, idempotency_key="br1"
    )
    assert movement.entry.branch_id == branch_one.pk and movement.balance_after_minor == 75_00


def test_field_import_and_system_postings_land_on_a_closed_day(
    member: Member, accounts: tuple[SavingsAccount, SavingsAccount], head_office: Branch
) -> None:
    first, second = accounts
    _close(head_office)
    collected = savings_deposit(
        account_id=first.pk,
        amount_minor=120_00,
        value_date=DAY,
        idempotency_key="field-1",
        channel=Channel.FIELD,
    )
    paid_out = savings_withdraw(
        account_id=second.pk,
        amount_minor=30_00,
        value_date=DAY,
        idempotency_key="field-2",
        channel=Channel.FIELD,
    )
    synced = savings_deposit_batch(deposits=[DepositRequest(first.pk, 45_50, DAY, "sync-1")])  # field
    imported = savings_deposit_batch(
        deposits=[DepositRequest(second.pk, 10_00, DAY, "import-1")], channel=Channel.IMPORT
    )
    system = savings_deposit(
        account_id=first.pk,
        amount_minor=1_00,
        value_date=DAY,
        idempotency_key="system-1",
        channel=Channel.SYSTEM,
    )
    shares = share_purchase(
        member_id=member.pk, shares=5, value_date=DAY, idempotency_key="import-shares", channel=Channel.IMPORT
    )
    assert (collected.balance_after_minor, paid_out.balance_after_minor) == (10_120_00, 9_970_00)
    assert (synced[0].balance_after_minor, imported[0].balance_after_minor) == (10_165_50, 9_980_00)
    assert system.balance_after_minor == 10_166_50 and shares.shares_after == 15
    landed = JournalEntry.objects.filter(branch=head_office, value_date=DAY)
    assert landed.count() == 6
    channels = SavingsTransaction.objects.filter(value_date=DAY).values_list("channel", flat=True)
    assert sorted(channels) == ["field", "field", "field", "import", "system"]
    assert (
        OutboxMessage.objects.filter(source_ref__in=["field-1", "field-2", "sync-1", "import-1"]).count() == 4
    )


def test_the_interest_job_posts_on_a_closed_month_end(
    accounts: tuple[SavingsAccount, SavingsAccount], head_office: Branch
) -> None:
    month_end = dt.date(2026, 10, 31)
    _close(head_office, month_end)
    summary = savings_interest_post(period_end=month_end)
    assert not summary.failures, summary.failures
    interest = SavingsTransaction.objects.filter(kind="interest", value_date=month_end)
    assert interest.count() == 2 and set(interest.values_list("channel", flat=True)) == {"system"}
    assert interest.aggregate(total=Sum("amount_minor"))["total"] > 0


def test_a_key_posted_before_the_close_answers_with_its_first_result(
    member: Member, accounts: tuple[SavingsAccount, SavingsAccount], head_office: Branch
) -> None:
    first, second = accounts
    deposit = savings_deposit(account_id=first.pk, amount_minor=99_00, value_date=DAY, idempotency_key="d")
    withdrawal = savings_withdraw(
        account_id=second.pk, amount_minor=11_00, value_date=DAY, idempotency_key="w"
    )
    shares = share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="s")
    batch = savings_deposit_batch(deposits=[DepositRequest(first.pk, 7_00, DAY, "b")], channel=Channel.OFFICE)
    _close(head_office)
    before = _books()
    again = savings_deposit(account_id=first.pk, amount_minor=99_00, value_date=DAY, idempotency_key="d")
    assert again.pk == deposit.pk
    assert (
        savings_withdraw(account_id=second.pk, amount_minor=11_00, value_date=DAY, idempotency_key="w").pk
        == withdrawal.pk
    )
    assert share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="s").pk == shares.pk
    replayed = savings_deposit_batch(
        deposits=[DepositRequest(first.pk, 7_00, DAY, "b")], channel=Channel.OFFICE
    )
    assert replayed[0].transaction_id == batch[0].transaction_id and replayed[0].replayed
    assert _books() == before
    # A new key in the same batch is still refused, naming it.
    with pytest.raises(BusinessRuleViolation) as refused:
        savings_deposit_batch(
            deposits=[DepositRequest(first.pk, 7_00, DAY, "b"), DepositRequest(first.pk, 8_00, DAY, "b2")],
            channel=Channel.OFFICE,
        )
    assert refused.value.code == ErrorCode.DAY_CLOSED and list(refused.value.fields) == [
        "deposits[1].value_date"
    ]


def test_an_exit_is_refused_when_a_savings_account_sits_in_a_closed_branch(
    member: Member, accounts: tuple[SavingsAccount, SavingsAccount], head_office: Branch
) -> None:
    """The member moved to BR1; their accounts stayed at the head office, whose day is closed."""
    Member.objects.filter(pk=member.pk).update(branch=Branch.objects.get(code="BR1"))
    _close(head_office)
    before = _books()
    with pytest.raises(BusinessRuleViolation) as refused:
        member_exit(member_id=member.pk, exit_date=DAY, idempotency_key="exit-br1", reason="Moved away")
    assert refused.value.code == ErrorCode.DAY_CLOSED and "HO" in refused.value.message
    assert _books() == before


def test_a_savings_correction_dated_on_a_closed_day_is_refused(
    accounts: tuple[SavingsAccount, SavingsAccount], head_office: Branch
) -> None:
    first, _second = accounts
    original = SavingsTransaction.objects.get(idempotency_key=f"open-{first.pk}")
    _close(head_office)
    before = _books()
    with pytest.raises(BusinessRuleViolation) as refused:
        savings_correct(
            transaction_id=original.pk, corrected_amount_minor=9_000_00, reason="Typed one zero too many",
            idempotency_key="fix-1", value_date=DAY,
        )  # fmt: skip
    assert refused.value.code == ErrorCode.DAY_CLOSED
    assert _books() == before
    corrected = savings_correct(
        transaction_id=original.pk, corrected_amount_minor=9_000_00, reason="Typed one zero too many",
        idempotency_key="fix-2", value_date=DAY + dt.timedelta(days=1),
    )  # fmt: skip
    assert corrected.movement.amount_minor == -1_000_00


def test_cash_does_not_move_on_a_closed_day(head_office: Branch) -> None:
    journal_post(
        idempotency_key="opening-cash", value_date=BEFORE, branch=head_office, memo="Opening cash",
        lines=[LineSpec("1100-HO", debit_minor=50_000_00), LineSpec("3100", credit_minor=50_000_00)],
    )  # fmt: skip
    keeper: User = make_staff("vault-keeper", ["branch_manager"])
    teller: User = make_staff("teller", ["accountant"])
    waiting = cash_handover_send(
        actor=keeper, branch=head_office, giver_user=None, receiver_user=teller, amount_minor=5_000_00,
        value_date=DAY, idempotency_key="float-1",
    )  # fmt: skip
    _close(head_office)
    entries = JournalEntry.objects.count()
    with pytest.raises(BusinessRuleViolation) as confirm:
        cash_handover_confirm(actor=teller, handover_id=waiting.pk)
    assert confirm.value.code == ErrorCode.DAY_CLOSED
    assert CashHandover.objects.get(pk=waiting.pk).status == HandoverStatus.PENDING
    with pytest.raises(BusinessRuleViolation) as send:
        cash_handover_send(
            actor=keeper, branch=head_office, giver_user=None, receiver_user=teller, amount_minor=1_00,
            value_date=DAY, idempotency_key="float-2",
        )  # fmt: skip
    assert send.value.code == ErrorCode.DAY_CLOSED
    assert not CashHandover.objects.filter(idempotency_key="float-2").exists()
    assert JournalEntry.objects.count() == entries
    # Sent again for the next day, the cash moves.
    moved = cash_handover_send(
        actor=keeper, branch=head_office, giver_user=None, receiver_user=teller, amount_minor=5_000_00,
        value_date=DAY + dt.timedelta(days=1), idempotency_key="float-3",
    )  # fmt: skip
    assert cash_handover_confirm(actor=teller, handover_id=moved.pk).entry is not None


def test_a_cash_count_posts_no_difference_on_a_closed_day(head_office: Branch) -> None:
    journal_post(
        idempotency_key="opening-cash", value_date=BEFORE, branch=head_office, memo="Opening cash",
        lines=[LineSpec("1100-HO", debit_minor=50_000_00), LineSpec("3100", credit_minor=50_000_00)],
    )  # fmt: skip
    keeper: User = make_staff("vault-keeper", ["branch_manager"])
    _close(head_office)
    entries = JournalEntry.objects.count()
    with pytest.raises(BusinessRuleViolation) as short:
        cash_day_close(
            actor=keeper, branch=head_office, user=None, business_date=DAY, counts={"note-1000": 49},
            idempotency_key="count-short",
        )  # fmt: skip
    assert short.value.code == ErrorCode.DAY_CLOSED
    assert JournalEntry.objects.count() == entries
    exact = cash_day_close(
        actor=keeper, branch=head_office, user=None, business_date=DAY, counts={"note-1000": 50},
        idempotency_key="count-exact",
    )  # fmt: skip
    assert exact.difference_minor == 0 and exact.entry is None  # nothing posts: the count is recorded


def test_only_field_import_and_system_are_let_through(head_office: Branch) -> None:
    assert set(Channel.values) - {Channel.OFFICE} == CHANNELS_AFTER_DAY_CLOSE
    _close(head_office)
    for channel in CHANNELS_AFTER_DAY_CLOSE:
        counter_day_open_require(branch=head_office, day=DAY, channel=channel)
    for channel in (Channel.OFFICE, "mobile"):  # a channel not named yet is treated as the counter
        with pytest.raises(BusinessRuleViolation) as refused:
            counter_day_open_require(branch=head_office, day=DAY, channel=channel)
        assert refused.value.code == ErrorCode.DAY_CLOSED
        assert refused.value.fields == {"value_date": ["This branch's day is closed."]}


# --- Through the REST API and the teller's form --------------------------------------------------


def _api(path: str, body: dict[str, Any]) -> Any:
    from tests.conftest import workspace_client

    client = workspace_client(ALPHA, username=ALPHA.admin)
    return client.post(path, body, content_type="application/json")


API_CALLS: dict[str, Callable[[Member, SavingsAccount, SavingsAccount], tuple[str, dict[str, Any]]]] = {
    "deposit": lambda member, first, second: (
        f"/api/v1/savings/accounts/{first.pk}/deposits/",
        {"amount": "250.00", "idempotency_key": "api-d", "value_date": DAY.isoformat()},
    ),
    "withdrawal": lambda member, first, second: (
        f"/api/v1/savings/accounts/{first.pk}/withdrawals/",
        {"amount": "250.00", "idempotency_key": "api-w", "value_date": DAY.isoformat()},
    ),
    "transfer": lambda member, first, second: (
        "/api/v1/savings/transfers/",
        {
            "from_account": first.pk,
            "to_account": second.pk,
            "amount": "250.00",
            "idempotency_key": "api-t",
            "value_date": DAY.isoformat(),
        },
    ),
    "share purchase": lambda member, first, second: (
        f"/api/v1/members/{member.pk}/shares/purchases/",
        {"shares": 5, "idempotency_key": "api-s", "value_date": DAY.isoformat()},
    ),
    "share exit": lambda member, first, second: (
        f"/api/v1/members/{member.pk}/exit/",
        {"exit_date": DAY.isoformat(), "idempotency_key": "api-x", "reason": "Moved away"},
    ),
}


@pytest.mark.parametrize("operation", list(API_CALLS))
def test_the_api_answers_409_day_closed_and_writes_nothing(
    operation: str, member: Member, accounts: tuple[SavingsAccount, SavingsAccount], head_office: Branch
) -> None:
    _close(head_office)
    before = _books()
    path, body = API_CALLS[operation](member, *accounts)
    response = _api(path, body)
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "day_closed"
    assert list(error["fields"]) == ["value_date"]  # in the cooperative's language (Bangla)
    assert _books() == before
    # The same request for the next day goes through.
    body = {key: (value if value != DAY.isoformat() else (DAY + dt.timedelta(days=1)).isoformat())
            for key, value in body.items()}  # fmt: skip
    assert _api(path, body).status_code == 201


def test_the_tellers_deposit_and_withdrawal_forms_show_why(
    accounts: tuple[SavingsAccount, SavingsAccount], head_office: Branch
) -> None:
    first, _second = accounts
    today = ALPHA.cooperative().business_date()
    _close(head_office, today)
    client = client_for(ALPHA.admin)
    for kind in ("deposit", "withdraw"):
        url = f"/savings/{first.pk}/{kind}/"
        key = form_key(client, url)
        refused = client.post(url, {"amount": "100", "idempotency_key": key})
        assert refused.status_code == 200
        html = refused.content.decode()
        assert f"Branch HO closed its day {today.isoformat()}" in html
        assert "nothing more is entered at its counter for that day" in html
        assert f'value="{key}"' in html  # nothing was posted with it: the key stays for the next try
    first.refresh_from_db()
    assert first.balance_minor == OPENING_MINOR
