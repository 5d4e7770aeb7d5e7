"""The calendar API: holidays, weekly off-days and the working-day calendar; stable error codes,
roles, branch walls and workspace walls."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from control_plane.identity.models import User
from core_banking.organisation.models import Branch, Holiday
from core_banking.organisation.services import holiday_create
from tests.conftest import ALPHA, BETA, Workspace, workspace_client

D = dt.date
HOLIDAYS = "/api/v1/organisation/calendar/holidays/"
OFF_DAYS = "/api/v1/organisation/calendar/weekly-off-days/"
WORKING_DAYS = "/api/v1/organisation/calendar/working-days/"


def _admin() -> Client:
    """Alpha's admin, reading answers in English (alpha's own language is Bangla)."""
    client = workspace_client(ALPHA, username=ALPHA.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def _put(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.put(url, body, content_type="application/json")


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_an_admin_adds_lists_and_removes_holidays(head_office: Branch, br1: Branch) -> None:
    client = _admin()
    created = _post(client, HOLIDAYS, {"day": "2026-03-26", "name": "Independence Day", "every_year": True})
    assert created.status_code == 201, created.content
    body = created.json()
    shown = ("on", "day", "name", "branch", "branch_code", "every_year", "created_by")
    assert {key: body[key] for key in shown} == {
        "on": "2026-03-26", "day": "2026-03-26", "name": "Independence Day", "branch": None,
        "branch_code": None, "every_year": True, "created_by": ALPHA.admin,
    }  # fmt: skip
    local = _post(client, HOLIDAYS, {"day": "2027-09-09", "name": "Branch day", "branch": br1.pk})
    assert local.json()["branch_code"] == "BR1"

    listed = client.get(HOLIDAYS, {"year": 2027}).json()
    assert [(row["on"], row["day"], row["name"]) for row in listed] == [
        ("2027-03-26", "2026-03-26", "Independence Day"),
        ("2027-09-09", "2027-09-09", "Branch day"),
    ]
    only_head_office = client.get(HOLIDAYS, {"year": 2027, "branch": head_office.pk}).json()
    assert [row["name"] for row in only_head_office] == ["Independence Day"]
    assert client.get(HOLIDAYS, {"year": 2025}).json() == []

    assert client.get(f"{HOLIDAYS}{body['id']}/").json()["name"] == "Independence Day"
    removed = client.delete(f"{HOLIDAYS}{body['id']}/")
    assert removed.status_code == 204
    assert _error(client.delete(f"{HOLIDAYS}{body['id']}/")) == (404, "not_found")
    assert [row["name"] for row in client.get(HOLIDAYS, {"year": 2027}).json()] == ["Branch day"]


def test_refusals_carry_stable_codes(head_office: Branch) -> None:
    client = _admin()
    assert _post(client, HOLIDAYS, {"day": "2026-12-16", "name": "Victory Day"}).status_code == 201
    again = _post(client, HOLIDAYS, {"day": "2026-12-16", "name": "Victory Day"})
    assert _error(again) == (409, "holiday_exists")
    assert again.json()["error"]["fields"] == {"day": ["2026-12-16 is already a holiday: Victory Day."]}
    missing = _post(client, HOLIDAYS, {"day": "16/12/2026", "name": ""})
    assert _error(missing) == (400, "validation_error")
    assert set(missing.json()["error"]["fields"]) == {"day", "name"}
    unknown_branch = _post(client, HOLIDAYS, {"day": "2026-12-17", "name": "X", "branch": 999999})
    assert _error(unknown_branch) == (400, "validation_error")
    assert list(unknown_branch.json()["error"]["fields"]) == ["branch"]
    assert _error(_put(client, OFF_DAYS, {"weekdays": [0, 1, 2, 3, 4, 5, 6]})) == (400, "weekdays_invalid")
    assert _error(_put(client, OFF_DAYS, {"weekdays": [7]})) == (400, "weekdays_invalid")
    backwards = client.get(WORKING_DAYS, {"start": "2026-12-31", "end": "2026-01-01"})
    assert _error(backwards) == (400, "calendar_range_invalid")
    assert _error(client.get(WORKING_DAYS, {"start": "2026-01-01"})) == (400, "validation_error")


def test_weekly_off_days_for_the_cooperative_and_a_branch(head_office: Branch, br1: Branch) -> None:
    client = _admin()
    shown = client.get(OFF_DAYS).json()
    assert shown["cooperative"] == [4]
    assert {row["branch_code"]: (row["own"], row["applied"]) for row in shown["branches"]} == {
        "HO": ([], [4]), "BR1": ([], [4]),
    }  # fmt: skip
    changed = _put(client, OFF_DAYS, {"weekdays": [5, 4], "branch": br1.pk})
    assert changed.status_code == 200, changed.content
    assert {row["branch_code"]: row["applied"] for row in changed.json()["branches"]} == {
        "HO": [4],
        "BR1": [4, 5],
    }
    back = _put(client, OFF_DAYS, {"weekdays": [], "branch": br1.pk})
    assert {row["branch_code"]: row["own"] for row in back.json()["branches"]} == {"HO": [], "BR1": []}


def test_the_working_day_calendar_of_a_branch(head_office: Branch, br1: Branch) -> None:
    holiday_create(actor=None, day=D(2020, 3, 26), name="Independence Day", every_year=True)
    holiday_create(actor=None, day=D(2026, 9, 9), name="Branch day", branch=br1)
    client = _admin()
    response = client.get(WORKING_DAYS, {"branch": br1.pk, "start": "2026-06-01", "end": "2027-01-31"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "branch": br1.pk,
        "start": "2026-06-01",
        "end": "2027-01-31",
        "weekly_off_days": [4],
        "holidays": ["2026-03-26", "2026-09-09", "2027-03-26"],
    }
    cooperative = client.get(WORKING_DAYS, {"start": "2026-01-01", "end": "2026-12-31"}).json()
    assert (cooperative["branch"], cooperative["holidays"]) == (None, ["2026-03-26"])


def test_staff_read_only_what_their_branches_keep_and_change_nothing(
    head_office: Branch, br1: Branch
) -> None:
    holiday_create(actor=None, day=D(2026, 12, 16), name="Victory Day")
    head_office_day = holiday_create(
        actor=None, day=D(2026, 8, 1), name="Head office day", branch=head_office
    )
    holiday_create(actor=None, day=D(2026, 9, 9), name="Branch day", branch=br1)
    officer = workspace_client(ALPHA, username=ALPHA.only_here)  # a field officer of BR1 only
    assert [row["name"] for row in officer.get(HOLIDAYS, {"year": 2026}).json()] == [
        "Branch day",
        "Victory Day",
    ]
    assert officer.get(f"{HOLIDAYS}{head_office_day.pk}/").status_code == 404
    assert [row["branch_code"] for row in officer.get(OFF_DAYS).json()["branches"]] == ["BR1"]
    assert (
        officer.get(WORKING_DAYS, {"branch": br1.pk, "start": "2026-01-01", "end": "2026-12-31"}).status_code
        == 200
    )
    outside = officer.get(
        WORKING_DAYS, {"branch": head_office.pk, "start": "2026-01-01", "end": "2026-12-31"}
    )
    assert _error(outside) == (404, "not_found")
    assert _error(_post(officer, HOLIDAYS, {"day": "2026-12-17", "name": "X", "branch": br1.pk})) == (
        403, "permission_denied",
    )  # fmt: skip
    assert _error(officer.delete(f"{HOLIDAYS}{head_office_day.pk}/")) == (403, "permission_denied")
    assert _error(_put(officer, OFF_DAYS, {"weekdays": [5]})) == (403, "permission_denied")
    auditor = workspace_client(ALPHA, username="auditor")
    assert len(auditor.get(HOLIDAYS, {"year": 2026}).json()) == 3
    assert _error(_post(auditor, HOLIDAYS, {"day": "2026-12-17", "name": "X"})) == (403, "read_only_role")
    assert Holiday.objects.count() == 3


def test_without_credentials_nothing_is_read(head_office: Branch) -> None:
    anonymous = Client(HTTP_HOST=ALPHA.host)
    assert _error(anonymous.get(HOLIDAYS)) == (401, "not_authenticated")
    assert _error(_post(anonymous, HOLIDAYS, {"day": "2026-12-16", "name": "X"})) == (
        401,
        "not_authenticated",
    )


def test_another_workspace_can_neither_read_nor_write_alphas_calendar(
    in_alpha: Workspace, beta: Workspace
) -> None:
    alphas = holiday_create(actor=None, day=D(2026, 12, 16), name="Alpha's Victory Day")
    with tenant_context(BETA.cooperative()):
        token = Token.objects.create(user=User.objects.get(username=BETA.admin))
    # Beta's admin, signed in at beta, on beta's own host: alpha's holiday does not exist there.
    beta_admin = workspace_client(BETA, username=BETA.admin)
    assert beta_admin.get(HOLIDAYS, {"year": 2026}).json() == []
    assert _error(beta_admin.get(f"{HOLIDAYS}{alphas.pk}/")) == (404, "not_found")
    assert _error(beta_admin.delete(f"{HOLIDAYS}{alphas.pk}/")) == (404, "not_found")
    assert beta_admin.get(OFF_DAYS).json()["cooperative"] == [5, 6]
    # Beta's session and beta's token sent to alpha's host are strangers there.
    assert _error(beta_admin.get(HOLIDAYS, HTTP_HOST=ALPHA.host)) == (401, "not_authenticated")
    assert _error(beta_admin.delete(f"{HOLIDAYS}{alphas.pk}/", HTTP_HOST=ALPHA.host)) == (
        401,
        "not_authenticated",
    )
    with_token = Client(HTTP_HOST=ALPHA.host, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert _error(with_token.get(HOLIDAYS)) == (401, "not_authenticated")
    assert _error(_put(with_token, OFF_DAYS, {"weekdays": [0]})) == (401, "not_authenticated")
    assert _error(_post(with_token, HOLIDAYS, {"day": "2026-12-17", "name": "Beta was here"})) == (
        401, "not_authenticated",
    )  # fmt: skip
    with tenant_context(ALPHA.cooperative()):
        assert [holiday.name for holiday in Holiday.objects.all()] == ["Alpha's Victory Day"]
        assert Holiday.objects.filter(pk=alphas.pk).exists()
