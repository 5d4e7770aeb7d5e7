"""Test harness: a real PostgreSQL test database per xdist worker, provisioned once per session.

Two cooperatives ("alpha", a Bangladeshi samity in BDT, and "beta", a Vietnamese group in VND)
are provisioned through the real clone path before any test runs, and committed, so that a
real Celery worker or web server process can see them. Tests then run inside transactions
that roll back; they must never flush the database (no ``transactional_db``/``live_server``):
flushing would truncate the shared control-plane tables the session relies on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

PASSWORD = "alpha-beta-secret-1"


@dataclass(frozen=True)
class Workspace:
    slug: str
    host: str
    schema_name: str
    admin: str
    only_here: str  # a user name that exists in this workspace and not in the other

    def cooperative(self):  # type: ignore[no-untyped-def]
        from tenants.models import Cooperative

        return Cooperative.objects.get(slug=self.slug)


ALPHA = Workspace("alpha", "alpha.localhost", "coop_alpha", "alpha-admin", "alpha-only")
BETA = Workspace("beta", "beta.localhost", "coop_beta", "beta-admin", "beta-only")


def _provision_test_workspaces() -> None:
    from core_banking.organisation.models import Branch
    from core_banking.organisation.services import branch_create
    from core_banking.staff.roles import Role
    from core_banking.staff.services import staff_user_create
    from tenants.models import Lifecycle
    from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision, template_ensure

    template_ensure()
    for workspace, country, extra in ((ALPHA, "BD", 3), (BETA, "VN", 1)):
        cooperative = cooperative_provision(
            spec=CooperativeSpec(
                name=f"{workspace.slug.title()} Cooperative", slug=workspace.slug, country=country
            ),
            admin=AdminSpec(username=workspace.admin, password=PASSWORD, email=f"admin@{workspace.host}"),
            lifecycle=Lifecycle.ACTIVE,
        )
        with tenant_context(cooperative):
            head_office = Branch.objects.get(is_head_office=True)
            branch = branch_create(actor=None, code="BR1", name="Branch one")
            staff_user_create(
                actor=None,
                username=workspace.only_here,
                password=PASSWORD,
                roles=[Role.FIELD_OFFICER.value],
                home_branch=branch,
            )
            staff_user_create(
                actor=None,
                username="auditor",
                password=PASSWORD,
                roles=[Role.AUDITOR.value],
                home_branch=head_office,
                all_branches=True,
                email=f"auditor@{workspace.host}",
            )
            # Different user counts, so ids in one schema do not all exist in the other.
            for number in range(extra):
                staff_user_create(
                    actor=None,
                    username=f"clerk{number}",
                    password=PASSWORD,
                    roles=[Role.ACCOUNTANT.value],
                    home_branch=head_office,
                )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    database_name = str(connection.settings_dict["NAME"])
    # pytest-django creates the test database only when a collected test asks for one; never
    # provision into a real database because of a selection that asked for none.
    assert database_name.startswith("test_"), f"refusing to provision test workspaces into {database_name!r}"
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        _provision_test_workspaces()
    yield
    # Server and worker processes have stopped, but PostgreSQL may not have reaped their sessions yet;
    # the test database cannot be dropped while they are there.
    with django_db_blocker.unblock(), connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _public_schema_after_each_test() -> Iterator[None]:
    yield
    connection.set_schema_to_public()


@pytest.fixture
def alpha(db: None) -> Workspace:
    return ALPHA


@pytest.fixture
def beta(db: None) -> Workspace:
    return BETA


def workspace_client(workspace: Workspace, *, username: str | None = None) -> Client:
    """A browser-like client on the workspace's own host, logged in when a user name is given."""
    client = Client(HTTP_HOST=workspace.host)
    if username is not None:
        response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def in_alpha(alpha: Workspace) -> Iterator[Workspace]:
    with tenant_context(alpha.cooperative()):
        yield alpha


@pytest.fixture
def in_beta(beta: Workspace) -> Iterator[Workspace]:
    with tenant_context(beta.cooperative()):
        yield beta


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Hashing is not under test here; a fast hasher keeps hundreds of log-ins cheap.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        # Users that a separate server process must log in carry a hash its settings know.
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    # Provisioning takes the clone path; tests of the spare pool (tests/tenants/test_spares.py) fill it.
    settings.TENANT_SPARE_WORKSPACES = 0


def subprocess_environment() -> dict[str, str]:
    """The environment for a real server or worker process that must use this test database."""
    import os
    from urllib.parse import quote

    from django.conf import settings

    database = connection.settings_dict
    host = quote(str(database.get("HOST") or "127.0.0.1"), safe="")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    password = f":{quote(str(database['PASSWORD']), safe='')}" if database.get("PASSWORD") else ""
    environment = dict(os.environ)
    user = database.get("USER") or "postgres"
    environment.update(
        {
            "DATABASE_URL": f"postgres://{user}{password}@{host}{port}/{database['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "control_plane.settings",
            "PYTHONUNBUFFERED": "1",
            # Every browser test signs up from 127.0.0.1; the limits have their own tests.
            "COOPCORE_SIGNUP_RATE": "",
            "COOPCORE_SIGNUP_SLUG_CHECK_RATE": "",
            # Provisioning in tests takes the clone path unless a test fills the spare pool itself.
            "COOPCORE_SPARE_WORKSPACES": "0",
            # A worker that meets a queued SMS sends it nowhere (refused at once, retried later),
            # unless the test points it at its fake Twilio.
            "TWILIO_API_BASE": environment.get("TWILIO_API_BASE") or "http://127.0.0.1:9",
        }
    )
    return environment


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Said in the main process, so it shows under xdist too: a run without a browser is not silent."""
    from tests.e2e.conftest import NO_CHROMIUM, chromium_path

    if chromium_path() is None:
        terminalreporter.write_sep("!", NO_CHROMIUM, red=True, bold=True)
