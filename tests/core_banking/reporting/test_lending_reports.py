"""The loan reports, figures worked by hand, per branch set; the month-end snapshot that stays as it
was; the group collection sheet to the smallest unit; the member statement with loans; access and
outputs.

The loan book (BDT, minor units), made through the lending services on top of ``conftest.py``'s books.
General loan: 12 % a year, 30/360, 12 monthly instalments from 5 March 2026 (1 % a month), a Tk 50.00
penalty per instalment more than 3 days late.

==============  ======  ===========  ============================================================
member          branch  application  what happens
==============  ======  ===========  ============================================================
HO-000001       HO      HO-A-000001  Tk 1,00,000.00 approved, paid out 5 Feb as HO-L-000001;
                                     EMI 8,884.88 (first: interest 1,000.00, principal 7,884.88),
                                     paid in full 5 March at the office
BR1-000001      BR1     BR1-A-000001 Tk 50,000.00 approved, paid out 5 Feb as BR1-L-000001;
                                     EMI 50,000 × 0.01 / (1 − 1.01⁻¹²) = 4,442.4394… → 4,442.44
                                     (first: interest 500.00, principal 3,942.44); Tk 2,000.00
                                     paid 5 March in the field: interest 500.00, principal 1,500.00
HO-000103       HO      HO-A-000002  Tk 20,000.00 returned: "Salary slip missing"
BR1-000104      BR1     BR1-A-000002 Tk 30,000.00 waiting for approval
==============  ======  ===========  ============================================================

The close of business of 31 March (a month end) charges BR1-L-000001 its Tk 50.00 penalty (5 March
+ 3 days is before 31 March), ages it 26 days and takes the month-end snapshot:

- HO-L-000001: 92,115.12 outstanding, not late, 1 % provision = 921.1512 → 921.15
- BR1-L-000001: 48,500.00 outstanding, overdue 2,442.44 + 50.00 = 2,492.44, 26 days, 5 % = 2,425.00
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.lending.close_of_business import close_of_business_run
from core_banking.lending.models import Loan, LoanProduct
from core_banking.lending.services import (
    loan_application_decide,
    loan_application_submit,
    loan_disburse,
    loan_repay,
)
from core_banking.members.models import Member, MemberGroup
from core_banking.reporting import lending_selectors, selectors
from core_banking.reporting.access import BranchSet
from core_banking.reporting.registry import REPORTS, ReportQuery
from tests.conftest import ALPHA, workspace_client
from tests.core_banking.lending.conftest import (  # noqa: F401 - fixtures
    APPLIED,
    DISBURSED,
    ladder,
    monthly_product,
    staff,
)
from tests.core_banking.reporting.conftest import Books
from tests.core_banking.savings.conftest import make_member

pytestmark = pytest.mark.django_db

MARCH_5 = dt.date(2026, 3, 5)
MARCH_31 = dt.date(2026, 3, 31)
FEB_1, FEB_28 = dt.date(2026, 2, 1), dt.date(2026, 2, 28)
MEETING = dt.date(2026, 4, 6)  # a Monday
HO_EMI = 8_884_88
HO_OUTSTANDING = 100_000_00 - 7_884_88  # 92,115.12
BR1_OUTSTANDING = 50_000_00 - 1_500_00  # 48,500.00
BR1_OVERDUE = 4_442_44 - 2_000_00 + 50_00  # 2,492.44


@dataclass(frozen=True)
class LoanBook:
    books: Books
    ho_loan: Loan
    br1_loan: Loan
    ho_group: MemberGroup
    br1_group: MemberGroup

    @property
    def ho(self) -> int:
        return self.books.ho.pk

    @property
    def br1(self) -> int:
        return self.books.br1.pk


def _submit(people: dict[str, Any], member: Member, product: LoanProduct, amount_minor: int) -> Any:
    return loan_application_submit(
        actor=people["officer"],
        member_id=member.pk,
        product_id=product.pk,
        amount_minor=amount_minor,
        installments=12,
        applied_on=APPLIED,
    ).application


@pytest.fixture
def loan_book(
    books: Books,
    staff: dict[str, Any],  # noqa: F811
    ladder: None,  # noqa: F811
    monthly_product: LoanProduct,  # noqa: F811
) -> LoanBook:
    ho_group = MemberGroup.objects.create(branch=books.ho, code="G-HO", name="Padma", meeting_weekday=0)
    br1_group = MemberGroup.objects.create(branch=books.br1, code="G-BR1", name="Meghna", meeting_weekday=0)
    returned_member = make_member("HO-000103", phone="+8801711000103")
    waiting_member = make_member("BR1-000104", phone="+8801711000104", branch=books.br1)
    Member.objects.filter(pk__in=[books.member.pk, returned_member.pk]).update(group=ho_group)
    Member.objects.filter(pk__in=[books.br1_member.pk, waiting_member.pk]).update(group=br1_group)
    Member.objects.all().update(join_date=dt.date(2020, 1, 1))

    loans = []
    for member, amount, key in ((books.member, 100_000_00, "ho"), (books.br1_member, 50_000_00, "br1")):
        application = _submit(staff, member, monthly_product, amount)
        loan_application_decide(actor=staff["approver2"], application_id=application.pk, decision="approved")
        loans.append(
            loan_disburse(
                actor=None, application_id=application.pk, disbursed_on=DISBURSED, idempotency_key=f"d-{key}"
            )
        )
    returned = _submit(staff, returned_member, monthly_product, 20_000_00)
    loan_application_decide(
        actor=staff["approver1"],
        application_id=returned.pk,
        decision="returned",
        reason="Salary slip missing",
    )
    _submit(staff, waiting_member, monthly_product, 30_000_00)

    ho_loan, br1_loan = loans
    loan_repay(
        actor=None, loan_id=ho_loan.pk, amount_minor=HO_EMI, value_date=MARCH_5, idempotency_key="r-ho"
    )
    loan_repay(
        actor=None,
        loan_id=br1_loan.pk,
        amount_minor=2_000_00,
        value_date=MARCH_5,
        idempotency_key="r-br1",
        channel="field",
    )
    close_of_business_run(business_date=MARCH_31)
    return LoanBook(books, ho_loan, br1_loan, ho_group, br1_group)


def _all_sets(book: LoanBook) -> dict[str, list[int] | None]:
    return {"HO": [book.ho], "BR1": [book.br1], "both": [book.ho, book.br1], "consolidated": None}


# --- Daily ---------------------------------------------------------------------------------------


def test_applications_detail_and_summary_per_branch_set(loan_book: LoanBook) -> None:
    everything = lending_selectors.loan_applications(start=FEB_1, end=FEB_28, branch_ids=None)
    assert [(row.number, row.member.number, row.amount_minor, row.status) for row in everything.rows] == [
        ("BR1-A-000001", "BR1-000001", 50_000_00, "disbursed"),
        ("BR1-A-000002", "BR1-000104", 30_000_00, "submitted"),
        ("HO-A-000001", "HO-000001", 100_000_00, "disbursed"),
        ("HO-A-000002", "HO-000103", 20_000_00, "returned"),
    ]
    assert (everything.applications, everything.amount_minor) == (4, 200_000_00)
    summary = [
        (row.product.code, row.status, row.applications, row.amount_minor) for row in everything.summary
    ]
    assert summary == [
        ("GEN", "submitted", 1, 30_000_00),
        ("GEN", "returned", 1, 20_000_00),
        ("GEN", "disbursed", 2, 150_000_00),
    ]
    both = lending_selectors.loan_applications(
        start=FEB_1, end=FEB_28, branch_ids=[loan_book.ho, loan_book.br1]
    )
    assert both == everything
    br1 = lending_selectors.loan_applications(start=FEB_1, end=FEB_28, branch_ids=[loan_book.br1])
    assert [(row.status, row.applications, row.amount_minor) for row in br1.summary] == [
        ("submitted", 1, 30_000_00),
        ("disbursed", 1, 50_000_00),
    ]
    ho = lending_selectors.loan_applications(start=FEB_1, end=FEB_28, branch_ids=[loan_book.ho])
    assert (ho.applications, ho.amount_minor) == (2, 120_000_00)
    # Nothing was applied for in March.
    assert lending_selectors.loan_applications(start=MARCH_5, end=MARCH_31, branch_ids=None).rows == []


def test_approvals_and_disbursements_and_returns(loan_book: LoanBook) -> None:
    today = lending_selectors.workspace_business_date()  # decisions are dated when they were made
    result = lending_selectors.approvals_and_disbursements(start=FEB_1, end=today, branch_ids=None)
    assert [(row.application_number, row.level, row.final, row.decided_on) for row in result.approvals] == [
        ("HO-A-000001", 1, True, today),
        ("BR1-A-000001", 1, True, today),
    ]
    assert [(row.loan_number, row.disbursed_on, row.principal_minor) for row in result.disbursements] == [
        ("BR1-L-000001", DISBURSED, 50_000_00),
        ("HO-L-000001", DISBURSED, 100_000_00),
    ]
    assert [
        (row.product.code, row.approved, row.approved_minor, row.disbursed, row.disbursed_minor)
        for row in result.summary
    ] == [("GEN", 2, 150_000_00, 2, 150_000_00)]
    br1 = lending_selectors.approvals_and_disbursements(start=FEB_1, end=today, branch_ids=[loan_book.br1])
    assert (br1.approved, br1.approved_minor, br1.disbursed, br1.disbursed_minor) == (
        1,
        50_000_00,
        1,
        50_000_00,
    )
    # February alone: the loans were paid out then; the approvals were made today.
    february = lending_selectors.approvals_and_disbursements(start=FEB_1, end=FEB_28, branch_ids=None)
    assert (february.approved, february.disbursed, february.disbursed_minor) == (0, 2, 150_000_00)

    returned = lending_selectors.returned_applications(start=FEB_1, end=today, branch_ids=None)
    assert [(row.application_number, row.reason, row.status, row.amount_minor) for row in returned.rows] == [
        ("HO-A-000002", "Salary slip missing", "returned", 20_000_00)
    ]
    assert (
        lending_selectors.returned_applications(start=FEB_1, end=today, branch_ids=[loan_book.br1]).rows == []
    )


def test_collections_by_day_and_channel(loan_book: LoanBook) -> None:
    march = lending_selectors.collections(start=dt.date(2026, 3, 1), end=MARCH_31, branch_ids=None)
    assert [
        (day.day, day.payments, day.principal_minor, day.interest_minor, day.fee_minor, day.penalty_minor)
        for day in march.days
    ] == [(MARCH_5, 2, 7_884_88 + 1_500_00, 1_000_00 + 500_00, 0, 0)]
    assert march.total_minor == HO_EMI + 2_000_00 == 10_884_88
    assert [(row.channel, row.payments, row.total_minor) for row in march.channels] == [
        ("field", 1, 2_000_00),
        ("office", 1, HO_EMI),
    ]
    ho = lending_selectors.collections(start=dt.date(2026, 3, 1), end=MARCH_31, branch_ids=[loan_book.ho])
    assert (ho.payments, ho.principal_minor, ho.interest_minor, ho.total_minor) == (
        1,
        7_884_88,
        1_000_00,
        HO_EMI,
    )
    both = lending_selectors.collections(
        start=dt.date(2026, 3, 1), end=MARCH_31, branch_ids=[loan_book.ho, loan_book.br1]
    )
    assert both == march
    # A later payment pays the penalty first: it shows in its own day's penalty column.
    loan_repay(
        actor=None,
        loan_id=loan_book.br1_loan.pk,
        amount_minor=BR1_OVERDUE,
        value_date=dt.date(2026, 4, 2),
        idempotency_key="r-br1-2",
    )
    april = lending_selectors.collections(
        start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30), branch_ids=None
    )
    assert [
        (day.principal_minor, day.interest_minor, day.penalty_minor, day.total_minor) for day in april.days
    ] == [(2_442_44, 0, 50_00, BR1_OVERDUE)]


# --- Month end ------------------------------------------------------------------------------------


def _debtors(result: lending_selectors.LoanDebtors) -> list[tuple[Any, ...]]:
    return [
        (
            row.loan_number,
            row.principal_outstanding_minor,
            row.overdue_minor,
            row.days_past_due,
            row.bucket_days,
            row.provision_required_minor,
        )
        for row in result.rows
    ]


def test_the_debtors_snapshot_stays_as_it_was_after_a_later_repayment(loan_book: LoanBook) -> None:
    expected = [
        ("BR1-L-000001", BR1_OUTSTANDING, BR1_OVERDUE, 26, 1, 2_425_00),
        ("HO-L-000001", HO_OUTSTANDING, 0, 0, 0, 921_15),
    ]
    before = lending_selectors.loan_debtors(month_end=MARCH_31, branch_ids=None)
    assert before.snapshot_found
    assert _debtors(before) == expected
    assert (before.principal_outstanding_minor, before.overdue_minor, before.provision_required_minor) == (
        140_615_12,
        BR1_OVERDUE,
        3_346_15,
    )
    assert (
        _debtors(lending_selectors.loan_debtors(month_end=MARCH_31, branch_ids=[loan_book.ho]))
        == expected[1:]
    )
    assert (
        _debtors(lending_selectors.loan_debtors(month_end=MARCH_31, branch_ids=[loan_book.br1]))
        == expected[:1]
    )

    loan_repay(
        actor=None,
        loan_id=loan_book.br1_loan.pk,
        amount_minor=BR1_OVERDUE,
        value_date=dt.date(2026, 4, 2),
        idempotency_key="r-br1-late",
    )
    loan_book.br1_loan.refresh_from_db()
    assert loan_book.br1_loan.principal_outstanding_minor == BR1_OUTSTANDING - 2_442_44
    after = lending_selectors.loan_debtors(month_end=MARCH_31, branch_ids=None)
    assert after == before
    assert lending_selectors.outstanding_by_product(
        month_end=MARCH_31, branch_ids=None
    ).principal_outstanding_minor == (140_615_12)


def test_a_month_without_a_snapshot_says_so(loan_book: LoanBook) -> None:
    for run in (lending_selectors.loan_debtors, lending_selectors.outstanding_by_product):
        result = run(month_end=FEB_28, branch_ids=None)
        assert (result.snapshot_found, result.rows) == (False, [])
    provisions = lending_selectors.provisions_by_bucket(month_end=FEB_28, branch_ids=None)
    assert (provisions.snapshot_found, provisions.rows) == (False, [])
    table = REPORTS["loan-debtors"].layout(lending_selectors.loan_debtors(month_end=FEB_28, branch_ids=None))
    assert len(table.rows) == 1
    assert "no month-end snapshot" in str(table.rows[0].cells[0])
    # A branch with no loans in a closed month end has an empty snapshot, not a missing one.
    assert lending_selectors.loan_debtors(month_end=MARCH_31, branch_ids=[987654]).snapshot_found


def test_outstanding_by_product_and_provisions_by_bucket(loan_book: LoanBook) -> None:
    for name, branch_ids in _all_sets(loan_book).items():
        outstanding = lending_selectors.outstanding_by_product(month_end=MARCH_31, branch_ids=branch_ids)
        rows = [
            (
                row.product.code,
                row.loans,
                row.principal_outstanding_minor,
                row.overdue_loans,
                row.overdue_minor,
            )
            for row in outstanding.rows
        ]
        expected = {
            "HO": [("GEN", 1, HO_OUTSTANDING, 0, 0)],
            "BR1": [("GEN", 1, BR1_OUTSTANDING, 1, BR1_OVERDUE)],
            "both": [("GEN", 2, 140_615_12, 1, BR1_OVERDUE)],
            "consolidated": [("GEN", 2, 140_615_12, 1, BR1_OVERDUE)],
        }[name]
        assert rows == expected, name

    provisions = lending_selectors.provisions_by_bucket(month_end=MARCH_31, branch_ids=None)
    assert [
        (
            row.bucket_days,
            row.rate_percent,
            row.loans,
            row.principal_outstanding_minor,
            row.provision_required_minor,
        )
        for row in provisions.rows
    ] == [
        (0, Decimal("1"), 1, HO_OUTSTANDING, 921_15),
        (1, Decimal("5"), 1, BR1_OUTSTANDING, 2_425_00),
    ]
    assert provisions.provision_required_minor == 3_346_15
    br1 = lending_selectors.provisions_by_bucket(month_end=MARCH_31, branch_ids=[loan_book.br1])
    assert [(row.bucket_days, row.provision_required_minor) for row in br1.rows] == [(1, 2_425_00)]


def test_portfolio_at_risk_per_branch_set(loan_book: LoanBook) -> None:
    run = REPORTS["portfolio-at-risk"].run

    def par(branch_ids: list[int] | None) -> Any:
        branches = None if branch_ids is None else tuple(branch_ids)
        return run(ReportQuery(branch_set=BranchSet(branches, ()), as_of=MARCH_31))

    consolidated = par(None)
    assert (consolidated.source, consolidated.loans, consolidated.outstanding_minor) == (
        "snapshot",
        2,
        140_615_12,
    )
    # 48,500.00 / 1,40,615.12 = 0.34491…
    assert (consolidated.par(1).loans, consolidated.par(1).at_risk_minor, consolidated.par(1).ratio) == (
        1,
        BR1_OUTSTANDING,
        Decimal("0.3449"),
    )
    assert consolidated.par(30).at_risk_minor == consolidated.par(90).at_risk_minor == 0
    assert par([loan_book.br1]).par(1).ratio == Decimal("1.0000")
    assert par([loan_book.ho]).par(1).at_risk_minor == 0
    assert par([loan_book.ho, loan_book.br1]) == consolidated
    table = REPORTS["portfolio-at-risk"].layout(consolidated)
    assert [row.cells[3] for row in table.rows[2:]] == ["34.49 %", "0.00 %", "0.00 %"]


def test_overdue_instalments(loan_book: LoanBook) -> None:
    result = lending_selectors.overdue_items(as_of=MARCH_31, branch_ids=None)
    assert [
        (row.loan_number, row.installment, row.due_date, row.days_past_due, row.principal_minor)
        for row in result.rows
    ] == [("BR1-L-000001", 1, MARCH_5, 26, 2_442_44)]
    assert (result.interest_minor, result.fee_minor, result.penalty_minor, result.total_minor) == (
        0,
        0,
        50_00,
        BR1_OVERDUE,
    )
    assert lending_selectors.overdue_items(as_of=MARCH_31, branch_ids=[loan_book.ho]).rows == []
    # On 10 April both loans' second instalments (due 5 April) are overdue too.
    april = lending_selectors.overdue_items(
        as_of=dt.date(2026, 4, 10), branch_ids=[loan_book.ho, loan_book.br1]
    )
    assert [(row.loan_number, row.installment, row.days_past_due) for row in april.rows] == [
        ("BR1-L-000001", 1, 36),
        ("BR1-L-000001", 2, 5),
        ("HO-L-000001", 2, 5),
    ]
    assert april.loans == 2


# --- Group collection sheet ---------------------------------------------------------------------


def test_the_group_collection_sheet_to_the_smallest_unit_with_a_penalty(loan_book: LoanBook) -> None:
    sheet = lending_selectors.group_collection_sheet(group_code="G-BR1", meeting_on=MEETING, branch_ids=None)
    # Instalment 1: 3,942.44 − 1,500.00 principal left and the Tk 50.00 penalty; instalment 2 (due
    # 5 April): interest 1 % of the scheduled 46,057.56 = 460.5756 → 460.58, principal 4,442.44 − 460.58.
    (line,) = sheet.lines
    assert (line.member.number, line.loan_number, line.installments_due) == ("BR1-000001", "BR1-L-000001", 2)
    assert (line.principal_minor, line.interest_minor, line.fee_minor, line.penalty_minor) == (
        2_442_44 + 3_981_86,
        460_58,
        0,
        50_00,
    )
    assert line.total_minor == sheet.total_minor == 6_934_88
    # Before the second instalment falls due only the first is owed.
    earlier = lending_selectors.group_collection_sheet(
        group_code="G-BR1", meeting_on=dt.date(2026, 3, 30), branch_ids=[loan_book.br1]
    )
    assert earlier.total_minor == BR1_OVERDUE
    ho = lending_selectors.group_collection_sheet(
        group_code="G-HO", meeting_on=MEETING, branch_ids=[loan_book.ho]
    )
    assert [(line.member.number, line.principal_minor, line.interest_minor) for line in ho.lines] == [
        ("HO-000001", 7_963_73, 921_15)
    ]
    assert ho.total_minor == HO_EMI
    # Without a day: the group's next meeting from today.
    upcoming = lending_selectors.group_collection_sheet(group_code="G-HO", meeting_on=None, branch_ids=None)
    assert (
        upcoming.meeting_on.weekday() == 0
        and upcoming.meeting_on >= lending_selectors.workspace_business_date()
    )
    # A group of another branch is unknown in the chosen branches.
    with pytest.raises(BusinessRuleViolation) as unknown:
        lending_selectors.group_collection_sheet(
            group_code="G-HO", meeting_on=MEETING, branch_ids=[loan_book.br1]
        )
    assert unknown.value.code == ErrorCode.REPORT_GROUP_UNKNOWN


# --- Member statement with loans ----------------------------------------------------------------


def test_the_member_statement_lists_the_loans(loan_book: LoanBook) -> None:
    statement = selectors.member_statement(
        member_number="HO-000001", start=FEB_1, end=dt.date(2026, 4, 30), branch_ids=None
    )
    (loan,) = statement.loans
    assert (
        loan.number,
        loan.principal_minor,
        loan.opening_outstanding_minor,
        loan.closing_outstanding_minor,
    ) == (
        "HO-L-000001",
        100_000_00,
        0,
        HO_OUTSTANDING,
    )
    assert [
        (row.value_date, row.kind, row.paid_in_minor, row.taken_out_minor, row.principal_outstanding_minor)
        for row in loan.movements
    ] == [
        (DISBURSED, "disbursement", 0, 100_000_00, 100_000_00),
        (MARCH_5, "repayment", HO_EMI, 0, HO_OUTSTANDING),
    ]
    assert (loan.overdue_minor, loan.days_past_due, loan.overdue_as_of) == (0, 0, MARCH_31)
    assert statement.loans_outstanding_minor == HO_OUTSTANDING
    # A period after the repayment: the balance carried in, no movements.
    april = selectors.member_statement(
        member_number="BR1-000001",
        start=dt.date(2026, 4, 1),
        end=dt.date(2026, 4, 30),
        branch_ids=[loan_book.br1],
    )
    (br1_loan,) = april.loans
    assert (br1_loan.opening_outstanding_minor, br1_loan.movements, br1_loan.overdue_minor) == (
        BR1_OUTSTANDING,
        [],
        BR1_OVERDUE,
    )
    table = REPORTS["member-statement"].layout(statement)
    loan_rows = table.rows[[row.cells[0] for row in table.rows].index("Loan HO-L-000001 · General loan") :]
    assert [
        (row.cells[0], row.cells[1], row.cells[3], row.cells[4], row.cells[5]) for row in loan_rows[1:]
    ] == [
        (DISBURSED, "Principal lent", None, None, 100_000_00),
        (FEB_1, "Principal outstanding at the start", None, None, 0),
        (DISBURSED, "Disbursement", None, 100_000_00, 100_000_00),
        (MARCH_5, "Repayment", HO_EMI, None, HO_OUTSTANDING),
        (dt.date(2026, 4, 30), "Principal outstanding at the end", HO_EMI, 100_000_00, HO_OUTSTANDING),
        (MARCH_31, "Overdue, 0 days past due", None, None, 0),
        (None, "Total loans outstanding", None, None, HO_OUTSTANDING),
    ]
    # Before the loans, the savings part is as it was: its total row comes first.
    assert "Total savings" in [row.cells[1] for row in table.rows[: -len(loan_rows)]]


# --- API, access and outputs -----------------------------------------------------------------------


@pytest.fixture
def admin(loan_book: LoanBook) -> Client:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    client.cookies.load({"coopcore_language": "en"})
    return client


def test_the_api_answers_each_loan_report(loan_book: LoanBook, admin: Client) -> None:
    urls = {
        "loan-applications": "start=2026-02-01&end=2026-02-28",
        "loan-applications-summary": "start=2026-02-01&end=2026-02-28",
        "loan-approvals-disbursements": "start=2026-02-01&end=2026-03-31",
        "loan-approvals-disbursements-summary": "start=2026-02-01&end=2026-03-31",
        "loan-applications-returned": "start=2026-02-01&end=2026-03-31",
        "loan-collections": "start=2026-03-01&end=2026-03-31",
        "group-collection-sheet": "group=G-BR1&day=2026-04-06",
        "loan-debtors": "as_of=2026-03-31",
        "loan-outstanding-by-product": "as_of=2026-03-31",
        "loan-overdue-items": "as_of=2026-03-31",
        "portfolio-at-risk": "as_of=2026-03-31",
        "loan-provisions": "as_of=2026-03-31",
    }
    for slug, query in urls.items():
        response = admin.get(f"/api/v1/reports/{slug}/?{query}")
        assert response.status_code == 200, (slug, response.content)
    body = admin.get("/api/v1/reports/group-collection-sheet/?group=G-BR1&day=2026-04-06").json()
    assert body["data"]["total_minor"] == 6_934_88
    assert body["data"]["lines"][0]["penalty_minor"] == 50_00
    par = admin.get(f"/api/v1/reports/portfolio-at-risk/?as_of=2026-03-31&branch={loan_book.br1}").json()
    assert par["data"]["at_risk"][0] == {
        "days": 1,
        "loans": 1,
        "at_risk_minor": BR1_OUTSTANDING,
        "ratio": "1.0000",
    }
    provisions = admin.get("/api/v1/reports/loan-provisions/?as_of=2026-03-31").json()
    assert [row["rate_percent"] for row in provisions["data"]["rows"]] == ["1.0000", "5.0000"]
    statement = admin.get(
        "/api/v1/reports/member-statement/?member=HO-000001&start=2026-02-01&end=2026-04-30"
    )
    assert statement.json()["data"]["loans_outstanding_minor"] == HO_OUTSTANDING
    missing = admin.get("/api/v1/reports/group-collection-sheet/?group=NOPE&day=2026-04-06").json()
    assert missing["error"]["code"] == "report_group_unknown"


def test_a_branch_limited_user_sees_loan_reports_of_their_branch_only(
    loan_book: LoanBook, br1_manager: str
) -> None:
    limited = workspace_client(ALPHA, username=br1_manager)
    own = limited.get(f"/api/v1/reports/loan-debtors/?as_of=2026-03-31&branch={loan_book.br1}")
    assert own.status_code == 200
    assert [row["loan_number"] for row in own.json()["data"]["rows"]] == ["BR1-L-000001"]
    refusals = {
        f"/api/v1/reports/loan-debtors/?as_of=2026-03-31&branch={loan_book.ho}": (
            403,
            "report_branch_forbidden",
        ),
        "/api/v1/reports/loan-collections/?start=2026-03-01&end=2026-03-31": (
            403,
            "report_consolidated_forbidden",
        ),
        f"/api/v1/reports/portfolio-at-risk/?as_of=2026-03-31&branch={loan_book.br1}&branch={loan_book.ho}": (
            403,
            "report_branch_forbidden",
        ),
        # Another branch's group is as unknown as a group that does not exist.
        f"/api/v1/reports/group-collection-sheet/?group=G-HO&day=2026-04-06&branch={loan_book.br1}": (
            400,
            "report_group_unknown",
        ),
    }
    for url, refusal in refusals.items():
        response = limited.get(url)
        assert (response.status_code, response.json()["error"]["code"]) == refusal, url


def test_outputs_pdf_xlsx_csv(loan_book: LoanBook, admin: Client) -> None:
    pdf = admin.get("/reports/group-collection-sheet/pdf/?group=G-BR1&day=2026-04-06&branch=all")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'inline; filename="group-collection-sheet-G-BR1-2026-04-06.pdf"'
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "BR1-L-000001" in text and "G-BR1 Meghna" in text
    assert "6,934.88" in text

    spreadsheet = admin.get("/reports/loan-debtors/xlsx/?as_of=2026-03-31&branch=all")
    assert spreadsheet.status_code == 200
    sheet = load_workbook(io.BytesIO(spreadsheet.content)).active
    assert sheet is not None
    values = [
        row for row in sheet.iter_rows(values_only=True) if row and row[0] in {"BR1-L-000001", "HO-L-000001"}
    ]
    assert [(row[0], row[4], row[5]) for row in values] == [
        ("BR1-L-000001", 26, 48500),
        ("HO-L-000001", 0, 92115.12),  # stored as a number with two decimals
    ]

    download = admin.get("/reports/loan-collections/csv/?start=2026-03-01&end=2026-03-31&branch=all")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["Date", "Channel", "Payments", "Principal", "Interest", "Fee", "Penalty", "Total"]
    assert ["2026-03-05", "", "2", "9384.88", "1500.00", "0.00", "0.00", "10884.88"] in rows
    assert ["", "Field", "1", "", "", "", "", "2000.00"] in rows

    no_snapshot = admin.get("/reports/loan-debtors/csv/?as_of=2026-02-28&branch=all")
    assert "no month-end snapshot" in no_snapshot.content.decode("utf-8-sig")

    page = admin.get("/reports/loan-provisions/?as_of=2026-03-31&branch=all")
    assert page.status_code == 200 and "2,425.00" in page.content.decode()


def test_the_collection_sheet_in_bangla(loan_book: LoanBook) -> None:
    client = workspace_client(ALPHA, username=ALPHA.admin)  # the samity's own language: Bangla
    page = client.get("/reports/group-collection-sheet/?group=G-BR1&day=2026-04-06&branch=all")
    assert page.status_code == 200
    html = page.content.decode()
    assert "সমিতির আদায় শিট" in html and "সভায় পরিশোধযোগ্য" in html
    assert "৬,৯৩৪.৮৮৳" in html  # Bangla digits: Tk 6,934.88
