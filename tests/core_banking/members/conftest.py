"""Fixtures of the members tests: a second branch, staff limited to one branch, files in a temp folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core_banking.organisation.models import Branch
from core_banking.organisation.services import branch_create
from core_banking.staff.services import staff_user_create
from tests.conftest import PASSWORD, Workspace


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Uploaded files of a test land in its own folder, never in the development media root."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def branch_two(in_alpha: Workspace) -> Branch:
    return branch_create(actor=None, code="BR2", name="Branch two")


@pytest.fixture
def br1_manager(in_alpha: Workspace) -> str:
    """A branch manager of alpha who may see (and manage members of) branch BR1 only."""
    staff_user_create(
        actor=None,
        username="br1-manager",
        password=PASSWORD,
        roles=["branch_manager"],
        home_branch=Branch.objects.get(code="BR1"),
    )
    return "br1-manager"
