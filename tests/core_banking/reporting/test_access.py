"""Branch walls and workspace walls, tried from the attacker's side: staff limited to a branch who ask
for another branch's ids, for everything at once, or for another branch's member, and a user of one
workspace trying to read another's books."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from control_plane.identity.models import User
from core_banking.members.models import Member
from tests.conftest import ALPHA, BETA, Workspace, workspace_client
from tests.core_banking.reporting.conftest import Books

MARCH = "start=2026-03-01&end=2026-03-31"


@pytest.fixture
def limited(books: Books, br1_manager: str) -> Client:
    """The BR1 branch manager, signed in: sees reports of BR1 only."""
    return workspace_client(ALPHA, username=br1_manager)


def _error(response: object) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]  # type: ignore[attr-defined]


def test_a_branch_limited_user_gets_their_own_branch_only(books: Books, limited: Client) -> None:
    response = limited.get(f"/api/v1/reports/trial-balance/?end=2026-03-31&branch={books.br1.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["consolidated"], body["branch_ids"]) == (False, [books.br1.pk])
    assert [row["account"]["code"] for row in body["data"]["rows"]] == [
        "1100-BR1",
        "2100-VOL",
        "3100",
        "4300",
    ]
    assert body["data"]["closing_debit_minor"] == 3_150_50


def test_asking_for_another_branch_or_for_all_is_refused(books: Books, limited: Client) -> None:
    ho, br1 = books.ho.pk, books.br1.pk
    attempts = {
        f"/api/v1/reports/trial-balance/?end=2026-03-31&branch={ho}": (403, "report_branch_forbidden"),
        f"/api/v1/reports/cash-book/?{MARCH}&branch={br1}&branch={ho}": (403, "report_branch_forbidden"),
        # An id that exists nowhere gets the same answer as another branch's: nothing is learnt.
        "/api/v1/reports/day-journal/?day=2026-03-10&branch=987654": (403, "report_branch_forbidden"),
        "/api/v1/reports/balance-sheet/?as_of=2026-03-31": (403, "report_consolidated_forbidden"),
        f"/api/v1/reports/savings-balances/?as_of=2026-03-31&branch={ho}": (403, "report_branch_forbidden"),
        f"/api/v1/reports/general-ledger/?account=1100-HO&{MARCH}&branch={ho}": (
            403,
            "report_branch_forbidden",
        ),
    }
    for url, refusal in attempts.items():
        response = limited.get(url)
        assert _error(response) == refusal, url
        assert "1322475" not in response.content.decode()  # the head office's cash never shows


def test_another_branchs_member_is_as_unknown_as_a_member_who_does_not_exist(
    books: Books, limited: Client
) -> None:
    br1 = books.br1.pk
    outside = limited.get(f"/api/v1/reports/member-statement/?member=HO-000001&{MARCH}&branch={br1}")
    absent = limited.get(f"/api/v1/reports/member-statement/?member=NOBODY-9&{MARCH}&branch={br1}")
    assert _error(outside) == _error(absent) == (400, "report_member_unknown")
    assert outside.json()["error"]["message"] == absent.json()["error"]["message"]
    assert "Member HO-000001" not in outside.content.decode()
    forbidden = limited.get(
        f"/api/v1/reports/member-statement/?member=HO-000001&{MARCH}&branch={books.ho.pk}"
    )
    assert _error(forbidden) == (403, "report_branch_forbidden")
    own = limited.get(f"/api/v1/reports/member-statement/?member=BR1-000001&{MARCH}&branch={br1}")
    assert own.status_code == 200
    assert own.json()["data"]["savings"][0]["closing_minor"] == 2_500_50


def test_the_pages_and_downloads_refuse_too(books: Books, limited: Client) -> None:
    ho = books.ho.pk
    page = limited.get(f"/reports/cash-book/?{MARCH}&branch={ho}")
    assert page.status_code == 403
    assert "১৩,২২৪.৭৫" not in page.content.decode()
    assert limited.get(f"/reports/cash-book/?{MARCH}&branch=all").status_code == 403
    for kind in ("pdf", "xlsx", "csv"):
        download = limited.get(f"/reports/cash-book/{kind}/?{MARCH}&branch={ho}")
        assert download.status_code == 403
        assert download["Content-Type"].startswith("text/html")
    statement = limited.get(f"/reports/member-statement/pdf/?member=HO-000001&{MARCH}&branch={books.br1.pk}")
    assert statement.status_code == 400
    assert not statement.content.startswith(b"%PDF")
    # The form offers the person's own branch only, never "all branches".
    form = limited.get("/reports/cash-book/").content.decode()
    assert f'value="{books.br1.pk}"' in form
    assert f'value="{ho}"' not in form
    assert 'value="all"' not in form


def test_staff_without_report_access_and_strangers_are_refused(books: Books) -> None:
    field_officer = workspace_client(ALPHA, username=ALPHA.only_here)  # a field officer: no reports
    assert _error(field_officer.get("/api/v1/reports/")) == (403, "permission_denied")
    assert field_officer.get("/reports/trial-balance/?end=2026-03-31&branch=all").status_code == 403
    anonymous = Client(HTTP_HOST=ALPHA.host)
    assert _error(anonymous.get("/api/v1/reports/trial-balance/?end=2026-03-31")) == (
        401,
        "not_authenticated",
    )
    assert anonymous.get("/reports/trial-balance/pdf/?end=2026-03-31&branch=all").status_code == 302


def test_a_user_of_beta_cannot_read_alphas_books(books: Books, beta: Workspace) -> None:
    # Beta's admin, signed in at beta, takes the session to alpha's address: not signed in there.
    beta_admin = workspace_client(BETA, username=BETA.admin)
    cookie = beta_admin.cookies
    at_alpha = Client(HTTP_HOST=ALPHA.host)
    at_alpha.cookies = cookie
    assert _error(at_alpha.get("/api/v1/reports/trial-balance/?end=2026-03-31")) == (401, "not_authenticated")
    assert at_alpha.get("/reports/trial-balance/pdf/?end=2026-03-31&branch=all").status_code == 302

    # A beta token is unknown at alpha.
    with tenant_context(BETA.cooperative()):
        token = Token.objects.create(user=User.objects.get(username=BETA.admin))
    with_token = Client(HTTP_HOST=ALPHA.host, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert _error(with_token.get("/api/v1/reports/trial-balance/?end=2026-03-31")) == (
        401,
        "not_authenticated",
    )

    # At beta's own address, alpha's branch ids, accounts and members mean nothing.
    at_beta = workspace_client(BETA, username=BETA.admin)
    books_of_beta = at_beta.get("/api/v1/reports/trial-balance/?end=2026-03-31").json()
    assert books_of_beta["data"]["rows"] == []
    assert _error(at_beta.get(f"/api/v1/reports/general-ledger/?account=2100-VOL&{MARCH}")) == (
        400,
        "account_unknown",
    )
    assert _error(at_beta.get(f"/api/v1/reports/member-statement/?member=HO-000001&{MARCH}")) == (
        400,
        "report_member_unknown",
    )
    with tenant_context(ALPHA.cooperative()):
        assert Member.objects.filter(number="HO-000001").exists()  # alpha's member is there, in alpha
