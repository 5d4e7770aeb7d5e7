"""The deployment manifests pass their own checks, and the checks catch what they are there for."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_check_manifests", DEPLOY / "check_manifests.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


@pytest.fixture
def parsed() -> dict[Path, list[Any]]:
    problems: list[str] = []
    documents = {path: checker.load_documents(path, problems) for path in checker.yaml_files()}
    assert problems == []
    return documents


def _problems(parsed: dict[Path, list[Any]]) -> list[str]:
    problems: list[str] = []
    checker.check_all(parsed, problems)
    return problems


def test_the_shipped_manifests_pass(
    parsed: dict[Path, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _problems(parsed) == []
    assert checker.main() == 0
    assert "deploy/ manifests: OK" in capsys.readouterr().out


def test_a_compose_migrate_step_with_migrate_schemas_is_refused(parsed: dict[Path, list[Any]]) -> None:
    changed = copy.deepcopy(parsed)
    compose = changed[checker.COMPOSE_FILE][0]
    compose["services"]["migrate"]["command"] = [
        "sh",
        "-c",
        "python manage.py migrate_schemas --shared && python manage.py migrate_schemas --tenant",
    ]
    assert _problems(changed) == [
        "compose.yaml: service 'migrate': the migration step must run manage.py migrate_fleet",
        "compose.yaml: service 'migrate': runs migrate_schemas; the deploy's migration step is migrate_fleet",
    ]


def test_the_kubernetes_migrate_job_must_run_the_fleet_runner(parsed: dict[Path, list[Any]]) -> None:
    job_file = checker.KUBERNETES_DIR / "migrate-job.yaml"
    changed = copy.deepcopy(parsed)
    job = changed[job_file][0]
    job["spec"]["template"]["spec"]["containers"][0]["command"] = ["python", "manage.py", "migrate"]
    assert _problems(changed) == [
        "kubernetes/migrate-job.yaml: Job coopcore-migrate: "
        "the migration step must run manage.py migrate_fleet"
    ]
    del changed[job_file]
    assert _problems(changed) == ["kubernetes/: Job coopcore-migrate is missing"]


def test_the_image_carries_the_backup_client_tools() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "postgresql-client-${POSTGRES_CLIENT_MAJOR}" in dockerfile
    assert 'test -x "/usr/lib/postgresql/${POSTGRES_CLIENT_MAJOR}/bin/pg_dump"' in dockerfile
