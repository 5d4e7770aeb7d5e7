"""A console log-in opens no workspace page, and a workspace log-in opens no console page.

Tested from the attacker's side: the session cookie of one host replayed on the other (the test
client sends every cookie it holds to whatever host it asks), and user ids that coincide across
the public and workspace schemas.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from control_plane.console import auth as console_auth
from control_plane.console import views
from control_plane.console.models import ConsoleOperator
from control_plane.identity.models import User
from tenants.models import Cooperative, Lifecycle
from tests.conftest import PASSWORD, Workspace, workspace_client
from tests.control_plane.console.conftest import CONSOLE_HOST, Operator, console_client

pytestmark = pytest.mark.django_db

WORKSPACE_PAGES = ["/", "/staff/", "/audit/", "/members/", "/api/v1/me/"]


# Every console page and action beyond the log-in, with what an action would be posted.
CONSOLE_ACTIONS: list[tuple[str, dict[str, str]]] = [
    ("/console/tenants/alpha/suspend/", {"reason": "x", "confirm_slug": "alpha"}),
    ("/console/tenants/alpha/read-only/", {"reason": "x"}),
    ("/console/tenants/alpha/reactivate/", {"reason": "x"}),
    ("/console/tenants/alpha/plan/", {"plan": "1", "reason": "x"}),
    ("/console/tenants/alpha/charges/", {"amount": "10", "kind": "other", "description": "x", "reason": "x"}),
    ("/console/tenants/alpha/backup/", {"backup-reason": "x"}),
    ("/console/tenants/alpha/backups/1/restore/", {"reason": "x", "confirm": "alpha"}),
    ("/console/tenants/alpha/old-schemas/coop_alpha_old/drop/", {"reason": "x", "confirm": "coop_alpha_old"}),
    ("/console/fleet/", {"reason": "x"}),
]
CONSOLE_PAGES = [
    "/console/",
    "/console/login/",
    "/console/tenants/alpha/",
    "/console/provision/",
    "/console/tenants/alpha/backups/",
    "/console/fleet/1/",
    "/console/fleet/1/progress/",
    *[path for path, _data in CONSOLE_ACTIONS],
]


def test_the_console_is_not_routed_on_a_workspace_host(alpha: Workspace) -> None:
    client = workspace_client(alpha, username=alpha.admin)
    for path in CONSOLE_PAGES:
        assert client.get(path).status_code == 404, path
    for path, data in CONSOLE_ACTIONS:
        assert client.post(path, data).status_code == 404, path


def test_a_workspace_log_in_reaches_no_console_action(alpha: Workspace) -> None:
    """The browser logged in to alpha, asking the bare domain: every page and action sends it to log in."""
    from billing.models import BillingAccount, OneTimeCharge
    from control_plane.backups.models import Backup, Restore
    from tenants.models import FleetMigrationRun

    # Other tests on this database may have committed runs, backups or restores: count them first.
    runs_before = FleetMigrationRun.objects.count()
    backups_before = Backup.objects.filter(cooperative__slug="alpha").count()
    restores_before = Restore.objects.filter(cooperative__slug="alpha").count()
    accounts_before = BillingAccount.objects.filter(cooperative__slug="alpha").count()
    charges_before = OneTimeCharge.objects.filter(account__cooperative__slug="alpha").count()
    client = workspace_client(alpha, username=alpha.admin)
    client.defaults["HTTP_HOST"] = CONSOLE_HOST
    for path in CONSOLE_PAGES[2:]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/"), path
    for path, data in CONSOLE_ACTIONS:
        response = client.post(path, data)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/"), path
    connection.set_schema_to_public()
    assert BillingAccount.objects.filter(cooperative__slug="alpha").count() == accounts_before
    assert OneTimeCharge.objects.filter(account__cooperative__slug="alpha").count() == charges_before
    assert Backup.objects.filter(cooperative__slug="alpha").count() == backups_before
    assert Restore.objects.filter(cooperative__slug="alpha").count() == restores_before
    assert FleetMigrationRun.objects.count() == runs_before
    assert Cooperative.objects.get(slug="alpha").lifecycle == Lifecycle.ACTIVE


def test_console_actions_refuse_a_post_without_the_csrf_token(operator: Operator, alpha: Workspace) -> None:
    from control_plane.backups.models import Backup
    from tenants.models import FleetMigrationRun

    runs_before = FleetMigrationRun.objects.count()
    # Other tests on this database may have committed a backup of alpha: count, do not expect none.
    backups_before = Backup.objects.filter(cooperative__slug="alpha").count()
    client = Client(HTTP_HOST=CONSOLE_HOST, enforce_csrf_checks=True)
    client.cookies = console_client(operator).cookies  # logged in, but posting without the token
    assert client.get("/console/tenants/alpha/").status_code == 200
    for path, data in CONSOLE_ACTIONS:
        assert client.post(path, data).status_code == 403, path
    connection.set_schema_to_public()
    assert Backup.objects.filter(cooperative__slug="alpha").count() == backups_before
    assert FleetMigrationRun.objects.count() == runs_before


def test_a_workspace_session_cookie_replayed_on_the_console_is_nobody(alpha: Workspace) -> None:
    client = workspace_client(alpha, username=alpha.admin)
    stolen = client.cookies["sessionid"].value
    with tenant_context(alpha.cooperative()):
        alpha_admin_id = User.objects.get(username=alpha.admin).pk
    # Make the coincidence as bad as it can be: a console operator (with a device) whose public
    # user id is the workspace admin's id. The session still does not exist in the public schema.
    connection.set_schema_to_public()
    if not User.objects.filter(pk=alpha_admin_id).exists():
        twin = User.objects.create_user(id=alpha_admin_id, username="ops-twin", password=PASSWORD)
        ConsoleOperator.objects.create(user=twin)
        TOTPDevice.objects.create(user=twin, name="console", confirmed=True)
    assert (
        ConsoleOperator.objects.filter(user_id=alpha_admin_id).exists()
        or User.objects.filter(pk=alpha_admin_id).exists()
    )
    attacker = Client(HTTP_HOST=CONSOLE_HOST)
    attacker.cookies["sessionid"] = stolen
    for path in ["/console/", "/console/tenants/alpha/", "/console/provision/"]:
        response = attacker.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/"), path
    # The same browser (cookie jar) that is logged in to alpha, asking the bare domain.
    client.defaults["HTTP_HOST"] = CONSOLE_HOST
    assert client.get("/console/").status_code == 302
    response = client.post("/console/tenants/alpha/suspend/", {"reason": "x", "confirm_slug": "alpha"})
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    assert alpha.cooperative().lifecycle == "active"


def test_workspace_credentials_do_not_log_in_to_the_console(alpha: Workspace) -> None:
    client = Client(HTTP_HOST=CONSOLE_HOST)
    for username in [alpha.admin, alpha.only_here, "auditor"]:
        response = client.post("/console/login/", {"username": username, "password": PASSWORD})
        assert response.status_code == 200 and b"did not match" in response.content


@pytest.mark.parametrize("path", WORKSPACE_PAGES)
def test_a_console_session_opens_no_workspace_page(operator: Operator, alpha: Workspace, path: str) -> None:
    client = console_client(operator)
    assert client.get("/console/").status_code == 200
    # The same cookie jar, now asking the workspace.
    client.defaults["HTTP_HOST"] = alpha.host
    response = client.get(path)
    if path.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_console_session_cookie_replayed_on_a_workspace_is_nobody(
    operator: Operator, beta: Workspace
) -> None:
    stolen = console_client(operator).cookies["sessionid"].value
    attacker = Client(HTTP_HOST=beta.host)
    attacker.cookies["sessionid"] = stolen
    for path in WORKSPACE_PAGES:
        assert attacker.get(path).status_code in {302, 401}, path


def test_console_credentials_do_not_log_in_to_a_workspace(operator: Operator, alpha: Workspace) -> None:
    response = Client(HTTP_HOST=alpha.host).post(
        "/accounts/login/", {"username": operator.username, "password": PASSWORD}
    )
    assert response.status_code == 200  # the form again, with its error


def test_console_checks_refuse_outside_the_public_schema(operator: Operator, alpha: Workspace) -> None:
    """Defence in depth: were a console view ever reached inside a workspace, it would not exist."""
    request = RequestFactory().get("/console/", HTTP_HOST=alpha.host)
    request.user = operator.profile.user
    request.session = {}  # type: ignore[assignment]
    with tenant_context(alpha.cooperative()):
        assert console_auth.operator_for(operator.profile.user) is None
        assert console_auth.verified_operator(request) is None
        with pytest.raises(Exception) as raised:
            views.tenant_list(request)
        assert raised.type.__name__ == "Http404"


def test_workspace_requests_never_read_the_otp_tables(alpha: Workspace) -> None:
    client = Client(HTTP_HOST=alpha.host)
    with CaptureQueriesContext(connection) as queries:
        client.post("/accounts/login/", {"username": alpha.admin, "password": PASSWORD})
        client.get("/")
        client.get("/staff/")
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert "otp_" not in statements
    assert "console_consoleoperator" not in statements
