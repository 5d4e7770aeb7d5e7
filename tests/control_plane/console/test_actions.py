"""Console actions: suspend, make read-only and reactivate (the workspace follows), export (this
tenant's rows only), provision; each a POST with CSRF and a reason, each on the audit trail with
the operator."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_exists, tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.console import services
from control_plane.errors import BusinessRuleViolation, ErrorCode
from core_banking.members.models import Member, MemberType
from core_banking.organisation.models import Branch
from tenants.models import Cooperative, Lifecycle
from tests.conftest import PASSWORD, Workspace, workspace_client
from tests.control_plane.console.conftest import CONSOLE_HOST, Operator

pytestmark = pytest.mark.django_db


def _state(slug: str) -> str:
    connection.set_schema_to_public()
    return str(Cooperative.objects.get(slug=slug).lifecycle)


def _read_only_events(workspace: Workspace) -> list[AuditEvent]:
    connection.set_schema_to_public()
    return list(
        AuditEvent.objects.filter(action="console.read_only", object_id=str(workspace.cooperative().pk))
    )


def _last_event(action: str) -> AuditEvent:
    connection.set_schema_to_public()
    return AuditEvent.objects.filter(action=action).latest("id")


def test_suspend_asks_for_confirmation_then_the_workspace_shows_suspended_until_reactivated(
    console: Client, operator: Operator, alpha: Workspace
) -> None:
    staff = workspace_client(alpha, username=alpha.admin)
    assert staff.get("/").status_code == 200

    # The confirmation step: a page, then a POST that must name the subdomain and give a reason.
    page = console.get("/console/tenants/alpha/suspend/")
    assert page.status_code == 200 and b'name="confirm_slug"' in page.content
    refused = console.post(
        "/console/tenants/alpha/suspend/", {"reason": "INC-7 unpaid", "confirm_slug": "beta"}
    )
    assert refused.status_code == 200 and b"not the cooperative&#x27;s subdomain" in refused.content
    no_reason = console.post("/console/tenants/alpha/suspend/", {"reason": " ", "confirm_slug": "alpha"})
    assert no_reason.status_code == 200
    assert _state("alpha") == Lifecycle.ACTIVE

    done = console.post(
        "/console/tenants/alpha/suspend/", {"reason": "INC-7 unpaid", "confirm_slug": "alpha"}
    )
    assert (done.status_code, done["Location"]) == (302, "/console/tenants/alpha/")
    assert _state("alpha") == Lifecycle.SUSPENDED
    event = _last_event("cooperative.lifecycle")
    assert (event.actor_label, event.object_id) == (operator.username, str(alpha.cooperative().pk))
    assert event.changes == {"lifecycle": ["active", "suspended"], "reason": "INC-7 unpaid"}

    # The workspace, for its signed-in staff and for anybody else: the suspended page, no log-in.
    suspended = staff.get("/")
    assert suspended.status_code == 403 and 'data-state="suspended"' in suspended.content.decode()
    fresh = Client(HTTP_HOST=alpha.host)
    assert fresh.post("/accounts/login/", {"username": alpha.admin, "password": PASSWORD}).status_code == 403

    detail = console.get("/console/tenants/alpha/").content.decode()
    assert "/console/tenants/alpha/reactivate/" in detail and "/console/tenants/alpha/suspend/" not in detail
    assert "INC-7 unpaid" in detail  # the reason, in the history

    back = console.post("/console/tenants/alpha/reactivate/", {"reason": "INC-7 paid"})
    assert (back.status_code, back["Location"]) == (302, "/console/tenants/alpha/")
    assert _state("alpha") == Lifecycle.ACTIVE
    assert _last_event("cooperative.lifecycle").changes == {
        "lifecycle": ["suspended", "active"],
        "reason": "INC-7 paid",
    }
    assert staff.get("/").status_code == 200
    assert workspace_client(alpha, username=alpha.only_here).get("/").status_code == 200


def test_reactivate_refuses_a_workspace_that_is_not_suspended(console: Client, beta: Workspace) -> None:
    response = console.post("/console/tenants/beta/reactivate/", {"reason": "why not"})
    assert response.status_code == 200 and b"Only a suspended or read-only cooperative" in response.content
    assert _state("beta") == Lifecycle.ACTIVE


def test_make_read_only_needs_a_reason_then_the_workspace_reads_but_posts_nothing_until_reactivated(
    console: Client, operator: Operator, alpha: Workspace
) -> None:
    staff = workspace_client(alpha, username=alpha.admin)
    detail = console.get("/console/tenants/alpha/").content.decode()
    assert (
        "/console/tenants/alpha/read-only/" in detail and "/console/tenants/alpha/reactivate/" not in detail
    )

    page = console.get("/console/tenants/alpha/read-only/")
    assert page.status_code == 200 and b'name="reason"' in page.content
    no_reason = console.post("/console/tenants/alpha/read-only/", {"reason": "  "})
    assert no_reason.status_code == 200 and b"This field is required." in no_reason.content
    assert _state("alpha") == Lifecycle.ACTIVE
    assert not _read_only_events(alpha)

    done = console.post("/console/tenants/alpha/read-only/", {"reason": "INC-8 disputed ownership"})
    assert (done.status_code, done["Location"]) == (302, "/console/tenants/alpha/")
    assert _state("alpha") == Lifecycle.READ_ONLY
    change = _last_event("cooperative.lifecycle")
    assert (change.actor_label, change.object_id) == (operator.username, str(alpha.cooperative().pk))
    assert change.changes == {"lifecycle": ["active", "read_only"], "reason": "INC-8 disputed ownership"}
    console_event = _last_event("console.read_only")
    assert (console_event.actor_label, console_event.object_id) == (
        operator.username,
        str(alpha.cooperative().pk),
    )
    assert console_event.changes == {
        "reason": "INC-8 disputed ownership",
        "lifecycle": ["active", "read_only"],
    }

    # The workspace: readable, with the banner; a change is refused with the read-only page.
    home = staff.get("/")
    assert home.status_code == 200 and 'data-state="read_only"' in home.content.decode()
    assert staff.get("/members/").status_code == 200
    refused = staff.post("/members/new/", {"full_name": "Not Posted"})
    assert refused.status_code == 403 and '<article data-state="read_only">' in refused.content.decode()
    api = staff.post("/api/v1/members/", {"full_name": "Not Posted"}, content_type="application/json")
    assert (api.status_code, api.json()["error"]["code"]) == (403, "workspace_read_only")

    detail = console.get("/console/tenants/alpha/").content.decode()
    assert "/console/tenants/alpha/read-only/" not in detail
    assert "/console/tenants/alpha/reactivate/" in detail and "/console/tenants/alpha/suspend/" in detail
    assert "INC-8 disputed ownership" in detail  # the reason, in the history
    again = console.post("/console/tenants/alpha/read-only/", {"reason": "INC-8 again"})
    assert again.status_code == 200 and b'data-error-code="lifecycle_transition_invalid"' in again.content

    back = console.post("/console/tenants/alpha/reactivate/", {"reason": "INC-8 settled"})
    assert (back.status_code, back["Location"]) == (302, "/console/tenants/alpha/")
    assert _state("alpha") == Lifecycle.ACTIVE
    assert _last_event("cooperative.lifecycle").changes == {
        "lifecycle": ["read_only", "active"],
        "reason": "INC-8 settled",
    }
    home = staff.get("/")
    assert home.status_code == 200 and 'data-state="read_only"' not in home.content.decode()


@pytest.mark.parametrize("start", [Lifecycle.TRIAL, Lifecycle.PAST_DUE])
def test_trial_and_past_due_can_be_made_read_only_too(
    operator: Operator, alpha: Workspace, start: str
) -> None:
    cooperative = alpha.cooperative()
    Cooperative.objects.filter(pk=cooperative.pk).update(lifecycle=start)
    cooperative.refresh_from_db()
    change = services.cooperative_read_only_make(
        cooperative=cooperative, reason="INC-10", actor=operator.profile.user
    )
    assert (change.before, change.after) == (start, Lifecycle.READ_ONLY)
    assert _state("alpha") == Lifecycle.READ_ONLY


def test_a_get_changes_nothing_and_a_post_needs_the_csrf_token(operator: Operator, alpha: Workspace) -> None:
    from tests.control_plane.console.conftest import totp_code

    client = Client(HTTP_HOST=CONSOLE_HOST, enforce_csrf_checks=True)
    login = client.get("/console/login/")
    token = login.cookies["csrftoken"].value
    client.post(
        "/console/login/", {"username": operator.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    client.post("/console/login/verify/", {"token": totp_code(operator.device), "csrfmiddlewaretoken": token})
    assert client.get("/console/").status_code == 200
    assert client.get("/console/tenants/alpha/suspend/").status_code == 200
    assert _state("alpha") == Lifecycle.ACTIVE
    forged = client.post("/console/tenants/alpha/suspend/", {"reason": "x", "confirm_slug": "alpha"})
    assert forged.status_code == 403
    assert _state("alpha") == Lifecycle.ACTIVE


def _member(workspace: Workspace, name: str) -> None:
    with tenant_context(workspace.cooperative()):
        member_type, _created = MemberType.objects.get_or_create(code="ORD", defaults={"name": "Ordinary"})
        Member.objects.create(
            number=f"HO-{abs(hash(name)) % 900000 + 100000}",
            branch=Branch.objects.get(is_head_office=True),
            member_type=member_type,
            full_name=name,
            phone="+8801711000001",
            message_language="bn",
            join_date="2026-01-05",
        )
    connection.set_schema_to_public()


def _export(console: Client, slug: str, reason: str = "TICKET-12 data request") -> zipfile.ZipFile:
    response = console.post(f"/console/tenants/{slug}/export/", {"reason": reason})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{slug}-export-')
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]


def test_export_holds_one_csv_per_table_of_this_tenant_only(
    console: Client, operator: Operator, alpha: Workspace, beta: Workspace
) -> None:
    _member(alpha, "Rahima Alpha-Member")
    _member(beta, "Nguyen Beta-Member")
    archive = _export(console, "alpha")
    names = set(archive.namelist())
    assert {"members_member.csv", "identity_user.csv", "ledger_account.csv", "manifest.json"} <= names
    assert "django_session.csv" not in names and "authtoken_token.csv" not in names
    everything = b"".join(archive.read(name) for name in names).decode()
    assert "Rahima Alpha-Member" in everything and alpha.only_here in everything
    assert "Nguyen Beta-Member" not in everything and beta.only_here not in everything
    assert beta.admin not in everything and "beta.localhost" not in everything

    users = list(csv.DictReader(io.StringIO(archive.read("identity_user.csv").decode())))
    assert {row["username"] for row in users} >= {alpha.admin, alpha.only_here, "auditor"}
    assert all(row["password"] == "" for row in users)  # hashes are never exported
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["cooperative"] == "alpha" and manifest["schema"] == alpha.schema_name
    assert manifest["tables"]["identity_user"] == len(users)
    assert manifest["tables"]["members_member"] == 1

    event = _last_event("console.export")
    assert (event.actor_label, event.object_id) == (operator.username, str(alpha.cooperative().pk))
    assert event.changes["reason"] == "TICKET-12 data request"


def test_export_needs_a_reason(console: Client, alpha: Workspace) -> None:
    before = AuditEvent.objects.filter(action="console.export").count()
    response = console.post("/console/tenants/alpha/export/", {"reason": ""})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert AuditEvent.objects.filter(action="console.export").count() == before


def test_provision_creates_the_workspace_and_records_who_and_why(
    console: Client, operator: Operator, db: None
) -> None:
    response = console.post(
        "/console/provision/",
        {
            "name": "Gamma Samity",
            "slug": "gamma",
            "country": "bd",
            "lifecycle": "trial",
            "admin_username": "gamma-admin",
            "admin_email": "admin@gamma.test",
            "reason": "SALES-3 signed contract",
        },
        HTTP_HX_REQUEST="true",
    )
    assert (response.status_code, response["HX-Redirect"]) == (204, "/console/tenants/gamma/")
    connection.set_schema_to_public()
    gamma = Cooperative.objects.get(slug="gamma")
    assert (gamma.currency, gamma.lifecycle) == ("BDT", Lifecycle.TRIAL)
    assert schema_exists("coop_gamma")
    provision = _last_event("cooperative.provision")
    assert (provision.actor_label, provision.object_id) == (operator.username, str(gamma.pk))
    assert _last_event("console.provision").changes["reason"] == "SALES-3 signed contract"
    assert b"Gamma Samity" in console.get("/console/tenants/gamma/").content


def test_provision_shows_the_problems_in_the_form(console: Client, alpha: Workspace) -> None:
    response = console.post(
        "/console/provision/",
        {
            "name": "Clash",
            "slug": "alpha",
            "country": "XX",
            "lifecycle": "trial",
            "admin_username": "clash-admin",
            "admin_email": "admin@clash.test",
            "reason": "test",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "This subdomain is taken." in body and "ISO 3166" in body
    assert not Cooperative.objects.filter(name="Clash").exists()


def test_a_transition_from_the_wrong_state_is_refused_with_its_own_code(
    operator: Operator, alpha: Workspace
) -> None:
    cooperative = alpha.cooperative()
    actor = operator.profile.user
    with pytest.raises(BusinessRuleViolation) as not_suspended:
        services.cooperative_reactivate(cooperative=cooperative, reason="INC-9", actor=actor)
    assert (
        not_suspended.value.code == ErrorCode.LIFECYCLE_TRANSITION_INVALID == "lifecycle_transition_invalid"
    )
    assert not_suspended.value.http_status == 409

    Cooperative.objects.filter(pk=cooperative.pk).update(lifecycle=Lifecycle.CLOSED)
    cooperative.refresh_from_db()
    with pytest.raises(BusinessRuleViolation) as closed:
        services.cooperative_suspend(cooperative=cooperative, reason="INC-9", actor=actor)
    assert closed.value.code == ErrorCode.LIFECYCLE_TRANSITION_INVALID
    assert _state("alpha") == Lifecycle.CLOSED

    with pytest.raises(BusinessRuleViolation) as closed_read_only:
        services.cooperative_read_only_make(cooperative=cooperative, reason="INC-9", actor=actor)
    assert closed_read_only.value.code == ErrorCode.LIFECYCLE_TRANSITION_INVALID
    assert _state("alpha") == Lifecycle.CLOSED


@pytest.mark.parametrize("start", [Lifecycle.READ_ONLY, Lifecycle.SUSPENDED, Lifecycle.CLOSED])
def test_make_read_only_refuses_a_cooperative_that_is_not_trial_active_or_past_due(
    console: Client, operator: Operator, alpha: Workspace, start: str
) -> None:
    cooperative = alpha.cooperative()
    Cooperative.objects.filter(pk=cooperative.pk).update(lifecycle=start)
    cooperative.refresh_from_db()
    with pytest.raises(BusinessRuleViolation) as refused:
        services.cooperative_read_only_make(
            cooperative=cooperative, reason="INC-11", actor=operator.profile.user
        )
    assert refused.value.code == ErrorCode.LIFECYCLE_TRANSITION_INVALID and refused.value.http_status == 409
    page = console.get("/console/tenants/alpha/read-only/")
    assert page.status_code == 200 and b'name="reason"' not in page.content
    assert _state("alpha") == start
    assert not _read_only_events(alpha)
