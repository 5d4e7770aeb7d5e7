"""Provisioning through the real command in its own process: real commits, not test savepoints."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django_tenants.utils import schema_exists, tenant_context

from control_plane.identity.models import User
from tenants.models import Cooperative, Domain
from tests.conftest import subprocess_environment
from tests.processes import ROOT

pytestmark = pytest.mark.django_db


def _create_cooperative(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "create_cooperative", *arguments],
        cwd=ROOT,
        env=subprocess_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_failure_after_the_clone_leaves_nothing_committed() -> None:
    # The password is refused while seeding the workspace, after its schema was cloned.
    result = _create_cooperative(
        "--name", "Omega", "--slug", "omega", "--country", "BD",
        "--admin-username", "boss", "--admin-password", "123",
    )  # fmt: skip
    assert result.returncode != 0
    assert "[validation_error]" in result.stderr and "password" in result.stderr
    assert not Cooperative.objects.filter(slug="omega").exists()
    assert not Domain.objects.filter(domain="omega.localhost").exists()
    assert not schema_exists("coop_omega")


def test_the_command_provisions_a_workspace_for_real() -> None:
    result = _create_cooperative(
        "--name", "Sigma Savings", "--slug", "sigma", "--country", "TH", "--admin-username", "boss",
        "--admin-password", "long-enough-password-1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "http://sigma.localhost:8000/" in result.stdout
    cooperative = Cooperative.objects.get(slug="sigma")
    assert Domain.objects.filter(tenant=cooperative, domain="sigma.localhost").exists()
    with tenant_context(cooperative):
        assert User.objects.get().username == "boss"
