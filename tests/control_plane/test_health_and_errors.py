"""/healthz names the failing part; API errors share one shape with stable codes."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from control_plane.errors import BusinessRuleViolation, ErrorCode, api_exception_handler
from tests.conftest import Workspace, workspace_client

pytestmark = pytest.mark.django_db


def test_healthz_reports_503_naming_redis_when_redis_is_down(settings: pytest.FixtureRequest) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]  # nothing listens there
    response = Client(HTTP_HOST="localhost").get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert "redis" in body["failing"] and body["checks"]["redis"].startswith("failing: ")


def test_healthz_reports_503_naming_the_worker_when_none_beats(settings: pytest.FixtureRequest) -> None:
    # A Redis database no worker writes to: no heartbeat there.
    settings.REDIS_URL = settings.REDIS_URL.rsplit("/", 1)[0] + "/14"  # type: ignore[attr-defined]
    response = Client(HTTP_HOST="localhost").get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]


def test_healthz_answers_in_a_workspace_too(alpha: Workspace) -> None:
    response = Client(HTTP_HOST=alpha.host).get("/healthz")
    assert response.status_code in {200, 503}
    assert set(response.json()["checks"]) == {"database", "redis", "worker"}


def test_api_me_describes_the_staff_user(alpha: Workspace) -> None:
    body = workspace_client(alpha, username=alpha.only_here).get("/api/v1/me/").json()
    assert body["roles"] == ["field_officer"]
    assert body["cooperative"] == "alpha" and body["currency"] == "BDT"
    assert body["home_branch"] == "BR1" and body["visible_branch_ids"] is not None
    assert "collect_in_field" in body["capabilities"] and "approve_loans" not in body["capabilities"]


def test_api_refuses_anonymous_callers_with_a_stable_code(alpha: Workspace) -> None:
    response = Client(HTTP_HOST=alpha.host).get("/api/v1/me/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided.",
                  "fields": {}}
    }  # fmt: skip


def _handle(exc: Exception) -> tuple[int, dict[str, object]]:
    request = APIRequestFactory().get("/")
    response = api_exception_handler(exc, {"request": request, "view": None})
    assert response is not None
    return response.status_code, response.data


def test_business_rule_violations_carry_code_message_and_fields() -> None:
    status, body = _handle(
        BusinessRuleViolation(ErrorCode.SLUG_TAKEN, "This subdomain is taken.", fields={"slug": ["Taken."]})
    )
    assert status == 409
    assert body == {
        "error": {"code": "slug_taken", "message": "This subdomain is taken.", "fields": {"slug": ["Taken."]}}
    }


def test_validation_errors_carry_field_messages() -> None:
    status, body = _handle(serializers.ValidationError({"amount": ["Must be positive."]}))
    assert status == 400
    assert body["error"] == {  # type: ignore[comparison-overlap]
        "code": "validation_error",
        "message": "Some fields are not valid.",
        "fields": {"amount": ["Must be positive."]},
    }  # fmt: skip


def test_livez_answers_without_dependencies(settings: pytest.FixtureRequest) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]
    response = Client(HTTP_HOST="localhost").get("/livez")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_the_bare_production_domain_is_the_public_site(
    settings: pytest.FixtureRequest, alpha: Workspace
) -> None:
    settings.COOPCORE_DOMAIN_SUFFIX = "coop.example"  # type: ignore[attr-defined]
    settings.ALLOWED_HOSTS = ["coop.example", ".coop.example"]  # type: ignore[attr-defined]
    assert Client(HTTP_HOST="coop.example").get("/livez").status_code == 200
    assert Client(HTTP_HOST="coop.example").get("/").status_code == 200
    assert Client(HTTP_HOST="unknown.coop.example").get("/livez").status_code == 404


def test_api_answers_wrong_methods_and_unknown_paths_in_its_own_shape(alpha: Workspace) -> None:
    client = workspace_client(alpha, username=alpha.admin)
    wrong_method = client.post("/api/v1/me/")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    unknown = client.get("/api/v1/no-such-thing/")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_healthz_names_the_failure_without_revealing_addresses(settings: pytest.FixtureRequest) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]
    body = Client(HTTP_HOST="localhost").get("/healthz").json()
    assert body["checks"]["redis"] == "failing: ConnectionError"
    assert "127.0.0.1" not in str(body)
