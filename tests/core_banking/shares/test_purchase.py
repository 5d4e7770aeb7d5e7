"""Share purchases and settings: exact ledger lines and balances, one SMS, replays, limits."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from control_plane.audit.models import AuditEvent
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import AccountDayBalance, JournalEntry, LedgerState
from core_banking.ledger.services import ledger_verify
from core_banking.members.models import Member, MemberStatus
from core_banking.shares.models import ShareAccount, ShareSettings, ShareTransaction
from core_banking.shares.selectors import share_capital_total, share_history, share_position
from core_banking.shares.services import share_purchase, share_settings_update
from notifications.models import OutboxMessage
from tests.conftest import Workspace
from tests.core_banking.shares.conftest import DAY, make_member


def _lines(key: str) -> list[tuple[str, int, int]]:
    entry = JournalEntry.objects.get(idempotency_key=key)
    return [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.order_by("id")]


def _net_credit(code: str) -> int:
    rows = AccountDayBalance.objects.filter(account__code=code)
    return sum(row.credit_minor - row.debit_minor for row in rows)


def test_a_purchase_posts_cash_against_share_capital_and_queues_one_sms(
    terms: ShareSettings, member: Member
) -> None:
    movement = share_purchase(member_id=member.pk, shares=12, value_date=DAY, idempotency_key="sp-1")
    assert (movement.kind, movement.shares, movement.amount_minor) == ("purchase", 12, 1_200_00)
    assert (movement.shares_after, movement.balance_after_minor) == (12, 1_200_00)
    assert _lines("sp-1") == [("1100-HO", 1_200_00, 0), ("3100", 0, 1_200_00)]
    assert _net_credit("3100") == 1_200_00
    assert _net_credit("1100-HO") == -1_200_00
    account = ShareAccount.objects.get(member=member)
    assert (account.shares, account.balance_minor, account.opened_on) == (12, 1_200_00, DAY)
    message = OutboxMessage.objects.get()
    assert (message.kind, message.source_ref, message.member_id, message.phone, message.language) == (
        "share_purchase",
        "sp-1",
        member.pk,
        "+8801711000001",
        "bn",
    )
    assert message.context == {
        "amount_minor": 1_200_00,
        "shares": 12,
        "shares_held": 12,
        "balance_minor": 1_200_00,
        "currency": "BDT",
        "member": "HO-000001",
        "value_date": "2026-11-24",
    }
    assert AuditEvent.objects.filter(action="shares.purchase", object_id=str(member.pk)).count() == 1
    assert ledger_verify().first_broken_entry_id is None


def test_a_member_of_a_branch_pays_into_that_branchs_cash(terms: ShareSettings, br1_member: Member) -> None:
    share_purchase(member_id=br1_member.pk, shares=5, value_date=DAY, idempotency_key="sp-br1")
    assert _lines("sp-br1") == [("1100-BR1", 500_00, 0), ("3100", 0, 500_00)]
    assert JournalEntry.objects.get(idempotency_key="sp-br1").branch.code == "BR1"


def test_purchases_add_up_and_history_and_position_follow(terms: ShareSettings, member: Member) -> None:
    share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="sp-1")
    share_purchase(member_id=member.pk, shares=1, value_date=DAY, idempotency_key="sp-2", memo="top-up")
    share_purchase(member_id=member.pk, shares=194, value_date=DAY, idempotency_key="sp-3")
    position = share_position(member=member)
    assert (position.shares, position.balance_minor, position.nominal_value_minor) == (200, 20_000_00, 100_00)
    assert [
        (row.shares, row.shares_after, row.balance_after_minor) for row in share_history(member=member)
    ] == [
        (5, 5, 500_00),
        (1, 6, 600_00),
        (194, 200, 20_000_00),
    ]
    assert share_capital_total() == 20_000_00 == _net_credit("3100")
    assert OutboxMessage.objects.filter(kind="share_purchase").count() == 3


def test_the_same_purchase_sent_twice_is_posted_once(terms: ShareSettings, member: Member) -> None:
    first = share_purchase(member_id=member.pk, shares=10, value_date=DAY, idempotency_key="sp-1")
    again = share_purchase(member_id=member.pk, shares=10, value_date=DAY, idempotency_key="sp-1")
    assert again.pk == first.pk
    assert ShareAccount.objects.get(member=member).shares == 10
    assert JournalEntry.objects.count() == 1 and OutboxMessage.objects.count() == 1
    assert ShareTransaction.objects.count() == 1


@pytest.mark.parametrize(
    "change", [{"shares": 11}, {"value_date": DAY.replace(day=25)}, {"other_member": True}]
)
def test_the_same_key_with_other_content_is_refused(
    terms: ShareSettings, member: Member, change: dict[str, object]
) -> None:
    share_purchase(member_id=member.pk, shares=10, value_date=DAY, idempotency_key="sp-1")
    request: dict[str, object] = {"member_id": member.pk, "shares": 10, "value_date": DAY}
    if change.pop("other_member", False):
        request["member_id"] = make_member("HO-000002").pk
    request.update(change)
    with pytest.raises(BusinessRuleViolation) as raised:
        share_purchase(idempotency_key="sp-1", **request)  # type: ignore[arg-type]
    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert ShareAccount.objects.get(member=member).shares == 10
    assert ShareTransaction.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_a_key_already_used_by_another_module_is_refused(terms: ShareSettings, member: Member) -> None:
    from core_banking.ledger.services import LineSpec, journal_post
    from core_banking.organisation.models import Branch

    journal_post(
        idempotency_key="elsewhere",
        value_date=DAY,
        branch=Branch.objects.get(code="HO"),
        lines=[LineSpec("1100-HO", debit_minor=5), LineSpec("4300", credit_minor=5)],
    )
    with pytest.raises(BusinessRuleViolation) as raised:
        share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="elsewhere")
    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert not ShareAccount.objects.filter(shares__gt=0).exists() and not OutboxMessage.objects.exists()


def test_the_maximum_and_the_minimum_holding(terms: ShareSettings, member: Member) -> None:
    with pytest.raises(BusinessRuleViolation) as too_few:
        share_purchase(member_id=member.pk, shares=4, value_date=DAY, idempotency_key="sp-0")
    assert too_few.value.code == ErrorCode.SHARES_BELOW_MINIMUM
    assert too_few.value.fields == {"shares": ["At least 5."]}
    share_purchase(member_id=member.pk, shares=150, value_date=DAY, idempotency_key="sp-1")
    # Once the minimum is held, a single share may be added.
    share_purchase(member_id=member.pk, shares=1, value_date=DAY, idempotency_key="sp-2")
    with pytest.raises(BusinessRuleViolation) as too_many:
        share_purchase(member_id=member.pk, shares=50, value_date=DAY, idempotency_key="sp-3")
    assert too_many.value.code == ErrorCode.SHARES_ABOVE_MAXIMUM
    assert too_many.value.fields == {"shares": ["At most 49."]}
    share_purchase(member_id=member.pk, shares=49, value_date=DAY, idempotency_key="sp-4")
    assert ShareAccount.objects.get(member=member).shares == 200
    assert not JournalEntry.objects.filter(idempotency_key__in=["sp-0", "sp-3"]).exists()
    assert OutboxMessage.objects.count() == 3


def test_no_maximum_means_no_limit(in_alpha: Workspace, member: Member) -> None:
    share_settings_update(actor=None, nominal_value_minor=10_00, minimum_shares=0, maximum_shares=None)
    share_purchase(member_id=member.pk, shares=1_000_000, value_date=DAY, idempotency_key="sp-big")
    assert _lines("sp-big") == [("1100-HO", 10_000_000_00, 0), ("3100", 0, 10_000_000_00)]


@pytest.mark.parametrize("shares", [0, -1, 1.5, True, "3"])
def test_a_purchase_is_a_positive_whole_number_of_shares(
    terms: ShareSettings, member: Member, shares: object
) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        share_purchase(member_id=member.pk, shares=shares, value_date=DAY, idempotency_key="bad")  # type: ignore[arg-type]
    assert raised.value.code == ErrorCode.AMOUNT_INVALID


def test_an_exited_member_cannot_buy_shares(terms: ShareSettings, member: Member) -> None:
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.EXITED, exit_date=DAY)
    with pytest.raises(BusinessRuleViolation) as raised:
        share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="sp-1")
    assert raised.value.code == ErrorCode.MEMBER_EXITED
    assert not ShareTransaction.objects.exists() and not JournalEntry.objects.exists()


def test_a_member_suspended_from_borrowing_may_still_buy_shares(terms: ShareSettings, member: Member) -> None:
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.SUSPENDED_FROM_BORROWING)
    share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="sp-1")
    assert ShareAccount.objects.get(member=member).shares == 5


def test_an_unknown_member_is_not_found(terms: ShareSettings) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        share_purchase(member_id=987_654, shares=5, value_date=DAY, idempotency_key="sp-1")
    assert raised.value.code == ErrorCode.NOT_FOUND


def test_a_purchase_in_a_closed_period_writes_nothing(terms: ShareSettings, member: Member) -> None:
    LedgerState.objects.update(closed_through=DAY)
    with pytest.raises(BusinessRuleViolation) as raised:
        share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="late")
    assert raised.value.code == ErrorCode.PERIOD_CLOSED
    assert not ShareAccount.objects.filter(shares__gt=0).exists()
    assert not ShareTransaction.objects.exists() and not OutboxMessage.objects.exists()


def test_settings_start_from_the_currencys_defaults_on_first_use(in_alpha: Workspace, member: Member) -> None:
    assert not ShareSettings.objects.exists()
    share_purchase(member_id=member.pk, shares=1, value_date=DAY, idempotency_key="sp-1")
    stored = ShareSettings.objects.get()
    assert (stored.nominal_value_minor, stored.minimum_shares, stored.maximum_shares) == (100_00, 1, None)
    assert _lines("sp-1") == [("1100-HO", 100_00, 0), ("3100", 0, 100_00)]


def test_in_dong_a_share_is_a_whole_amount(in_beta: Workspace) -> None:
    member = make_member("HO-000001", phone="+84912345678")
    movement = share_purchase(member_id=member.pk, shares=3, value_date=DAY, idempotency_key="sp-vn")
    assert movement.amount_minor == 300_000
    assert _lines("sp-vn") == [("1100-HO", 300_000, 0), ("3100", 0, 300_000)]
    assert OutboxMessage.objects.get().context["currency"] == "VND"


def test_the_share_value_is_fixed_while_shares_are_held(terms: ShareSettings, member: Member) -> None:
    share_settings_update(actor=None, nominal_value_minor=50_00, minimum_shares=5, maximum_shares=200)
    share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="sp-1")
    with pytest.raises(BusinessRuleViolation) as raised:
        share_settings_update(actor=None, nominal_value_minor=100_00, minimum_shares=5, maximum_shares=200)
    assert raised.value.code == ErrorCode.SHARE_VALUE_LOCKED
    # Limits may still change; the value stays.
    changed = share_settings_update(
        actor=None, nominal_value_minor=50_00, minimum_shares=1, maximum_shares=10
    )
    assert (changed.nominal_value_minor, changed.minimum_shares, changed.maximum_shares) == (50_00, 1, 10)
    event = AuditEvent.objects.filter(action="shares.settings.update").order_by("-id").first()
    assert event is not None
    assert event.changes == {"minimum_shares": [5, 1], "maximum_shares": [200, 10]}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"nominal_value_minor": 0, "minimum_shares": 1, "maximum_shares": None}, "nominal_value_minor"),
        ({"nominal_value_minor": 100, "minimum_shares": -1, "maximum_shares": None}, "minimum_shares"),
        ({"nominal_value_minor": 100, "minimum_shares": 10, "maximum_shares": 9}, "maximum_shares"),
        ({"nominal_value_minor": 100, "minimum_shares": 0, "maximum_shares": 0}, "maximum_shares"),
    ],
)
def test_settings_are_checked(in_alpha: Workspace, values: dict[str, int | None], field: str) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        share_settings_update(actor=None, **values)  # type: ignore[arg-type]
    assert raised.value.code == ErrorCode.VALIDATION_ERROR
    assert list(raised.value.fields) == [field]


def test_share_transactions_cannot_be_edited(terms: ShareSettings, member: Member) -> None:
    share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="sp-1")
    for statement in ("UPDATE shares_sharetransaction SET shares = 6", "DELETE FROM shares_sharetransaction"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert ShareTransaction.objects.get().shares == 5


def test_postgresql_refuses_a_negative_holding(terms: ShareSettings, member: Member) -> None:
    share_purchase(member_id=member.pk, shares=5, value_date=DAY, idempotency_key="sp-1")
    with pytest.raises(DatabaseError, match="shares_not_negative"), transaction.atomic():
        ShareAccount.objects.filter(member=member).update(shares=-1)
