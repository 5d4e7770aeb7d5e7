"""Row validation per entity, in-file cross-row checks, reconciliation, and the sample workbook."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any

import pytest

from imports.engine.reader import XlsxWorkbook
from imports.engine.report import write_issues_xlsx
from imports.engine.sample import write_sample
from imports.engine.validate import (
    ERROR,
    WARNING,
    DryRun,
    ImportSettings,
    dry_run_workbook,
    reconcile,
)
from imports.engine.values import DateSettings

BD = ImportSettings(country="BD", currency="BDT", cut_over=dt.date(2025, 12, 31))
VN = ImportSettings(country="VN", currency="VND")


def run(entity: str, rows: list[dict[str, Any]], settings: ImportSettings = BD) -> DryRun:
    dry = DryRun(settings)
    dry.add_file(entity, enumerate(rows, start=2))
    return dry


def codes(dry: DryRun, severity: str = ERROR) -> list[tuple[int | None, str | None, str]]:
    return [(issue.row, issue.column, issue.code) for issue in dry.issues if issue.severity == severity]


MEMBER = {
    "member_no": "M-1",
    "branch_code": "HO",
    "full_name": "Rahima Khatun",
    "join_date": "15/01/2020",
    "phone": "01711000001",
    "national_id": "1234567890",
    "date_of_birth": "02/03/1985",
}


# --- Members -------------------------------------------------------------------------------------


def test_a_good_member_becomes_a_typed_record():
    dry = run("members", [MEMBER | {"gender": "মহিলা", "status": "সক্রিয়"}])
    assert dry.issues == []
    record = dry.results["members"].records[0]
    assert record.row == 2
    assert record.values == {
        "member_no": "M-1",
        "branch_code": "HO",
        "full_name": "Rahima Khatun",
        "join_date": dt.date(2020, 1, 15),
        "phone": "+8801711000001",
        "national_id": "1234567890",
        "date_of_birth": dt.date(1985, 3, 2),
        "gender": "female",
        "status": "active",
    }
    assert dry.totals.members_per_branch == Counter({"HO": 1})


def test_bad_members_each_say_why():
    dry = run(
        "members",
        [
            MEMBER | {"member_no": "", "phone": "12345"},
            MEMBER | {"member_no": "M-3", "join_date": "31/02/2020", "national_id": "12"},
            MEMBER | {"member_no": "M-4", "status": "exited"},
            MEMBER | {"member_no": "M-5", "date_of_birth": "2021-01-01"},
            MEMBER | {"member_no": "M-6", "join_date": "2026-01-05"},
            MEMBER | {"member_no": "M-7", "gender": "robot", "exit_date": "2024-01-01"},
        ],
    )
    assert codes(dry) == [
        (2, "member_no", "required"),
        (2, "phone", "phone_invalid"),
        (3, "national_id", "national_id_invalid"),
        (3, "join_date", "date_invalid"),
        (4, "exit_date", "exit_date_required"),
        (5, "date_of_birth", "born_after_joining"),
        (6, "join_date", "after_cut_over"),
        (7, "gender", "choice_invalid"),
    ]
    assert dry.results["members"].valid == 0


def test_member_warnings_do_not_stop_the_row():
    dry = run("members", [MEMBER | {"phone": "", "date_of_birth": "2010-01-01", "full_name": "Rahima 2"}])
    assert codes(dry) == []
    assert codes(dry, WARNING) == [
        (2, "date_of_birth", "member_minor"),
        (2, "full_name", "name_has_digits"),
        (2, "phone", "phone_missing"),
    ]
    assert dry.results["members"].valid == 1


def test_duplicates_within_the_file():
    dry = run(
        "members",
        [
            MEMBER,
            MEMBER | {"national_id": "9999999999"},  # same member number
            MEMBER | {"member_no": "M-০২", "legacy_id": "7"},  # same national ID; Bangla digits fold
            MEMBER | {"member_no": "M-02", "national_id": "", "legacy_id": "7"},
        ],
    )
    assert codes(dry) == [
        (3, "member_no", "duplicate"),
        (4, "national_id", "duplicate"),
        (5, "member_no", "duplicate"),
        (5, "legacy_id", "duplicate"),
    ]
    duplicate = next(issue for issue in dry.issues if issue.row == 3)
    assert duplicate.message == "M-1 is also on row 2."


def test_messages_go_through_the_translation_callable_and_keep_the_files_header():
    catalogue = {"%(value)s is also on row %(first)s.": "%(value)s আবার %(first)s নং সারিতে আছে।"}
    settings = ImportSettings(country="BD", currency="BDT", translate=lambda text: catalogue.get(text, text))
    dry = DryRun(settings)
    from imports.engine.reader import open_table

    table = open_table(
        "সদস্য নং,শাখা কোড,পূর্ণ নাম,ভর্তির তারিখ\nM-1,HO,ক,2020-01-01\nM-1,HO,খ,2020-01-01\n".encode(), "members"
    )
    dry.add_file("members", table.rows(), table.headers)
    assert [(issue.column, issue.message) for issue in dry.issues if issue.severity == ERROR] == [
        ("সদস্য নং", "M-1 আবার 2 নং সারিতে আছে।")
    ]


def test_bijoy_names_converted_on_request_only():
    row = MEMBER | {"full_name": "‡gvt Kwig DwÏb", "guardian_name": "Avãyj Kv‡`i", "address": "Avgvi evwo"}
    as_typed = run("members", [row] * 1)
    assert as_typed.results["members"].records[0].values["full_name"] == "‡gvt Kwig DwÏb"
    converted = run(
        "members", [row], ImportSettings(country="BD", currency="BDT", bijoy_fields=frozenset({"*"}))
    )
    values = converted.results["members"].records[0].values
    assert values["full_name"] == "মোঃ করিম উদ্দিন"
    assert values["guardian_name"] == "আব্দুল কাদের"
    assert values["address"] == "Avgvi evwo"  # "*" means name fields; an address is converted only by name
    by_field = run(
        "members", [row], ImportSettings(country="BD", currency="BDT", bijoy_fields=frozenset({"address"}))
    )
    assert by_field.results["members"].records[0].values["address"] == "আমার বাড়ি"


def test_a_bijoy_column_is_pointed_out():
    rows = [
        MEMBER | {"member_no": f"M-{n}", "national_id": "", "full_name": name}
        for n, name in enumerate(["‡gvt Kwig", "iwngv LvZzb", "dv‡Zgv †eMg", "Rvgvj †nv‡mb"])
    ]
    dry = run("members", rows)
    assert (None, "full_name", "bijoy_suspected") in codes(dry, WARNING)
    plain = run("members", [MEMBER])
    assert all(issue.code != "bijoy_suspected" for issue in plain.issues)


# --- Other entities ------------------------------------------------------------------------------


def test_branches_and_one_head_office():
    rows = [
        {"branch_code": "HO", "name": "Head office", "is_head_office": "yes"},
        {"branch_code": "B1", "name": "Savar", "is_head_office": "হ্যাঁ"},
        {"branch_code": "B1", "name": "Savar again"},
        {"branch_code": "B2", "name": "", "is_head_office": "maybe"},
    ]
    dry = run("branches", rows)
    assert codes(dry) == [
        (4, "branch_code", "duplicate"),
        (5, "name", "required"),
        (5, "is_head_office", "bool_format"),
        (None, "is_head_office", "head_office_many"),
    ]


def test_groups_need_a_known_meeting_day():
    good = {"group_code": "G1", "branch_code": "HO", "name": "Padma", "meeting_day": "Thứ hai"}
    dry = run("groups", [good, good | {"group_code": "G2", "meeting_day": "someday"}])
    assert codes(dry) == [(3, "meeting_day", "choice_invalid")]
    assert dry.results["groups"].records[0].values["meeting_day"] == "monday"


def test_staff_are_invited_with_roles_never_passwords():
    good = {
        "username": "karim",
        "full_name": "Abdul Karim",
        "email": "Karim@Example.org",
        "branch_code": "HO",
        "roles": "মাঠকর্মী; accountant",
    }
    dry = run(
        "staff",
        [
            good,
            good | {"username": "bad name", "email": "not-mail", "roles": "boss"},
            good | {"username": "nasrin"},
        ],
    )
    assert dry.results["staff"].records[0].values["roles"] == ["field_officer", "accountant"]
    assert dry.results["staff"].records[0].values["email"] == "karim@example.org"
    assert codes(dry) == [
        (3, "email", "email_invalid"),
        (3, "roles", "choice_invalid"),
        (4, "email", "duplicate"),
    ]


def test_nominee_shares_add_up_per_member():
    rows = [
        {"member_no": "M-1", "name": "A", "relationship": "Son", "share_percent": "60"},
        {"member_no": "M-1", "name": "B", "relationship": "Daughter", "share_percent": "30"},
        {"member_no": "M-2", "name": "C", "relationship": "Wife", "share_percent": "100"},
        {"member_no": "M-3", "name": "D", "relationship": "Wife", "share_percent": "120"},
    ]
    dry = run("nominees", rows)
    assert codes(dry) == [(5, "share_percent", "share_percent_range")]
    assert codes(dry, WARNING) == [(2, "share_percent", "nominee_shares_total")]
    assert "share 90% in all" in dry.issues[-1].message


def test_shares():
    dry = run(
        "shares",
        [
            {"member_no": "M-1", "share_count": "50", "share_balance": "5,000"},
            {"member_no": "M-2", "share_balance": "-5"},
            {"member_no": "M-1", "share_balance": "1"},
        ],
    )
    assert codes(dry) == [(3, "share_balance", "amount_negative"), (4, "member_no", "duplicate")]
    assert dry.totals.shares == 500_000


SAVINGS = {
    "account_no": "S-1",
    "member_no": "M-1",
    "product_code": "GS",
    "opened_on": "2020-01-15",
    "balance": "12,500.50",
    "accrued_interest": "85.25",
}


def test_savings_accounts():
    dry = run(
        "savings_accounts",
        [
            SAVINGS,
            SAVINGS | {"account_no": "S-2", "balance": "(100)"},
            SAVINGS | {"account_no": "S-3", "balance": "10.5055"},
            SAVINGS | {"account_no": "S-4", "kind": "DPS", "maturity_date": "2019-01-01"},
            SAVINGS | {"account_no": "S-5", "status": "closed"},
            SAVINGS | {"account_no": "S-6", "kind": "FDR", "interest_rate": "120"},
            SAVINGS | {"account_no": "S-7", "kind": "fixed deposit", "balance": "0", "accrued_interest": ""},
            # Matured before the cut-over (31/12/2025) and still open; then the same, closed.
            SAVINGS
            | {"account_no": "S-8", "kind": "FDR", "maturity_date": "2025-06-30", "balance": "0"}
            | {"accrued_interest": ""},
            SAVINGS
            | {"account_no": "S-9", "kind": "FDR", "maturity_date": "2025-06-30", "balance": "0"}
            | {"accrued_interest": "", "status": "closed"},
        ],
    )
    assert codes(dry) == [
        (3, "balance", "savings_balance_negative"),
        (4, "balance", "amount_decimals"),
        (5, "maturity_date", "maturity_before_opening"),
        (6, "status", "closed_with_balance"),
        (7, "interest_rate", "rate_range"),
    ]
    assert codes(dry, WARNING) == [
        (5, "instalment_amount", "instalment_missing"),
        (7, "maturity_date", "maturity_missing"),
        (8, "maturity_date", "maturity_missing"),
        (9, "maturity_date", "matured_before_cut_over"),
    ]
    assert dry.totals.savings == 1_250_050
    assert dry.totals.savings_interest == 8_525


LOAN = {
    "loan_no": "L-1",
    "member_no": "M-1",
    "product_code": "GEN",
    "disbursed_on": "01/02/2024",
    "disbursed_amount": "1,00,000",
    "interest_rate": "12",
    "frequency": "weekly",
    "instalments": "46",
    "principal_paid": "40,000",
    "principal_outstanding": "60,000",
}


def test_loans_outstanding_is_disbursed_less_paid_exactly():
    dry = run(
        "loans",
        [
            LOAN,
            LOAN | {"loan_no": "L-2", "principal_outstanding": "60,000.01"},
            LOAN | {"loan_no": "L-3", "principal_outstanding": ""},  # derived: 60,000
            LOAN | {"loan_no": "L-4", "principal_paid": ""},  # derived: 40,000
            LOAN | {"loan_no": "L-5", "principal_paid": "", "principal_outstanding": ""},
            LOAN | {"loan_no": "L-6", "principal_paid": "", "principal_outstanding": "1,20,000"},
            # Both given and disagreeing: one error, not a second one about the same figures.
            LOAN | {"loan_no": "L-7", "principal_paid": "0", "principal_outstanding": "1,00,001"},
        ],
    )
    assert codes(dry) == [
        (3, "principal_outstanding", "loan_outstanding_mismatch"),
        (6, "principal_outstanding", "principal_missing"),
        (7, "principal_outstanding", "outstanding_more_than_disbursed"),
        (8, "principal_outstanding", "loan_outstanding_mismatch"),
    ]
    mismatch = next(issue for issue in dry.issues if issue.code == "loan_outstanding_mismatch")
    assert mismatch.message == (
        "Outstanding 60,000.01 is not disbursed 100,000.00 less paid 40,000.00 (= 60,000.00)."
    )
    records = {record.values["loan_no"]: record.values for record in dry.results["loans"].records}
    assert records["L-3"]["principal_outstanding"] == 6_000_000
    assert records["L-4"]["principal_paid"] == 4_000_000
    assert dry.totals.loans == 3 * 6_000_000


def test_loan_rules():
    dry = run(
        "loans",
        [
            LOAN | {"guarantors": "M-2, M-1"},
            LOAN | {"loan_no": "L-2", "first_due_on": "2024-01-01", "frequency": "once"},
            LOAN | {"loan_no": "L-3", "arrears": "70,000", "interest_outstanding": "5,000"},
            LOAN
            | {
                "loan_no": "L-4",
                "arrears": "1,000",
                "collateral_value": "50,000",
                "interest_method": "ক্রমহ্রাসমান",
            },
            LOAN | {"loan_no": "L-5", "principal_paid": "1,00,000", "principal_outstanding": "0"},
            LOAN | {"loan_no": "L-6", "instalments": "0", "interest_rate": "-1"},
        ],
    )
    assert codes(dry) == [
        (2, "guarantors", "guarantor_is_borrower"),
        (3, "first_due_on", "first_due_before_disbursal"),
        (4, "arrears", "arrears_more_than_outstanding"),
        (7, "instalments", "instalments_range"),
        (7, "interest_rate", "rate_range"),
    ]
    assert codes(dry, WARNING) == [
        (3, "instalments", "once_many_instalments"),
        (4, "overdue_since", "overdue_since_missing"),
        (5, "overdue_since", "overdue_since_missing"),
        (5, "collateral", "collateral_undescribed"),
        (6, "principal_outstanding", "loan_repaid"),
    ]
    assert [record.values["loan_no"] for record in dry.results["loans"].records] == ["L-4", "L-5"]
    assert dry.results["loans"].records[0].values["interest_method"] == "declining"


def test_loans_in_dong_have_no_decimals():
    row = LOAN | {
        "disbursed_amount": "50.000.000",
        "principal_paid": "12.500.000",
        "principal_outstanding": "37.500.000",
    }
    dry = run("loans", [row, row | {"loan_no": "L-2", "principal_paid": "12.500.000,5"}], VN)
    assert codes(dry) == [(3, "principal_paid", "amount_decimals")]
    assert dry.totals.loans == 37_500_000


def test_trial_balance_must_balance():
    rows = [
        {"account_code": "1010", "debit": "20,000"},
        {"account_code": "1300", "debit": "60,000", "control_of": "loans receivable"},
        {"account_code": "2100", "credit": "75,000", "control_of": "সঞ্চয়"},
        {"account_code": "3100", "credit": "4,000", "control_of": "shares"},
        {"account_code": "9999", "debit": "1", "credit": "1"},
        {"account_code": "9998"},
    ]
    dry = run("trial_balance", rows)
    assert codes(dry) == [
        (6, "credit", "debit_and_credit"),
        (None, "debit", "trial_balance_unbalanced"),
    ]
    assert codes(dry, WARNING) == [(7, "debit", "zero_balance")]
    assert "differ by 1,000.00" in dry.issues[-1].message
    assert dry.opening_balances() == {
        "1010": 2_000_000,
        "1300": 6_000_000,
        "2100": -7_500_000,
        "3100": -400_000,
        "9998": 0,
    }
    assert dry.control_accounts() == {"loans": {"1300"}, "savings": {"2100"}, "shares": {"3100"}}


# --- Reconciliation and references ---------------------------------------------------------------


def test_reconcile_reports_differences_per_control_account():
    lines = reconcile(
        {"savings": 7_500_000, "loans": 6_000_000, "shares": 500_000, "savings_interest": 0},
        {"1300": 6_000_000, "2100": -7_000_000, "2110": -400_000, "3100": -500_000},
        {"loans": ["1300"], "savings": ["2100", "2110"], "shares": ["3100"]},
    )
    by_control = {line.control: line for line in lines}
    assert by_control["loans"].difference == 0
    assert by_control["savings"].ledger_total == 7_400_000
    assert by_control["savings"].difference == 100_000
    assert by_control["savings"].accounts == ("2100", "2110")
    assert by_control["shares"].difference == 0
    assert by_control["savings_interest"].accounts == ()


def test_references_resolve_against_files_and_existing_keys():
    dry = DryRun(BD)
    dry.add_file("branches", enumerate([{"branch_code": "HO", "name": "Head office"}], start=2))
    dry.add_file(
        "members",
        enumerate([MEMBER, MEMBER | {"member_no": "M-2", "national_id": "", "branch_code": "B9"}], start=2),
    )
    dry.add_file(
        "savings_accounts",
        enumerate(
            [
                SAVINGS,
                SAVINGS | {"account_no": "S-2", "member_no": "M-404"},
                SAVINGS | {"account_no": "S-3", "member_no": "M-OLD", "product_code": "XX"},
            ],
            start=2,
        ),
    )
    found = dry.check_references({"member": {"M-OLD"}, "savings_product": {"GS"}, "branch": {"B9"}})
    assert [(issue.entity, issue.row, issue.column, issue.code) for issue in found] == [
        ("savings_accounts", 3, "member_no", "reference_unknown"),
        ("savings_accounts", 4, "product_code", "reference_unknown"),
    ]
    assert found[0].message == "M-404 is not known (member)."
    # Without the workspace's keys, a kind with neither a file nor keys is not checked.
    unchecked = DryRun(BD)
    unchecked.add_file("savings_accounts", enumerate([SAVINGS], start=2))
    assert unchecked.check_references() == []


# --- The sample workbook end to end --------------------------------------------------------------


@pytest.mark.parametrize("country", ["BD", "VN", "TH"])
def test_sample_workbook_dry_run_finds_exactly_the_injected_rows_and_reconciles(country):  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    summary = write_sample(out, members=300, country=country, bad_rows=11, bijoy_share=0.3)
    settings = ImportSettings(
        country=country,
        currency=summary.currency,
        cut_over=dt.date(2025, 12, 31),
        dates=DateSettings(buddhist_era=country == "TH"),
    )
    dry = dry_run_workbook(out.getvalue(), settings)
    dry.check_references({"savings_product": {"CMP", "VOL", "FDR"}, "loan_product": {"GEN"}})
    errors = sorted((issue.entity, issue.row, issue.code) for issue in dry.issues if issue.severity == ERROR)
    assert errors == sorted(summary.bad_rows)
    assert len(errors) == 11
    lines = {line.control: line for line in dry.reconcile()}
    assert {control: line.difference for control, line in lines.items()} == {
        "savings": 0,
        "savings_interest": 0,
        "loans": 0,
        "shares": 0,
    }
    assert lines["savings"].records_total == summary.savings_total > 0
    assert lines["loans"].records_total == summary.loans_outstanding_total > 0
    assert dict(dry.totals.members_per_branch) == summary.members_per_branch
    assert dry.totals.rows["members"] == 300


def test_sample_bijoy_names_convert_to_the_unicode_ones():
    out_bijoy, out_unicode = io.BytesIO(), io.BytesIO()
    write_sample(out_bijoy, members=60, bijoy_share=1.0, seed=7)
    write_sample(out_unicode, members=60, bijoy_share=0.0, seed=7)
    settings = ImportSettings(country="BD", currency="BDT", bijoy_fields=frozenset({"*"}))
    converted = dry_run_workbook(out_bijoy.getvalue(), settings, keep_records=True)
    plain = dry_run_workbook(
        out_unicode.getvalue(), ImportSettings(country="BD", currency="BDT"), keep_records=True
    )
    names = [record.values["full_name"] for record in converted.results["members"].records]
    assert names == [record.values["full_name"] for record in plain.results["members"].records]
    assert any("মোঃ" in name for name in names)
    workbook = XlsxWorkbook(out_bijoy.getvalue())
    raw = [values["full_name"] for _row, values in workbook.table("members").rows()]
    assert any("‡gvt" in name for name in raw)


def test_missing_columns_are_named_in_the_importers_language():
    from imports.engine.reader import open_table

    table = open_table("Số thành viên,Họ và tên\nTV-1,Hoa\n".encode(), "members")
    dry = DryRun(ImportSettings(country="VN", currency="VND", language="vi"))
    result = dry.add_file("members", table.rows(), table.headers)
    assert result.rows == 0  # a file without its required columns is not read row by row
    assert [(issue.row, issue.column, issue.code, issue.message) for issue in dry.issues] == [
        (None, "branch_code", "column_missing", "The file has no column for Mã chi nhánh."),
        (None, "join_date", "column_missing", "The file has no column for Ngày vào tổ."),
    ]


def test_issues_spreadsheet():
    dry = run("loans", [LOAN | {"principal_outstanding": "1"}])
    out = io.BytesIO()
    write_issues_xlsx(dry.issues, out, reconciliation=dry.reconcile(), totals=dry.totals)
    workbook = XlsxWorkbook(out.getvalue())
    assert workbook.sheet_names == ["Issues", "Reconciliation", "Members per branch"]
    rows = list(workbook.rows("Issues"))
    assert rows[0] == ["Sheet", "Row", "Column", "Severity", "Code", "Message"]
    assert rows[1][:5] == ["loans", 2, "principal_outstanding", "error", "loan_outstanding_mismatch"]
    reconciliation = list(workbook.rows("Reconciliation"))
    assert reconciliation[0] == ["Control", "Accounts", "Records", "Ledger", "Difference"]
