"""Roles: read-only auditors, capability-gated pages; the audit trail is append-only in PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django_tenants.utils import tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.audit.services import audit_record
from tests.conftest import Workspace, workspace_client

pytestmark = pytest.mark.django_db


def test_auditor_reads_the_audit_trail(alpha: Workspace) -> None:
    page = workspace_client(alpha, username="auditor").get("/audit/").content.decode()
    assert "staff.create" in page and "branch.create" in page


def test_field_officer_may_not_read_the_audit_trail_or_staff(alpha: Workspace) -> None:
    client = workspace_client(alpha, username=alpha.only_here)
    assert client.get("/audit/").status_code == 403
    assert client.get("/staff/").status_code == 403


def test_navigation_follows_the_role(alpha: Workspace) -> None:
    admin_page = workspace_client(alpha, username=alpha.admin).get("/").content.decode()
    officer_page = workspace_client(alpha, username=alpha.only_here).get("/").content.decode()
    assert 'href="/audit/"' in admin_page and 'href="/staff/"' in admin_page
    assert 'href="/audit/"' not in officer_page and 'href="/staff/"' not in officer_page


def test_auditor_cannot_change_anything(alpha: Workspace) -> None:
    client = workspace_client(alpha, username="auditor")
    response = client.post("/staff/", {"anything": "1"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "read_only_role"
    # Switching language and logging out are not changes to the cooperative's data.
    assert client.post("/language/", {"language": "en"}).status_code == 302
    assert client.post("/accounts/logout/").status_code == 302


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"]
)
def test_the_audit_trail_refuses_update_and_delete(in_alpha: Workspace, statement: str) -> None:
    audit_record(actor=None, action="test.event")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.filter(action="test.event").exists()


def test_the_audit_trail_refuses_truncate(in_alpha: Workspace) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditevent")


def test_a_workspace_audit_trail_holds_only_its_own_events(alpha: Workspace, beta: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        audit_record(actor=None, action="alpha.secret")
    with tenant_context(beta.cooperative()):
        assert not AuditEvent.objects.filter(action="alpha.secret").exists()
    page = workspace_client(beta, username="auditor").get("/audit/").content.decode()
    assert "alpha.secret" not in page
