"""The workspace API's OpenAPI 3 schema generates with no warning or error and is valid OpenAPI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = Path(tmp_path_factory.mktemp("openapi")) / "schema.json"
    GENERATOR_STATS.reset()  # an earlier schema request in this process must not count here
    # --fail-on-warn raises on any warning or error; --validate checks against the OpenAPI 3 JSON schema.
    call_command(
        "spectacular",
        "--urlconf",
        "control_plane.urls_workspace",
        "--format",
        "openapi-json",
        "--file",
        str(out),
        "--fail-on-warn",
        "--validate",
    )
    assert not GENERATOR_STATS, dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


def test_the_key_paths_are_described(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    assert "post" in paths["/api/v1/savings/accounts/{account_id}/deposits/"]
    assert {"get", "post"} <= set(paths["/api/v1/members/"])
    assert "get" in paths["/api/v1/members/{member_id}/"]
    assert "post" in paths["/api/v1/cash/handovers/"]
    assert {"get", "post"} <= set(paths["/api/v1/accounting/vouchers/"])
    report = paths["/api/v1/reports/trial-balance/"]
    assert list(report) == ["get"]
    assert report["get"]["operationId"] == "reports_trial_balance"
    assert "branch" in {parameter["name"] for parameter in report["get"]["parameters"]}


def test_choice_sets_have_one_stable_name_each(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert components["MemberStatusEnum"]["enum"] == ["active", "suspended_from_borrowing", "exited"]
    assert components["DocumentKindEnum"]["enum"] == ["photo", "id_front", "id_back"]
    assert components["VoucherKindEnum"]["enum"] == ["receipt", "payment", "journal"]
    assert components["SavingsKindEnum"]["enum"] == ["compulsory", "voluntary", "recurring", "fixed"]
    assert components["InterestPeriodEnum"]["enum"] == ["monthly", "quarterly", "half_yearly", "yearly"]
    # No name made up from a hash when two apps use the same field name.
    assert not [name for name in components if name.endswith("Enum") and any(c.isdigit() for c in name)]
