"""The JSON API of the reports (results in minor units, stable error codes) and the staff pages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import ALPHA, workspace_client
from tests.core_banking.reporting.conftest import Books

MARCH = "start=2026-03-01&end=2026-03-31"


@pytest.fixture
def admin(books: Books) -> Client:
    client = workspace_client(ALPHA, username=ALPHA.admin)
    client.cookies.load({"coopcore_language": "en"})
    return client


def test_the_list_names_every_report_and_its_parameters(admin: Client) -> None:
    listed = {item["slug"]: item for item in admin.get("/api/v1/reports/").json()}
    assert set(listed) == {
        "trial-balance",
        "balance-sheet",
        "income-statement",
        "cash-book",
        "general-ledger",
        "day-journal",
        "savings-balances",
        "member-statement",
        "loan-applications",
        "loan-applications-summary",
        "loan-approvals-disbursements",
        "loan-approvals-disbursements-summary",
        "loan-applications-returned",
        "loan-collections",
        "group-collection-sheet",
        "loan-debtors",
        "loan-outstanding-by-product",
        "loan-overdue-items",
        "portfolio-at-risk",
        "loan-provisions",
    }
    assert listed["member-statement"]["parameters"] == ["member", "start", "end", "branch"]
    assert listed["member-statement"]["required"] == ["member", "start", "end"]
    assert listed["savings-balances"]["required"] == ["as_of"]
    assert listed["trial-balance"]["required"] == ["end"]


def test_member_statement_as_json(books: Books, admin: Client) -> None:
    response = admin.get("/api/v1/reports/member-statement/?member=HO-000001&start=2026-02-01&end=2026-04-30")
    assert response.status_code == 200
    body = response.json()
    assert (body["currency"], body["currency_exponent"], body["consolidated"]) == ("BDT", 2, True)
    data = body["data"]
    assert data["member"] == {
        "id": books.member.pk,
        "number": "HO-000001",
        "name": "Member HO-000001",
        "branch_code": "HO",
    }
    assert [
        (
            account["number"],
            account["opening_minor"],
            account["paid_in_minor"],
            account["taken_out_minor"],
            account["closing_minor"],
        )
        for account in data["savings"]
    ] == [
        ("HO-000001-CMP-1", 0, 1_800_00, 0, 1_800_00),
        ("HO-000001-VOL-1", 0, 12_000_00, 1_500_25, 10_499_75),
    ]
    assert [movement["balance_minor"] for movement in data["savings"][1]["movements"]] == [
        2_000_00,
        12_000_00,
        10_799_75,
        10_499_75,
    ]
    assert data["shares"]["closing_shares"] == 12
    assert [(m["value_date"], m["shares"], m["balance_minor"]) for m in data["shares"]["movements"]] == [
        ("2026-02-16", 10, 1_000_00),
        ("2026-04-06", 2, 1_200_00),
    ]
    assert data["savings_closing_minor"] == 12_299_75


def test_savings_balances_as_json(books: Books, admin: Client) -> None:
    body = admin.get(f"/api/v1/reports/savings-balances/?as_of=2026-04-30&branch={books.br1.pk}").json()
    assert body["branch_ids"] == [books.br1.pk]
    assert [
        (row["product"]["code"], row["accounts"], row["balance_minor"]) for row in body["data"]["rows"]
    ] == [
        ("CMP", 0, 0),
        ("VOL", 1, 102_500_50),
    ]
    assert (body["data"]["accounts"], body["data"]["balance_minor"]) == (1, 102_500_50)


@pytest.mark.parametrize(
    ("url", "status", "code", "field"),
    [
        ("/api/v1/reports/day-journal/?day=2026-13-10", 400, "validation_error", "day"),
        ("/api/v1/reports/trial-balance/?end=31/03/2026", 400, "validation_error", "end"),
        ("/api/v1/reports/income-statement/?end=2026-03-31", 400, "validation_error", "start"),
        ("/api/v1/reports/cash-book/?start=2026-04-01&end=2026-03-31", 400, "report_period_invalid", "start"),
        (f"/api/v1/reports/general-ledger/?account=9999&{MARCH}", 400, "account_unknown", "account"),
        (f"/api/v1/reports/general-ledger/?{MARCH}", 400, "validation_error", "account"),
        (
            f"/api/v1/reports/member-statement/?member=NOBODY-1&{MARCH}",
            400,
            "report_member_unknown",
            "member",
        ),
        (
            "/api/v1/reports/balance-sheet/?as_of=2026-03-31&branch=987654",
            400,
            "report_branch_unknown",
            "branch",
        ),
        ("/api/v1/reports/balance-sheet/?as_of=2026-03-31&branch=HO", 400, "validation_error", "branch"),
    ],
)
def test_bad_requests_get_stable_codes(admin: Client, url: str, status: int, code: str, field: str) -> None:
    response = admin.get(url)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert list(error["fields"]) == [field]


def test_the_openapi_schema_documents_each_report(admin: Client) -> None:
    schema = admin.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/reports/member-statement/"]["get"]
    assert operation["operationId"] == "reports_member_statement"
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "member",
        "start",
        "end",
        "branch",
    }
    assert {"MemberStatement", "SavingsBalances", "ShareMovement"} <= set(schema["components"]["schemas"])


def test_the_index_and_a_report_page(books: Books, admin: Client) -> None:
    index = admin.get("/reports/").content.decode()
    assert "/reports/member-statement/" in index and "/reports/savings-balances/" in index
    # First visit: the form with today's dates; a member statement waits for a member number.
    first = admin.get("/reports/member-statement/")
    assert first.status_code == 200
    assert 'name="member"' in first.content.decode()
    assert "errorlist" not in first.content.decode()
    page = admin.get(f"/reports/member-statement/?member=HO-000001&{MARCH}&branch=all")
    assert page.status_code == 200
    text = page.content.decode()
    assert "HO-000001 Member HO-000001" in text
    assert "Savings account HO-000001-VOL-1 · Voluntary savings" in text
    assert "BDT10,499.75" in text and "BDT12,299.75" in text
    download = admin.get(f"/reports/member-statement/csv/?member=HO-000001&{MARCH}&branch=all")
    assert download["Content-Disposition"] == (
        'attachment; filename="member-statement-HO-000001-2026-03-01_2026-03-31.csv"'
    )


def test_a_page_shows_why_it_cannot_report(admin: Client) -> None:
    backwards = admin.get("/reports/cash-book/?start=2026-04-01&end=2026-03-31&branch=all")
    assert backwards.status_code == 400
    assert 'data-code="report_period_invalid"' in backwards.content.decode()
    malformed = admin.get("/reports/cash-book/?start=someday&end=2026-03-31&branch=all")
    assert malformed.status_code == 400
    assert "Enter a valid date." in malformed.content.decode()
    unknown = admin.get(f"/reports/member-statement/?member=NOBODY-1&{MARCH}&branch=all")
    assert unknown.status_code == 400
    assert 'data-code="report_member_unknown"' in unknown.content.decode()
    export = admin.get("/reports/cash-book/pdf/?start=someday&end=2026-03-31&branch=all")
    assert export.status_code == 400
    assert not export.content.startswith(b"%PDF")
