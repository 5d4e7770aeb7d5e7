"""The general ledger: balanced, idempotent, append-only, chained — enforced by PostgreSQL too."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django_tenants.utils import tenant_context

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.ledger.models import Account, AccountDayBalance, JournalEntry, JournalLine, LedgerState
from core_banking.ledger.services import GENESIS_HASH, LineSpec, journal_post, ledger_verify
from core_banking.organisation.models import Branch
from tests.conftest import Workspace

DAY = dt.date(2026, 11, 23)


@pytest.fixture
def books(in_alpha: Workspace) -> Branch:
    Account.objects.bulk_create(
        [
            Account(code="1010", name="Cash, head office", kind="asset"),
            Account(code="2010", name="Members' voluntary savings", kind="liability"),
            Account(code="4010", name="Interest income", kind="income"),
        ]
    )
    return Branch.objects.get(is_head_office=True)


def _deposit(branch: Branch, key: str, amount: int, day: dt.date = DAY) -> JournalEntry:
    return journal_post(
        idempotency_key=key,
        value_date=day,
        branch=branch,
        memo="Savings deposit",
        lines=[LineSpec("1010", debit_minor=amount), LineSpec("2010", credit_minor=amount)],
    )


def test_a_balanced_entry_posts_lines_day_balances_and_moves_the_chain(books: Branch) -> None:
    entry = _deposit(books, "dep-1", 150_075)
    assert [(line.account.code, line.debit_minor, line.credit_minor) for line in entry.lines.all()] == [
        ("1010", 150_075, 0),
        ("2010", 0, 150_075),
    ]
    _deposit(books, "dep-2", 25)
    cash = AccountDayBalance.objects.get(account__code="1010", day=DAY)
    assert (cash.debit_minor, cash.credit_minor) == (150_100, 0)
    assert entry.previous_hash == GENESIS_HASH
    assert LedgerState.objects.get().last_entry_hash == JournalEntry.objects.latest("id").entry_hash
    assert ledger_verify().reason == ""


def test_the_same_key_and_content_returns_the_first_entry(books: Branch) -> None:
    first = _deposit(books, "dep-1", 500)
    again = _deposit(books, "dep-1", 500)
    assert again.pk == first.pk
    assert JournalLine.objects.count() == 2
    assert AccountDayBalance.objects.get(account__code="1010", day=DAY).debit_minor == 500


def test_the_same_key_with_other_content_is_refused(books: Branch) -> None:
    _deposit(books, "dep-1", 500)
    with pytest.raises(BusinessRuleViolation) as raised:
        _deposit(books, "dep-1", 501)
    assert raised.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert JournalEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([LineSpec("1010", debit_minor=100), LineSpec("2010", credit_minor=99)], ErrorCode.ENTRY_UNBALANCED),
        ([LineSpec("1010", debit_minor=100)], ErrorCode.ENTRY_TOO_FEW_LINES),
        (
            [LineSpec("1010", debit_minor=-5), LineSpec("2010", credit_minor=-5)],
            ErrorCode.LINE_AMOUNT_INVALID,
        ),
        ([LineSpec("1010", 5, 5), LineSpec("2010", 5, 5)], ErrorCode.LINE_AMOUNT_INVALID),
        ([LineSpec("1010"), LineSpec("2010")], ErrorCode.LINE_AMOUNT_INVALID),
        ([LineSpec("1010", debit_minor=1), LineSpec("9999", credit_minor=1)], ErrorCode.ACCOUNT_UNKNOWN),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(
    books: Branch, lines: list[LineSpec], code: ErrorCode
) -> None:
    with pytest.raises(BusinessRuleViolation) as raised:
        journal_post(idempotency_key="bad", value_date=DAY, branch=books, lines=lines)
    assert raised.value.code == code
    assert not JournalEntry.objects.exists() and not AccountDayBalance.objects.exists()


def _raw_entry(branch: Branch, cursor: object, key: str) -> int:
    cursor.execute(  # type: ignore[attr-defined]
        "INSERT INTO ledger_journalentry (value_date, branch_id, memo, idempotency_key, payload_hash, "
        "previous_hash, entry_hash, posted_at) VALUES (%s, %s, '', %s, 'x', 'x', %s, now()) RETURNING id",
        [DAY, branch.pk, key, key],
    )
    return int(cursor.fetchone()[0])  # type: ignore[attr-defined]


def test_postgresql_refuses_an_unbalanced_entry_written_with_raw_sql(books: Branch) -> None:
    cash, savings = Account.objects.get(code="1010"), Account.objects.get(code="2010")
    with (
        pytest.raises(IntegrityError, match="does not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        entry_id = _raw_entry(books, cursor, "raw-1")
        cursor.execute(
            "INSERT INTO ledger_journalline (entry_id, account_id, debit_minor, credit_minor) "
            "VALUES (%s, %s, 100, 0), (%s, %s, 0, 90)",
            [entry_id, cash.pk, entry_id, savings.pk],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would do


@pytest.mark.parametrize(("credit", "refused"), [(100, False), (90, True)])
def test_the_checks_hold_for_rows_written_into_the_workspace_from_another_search_path(
    books: Branch, credit: int, refused: bool
) -> None:
    """The checks read the table's own schema when the writer's search_path points elsewhere."""
    schema = connection.schema_name  # type: ignore[attr-defined]
    cash, savings = Account.objects.get(code="1010"), Account.objects.get(code="2010")
    expectation = pytest.raises(IntegrityError, match="does not balance") if refused else nullcontext()
    with expectation, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path TO public")  # undone with the savepoint
        cursor.execute(
            f'INSERT INTO "{schema}".ledger_journalentry (value_date, branch_id, memo, idempotency_key, '
            "payload_hash, previous_hash, entry_hash, posted_at) "
            "VALUES (%s, %s, '', 'elsewhere', 'x', 'x', 'x', now()) RETURNING id",
            [DAY, books.pk],
        )
        entry_id = cursor.fetchone()[0]
        cursor.execute(
            f'INSERT INTO "{schema}".ledger_journalline (entry_id, account_id, debit_minor, credit_minor) '
            "VALUES (%s, %s, 100, 0), (%s, %s, 0, %s)",
            [entry_id, cash.pk, entry_id, savings.pk, credit],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)


def test_postgresql_refuses_an_entry_without_lines(books: Branch) -> None:
    with (
        pytest.raises(IntegrityError, match="does not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        _raw_entry(books, cursor, "raw-2")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_postgresql_refuses_a_line_with_both_sides(books: Branch) -> None:
    entry = _deposit(books, "dep-1", 100)
    with (
        pytest.raises(IntegrityError, match="line_is_one_positive_side"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO ledger_journalline (entry_id, account_id, debit_minor, credit_minor) "
            "VALUES (%s, %s, 5, 5)",
            [entry.pk, Account.objects.get(code="1010").pk],
        )


def _as_if_committed() -> None:
    """Run the deferred balance checks now, as COMMIT would (tests run inside one transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_journalline SET debit_minor = debit_minor + 1",
        "DELETE FROM ledger_journalline",
        "UPDATE ledger_journalentry SET memo = 'edited'",
        "DELETE FROM ledger_journalentry",
        "TRUNCATE ledger_journalline CASCADE",
    ],
)
def test_postgresql_refuses_to_edit_posted_history(books: Branch, statement: str) -> None:
    _deposit(books, "dep-1", 100)
    _as_if_committed()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert JournalLine.objects.count() == 2


def test_a_closed_period_takes_no_postings(books: Branch) -> None:
    LedgerState.objects.update(closed_through=DAY)
    with pytest.raises(BusinessRuleViolation) as raised:
        _deposit(books, "late", 100, day=DAY)
    assert raised.value.code == ErrorCode.PERIOD_CLOSED
    with (
        pytest.raises(IntegrityError, match="closed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        _raw_entry(books, cursor, "raw-3")
    assert _deposit(books, "next-day", 100, day=DAY + dt.timedelta(days=1)).pk


def test_verify_ledger_names_the_first_tampered_entry(books: Branch, alpha: Workspace) -> None:
    _deposit(books, "dep-1", 100)
    second = _deposit(books, "dep-2", 200)
    _deposit(books, "dep-3", 300)
    _as_if_committed()
    call_command("verify_ledger", "alpha")
    with connection.cursor() as cursor:
        # Someone with database access goes around the application (and its triggers).
        cursor.execute("ALTER TABLE ledger_journalline DISABLE TRIGGER USER")
        for side in ("debit_minor", "credit_minor"):
            cursor.execute(
                f"UPDATE ledger_journalline SET {side} = 2000 WHERE entry_id = %s AND {side} = 200",
                [second.pk],
            )
        cursor.execute("ALTER TABLE ledger_journalline ENABLE TRIGGER USER")
    with pytest.raises(CommandError, match=rf"broken at entry {second.pk}: its lines or fields differ"):
        call_command("verify_ledger", "alpha")


def test_verify_ledger_refuses_an_unknown_cooperative(db: None) -> None:
    with pytest.raises(CommandError, match="No cooperative 'nowhere'"):
        call_command("verify_ledger", "nowhere")


def test_one_workspaces_postings_are_not_in_the_others_books(books: Branch, beta: Workspace) -> None:
    _deposit(books, "dep-1", 100)
    with tenant_context(beta.cooperative()):
        assert not JournalEntry.objects.exists()
        assert ledger_verify().entries_checked == 0


def test_provisioning_seeded_the_chart_in_the_cooperatives_language(in_alpha: Workspace) -> None:
    from core_banking.ledger.presets import CHART

    codes = set(Account.objects.values_list("code", flat=True))
    assert {preset.code for preset in CHART} <= codes
    assert Account.objects.get(code="3100").name == "শেয়ার মূলধন"  # share capital, in Bangla
    assert Account.objects.get(code="2100").kind == "liability"


def test_every_branch_has_its_own_cash_account(in_alpha: Workspace) -> None:
    from core_banking.organisation.services import branch_create

    head_office_cash = Account.objects.get(code="1100-HO")
    assert head_office_cash.branch == Branch.objects.get(is_head_office=True)
    new_branch = branch_create(actor=None, code="SYL", name="Sylhet")
    cash = Account.objects.get(code="1100-SYL")
    assert (cash.branch, cash.kind) == (new_branch, "asset")
    assert cash.name == "হাতে নগদ — Sylhet"


def test_a_vietnamese_workspace_has_its_chart_in_vietnamese(in_beta: Workspace) -> None:
    assert Account.objects.get(code="3100").name == "Vốn góp của thành viên"


def test_a_correction_reverses_and_reposts_without_editing_history(books: Branch) -> None:
    from control_plane.audit.models import AuditEvent
    from core_banking.ledger.services import journal_correct

    original = _deposit(books, "dep-1", 5_000)  # the teller typed 5,000; the member brought 500
    correction = journal_correct(
        original=original,
        reason="Keyed 5,000 instead of 500",
        idempotency_key="fix-1",
        value_date=DAY,
        corrected_lines=[LineSpec("1010", debit_minor=500), LineSpec("2010", credit_minor=500)],
    )
    assert correction.reversal.reverses == original
    assert [
        (line.account.code, line.debit_minor, line.credit_minor) for line in correction.reversal.lines.all()
    ] == [
        ("1010", 0, 5_000),
        ("2010", 5_000, 0),
    ]
    original.refresh_from_db()
    assert [(line.debit_minor, line.credit_minor) for line in original.lines.all()] == [
        (5_000, 0),
        (0, 5_000),
    ]
    cash = AccountDayBalance.objects.get(account__code="1010", day=DAY)
    assert cash.debit_minor - cash.credit_minor == 500
    event = AuditEvent.objects.get(action="journal.correct")
    assert event.changes["reason"] == "Keyed 5,000 instead of 500"
    assert ledger_verify().reason == ""

    again = journal_correct(
        original=original,
        reason="Keyed 5,000 instead of 500",
        idempotency_key="fix-1",
        value_date=DAY,
        corrected_lines=[LineSpec("1010", debit_minor=500), LineSpec("2010", credit_minor=500)],
    )
    assert (again.reversal.pk, again.corrected.pk) == (correction.reversal.pk, correction.corrected.pk)  # type: ignore[union-attr]
    assert AuditEvent.objects.filter(action="journal.correct").count() == 1


def test_an_entry_is_corrected_once_and_reversals_are_not_corrected(books: Branch) -> None:
    from core_banking.ledger.services import journal_correct

    original = _deposit(books, "dep-1", 100)
    correction = journal_correct(
        original=original, reason="Duplicate", idempotency_key="fix-1", value_date=DAY
    )
    assert correction.corrected is None
    with pytest.raises(BusinessRuleViolation) as twice:
        journal_correct(original=original, reason="Again", idempotency_key="fix-2", value_date=DAY)
    assert twice.value.code == ErrorCode.ENTRY_ALREADY_CORRECTED
    with pytest.raises(BusinessRuleViolation) as of_reversal:
        journal_correct(original=correction.reversal, reason="No", idempotency_key="fix-3", value_date=DAY)
    assert of_reversal.value.code == ErrorCode.ENTRY_IS_A_REVERSAL
    with pytest.raises(BusinessRuleViolation) as no_reason:
        journal_correct(
            original=_deposit(books, "dep-2", 5), reason=" ", idempotency_key="fix-4", value_date=DAY
        )
    assert no_reason.value.fields == {"reason": ["Required."]}
