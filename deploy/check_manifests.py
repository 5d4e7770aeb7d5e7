"""Static checks of the deployment manifests in deploy/: no Docker engine or cluster needed.

    python deploy/check_manifests.py

Checks that every YAML file under deploy/ parses (multi-document files included); that
compose.yaml defines the services the product runs as; and that every Kubernetes Deployment
declares CPU and memory requests and a memory limit on each container, with the web
Deployment probing /healthz for readiness and /livez for liveness, and that the migration step
(the Compose migrate service and the Kubernetes migrate Job) runs ``manage.py migrate_fleet``
rather than django-tenants' one-schema-at-a-time ``migrate_schemas``. Exits 1 listing every
problem.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parent
COMPOSE_FILE = DEPLOY / "compose.yaml"
KUBERNETES_DIR = DEPLOY / "kubernetes"
COMPOSE_SERVICES = ("postgres", "redis", "pgbouncer", "web", "worker", "beat", "migrate", "caddy")
WEB_DEPLOYMENT = "coopcore-web"
# Readiness: database, Redis and a worker heartbeat. Liveness: the process answers, nothing else.
WEB_PROBE_PATHS = {"readinessProbe": "/healthz", "livenessProbe": "/livez"}
MIGRATE_JOB = "coopcore-migrate"
# The fleet runner skips current workspaces and carries on past a failed one (docs/fleet-migrations.md).
MIGRATE_COMMAND = "migrate_fleet"


def yaml_files() -> list[Path]:
    skipped = {".venv", "node_modules", "__pycache__"}
    return sorted(
        path
        for pattern in ("*.yaml", "*.yml")
        for path in DEPLOY.rglob(pattern)
        if not skipped.intersection(path.relative_to(DEPLOY).parts)
    )


def load_documents(path: Path, problems: list[str]) -> list[Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            return [doc for doc in yaml.safe_load_all(handle) if doc is not None]
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{path.relative_to(DEPLOY)}: does not parse: {exc}")
        return []


def command_text(command: Any) -> str:
    if isinstance(command, list):
        return " ".join(str(part) for part in command)
    return str(command or "")


def check_migrate_command(where: str, command: Any, problems: list[str]) -> None:
    text = command_text(command)
    if MIGRATE_COMMAND not in text:
        problems.append(f"{where}: the migration step must run manage.py {MIGRATE_COMMAND}")
    if "migrate_schemas" in text:
        problems.append(f"{where}: runs migrate_schemas; the deploy's migration step is {MIGRATE_COMMAND}")


def check_compose(documents: list[Any], problems: list[str]) -> None:
    if len(documents) != 1 or not isinstance(documents[0], dict):
        problems.append("compose.yaml: expected one mapping")
        return
    services = documents[0].get("services") or {}
    for name in COMPOSE_SERVICES:
        if name not in services:
            problems.append(f"compose.yaml: service {name!r} is missing")
        elif not (services[name] or {}).get("image") and not (services[name] or {}).get("build"):
            problems.append(f"compose.yaml: service {name!r} has neither image nor build")
    if "migrate" in services:
        check_migrate_command(
            "compose.yaml: service 'migrate'", (services["migrate"] or {}).get("command"), problems
        )


def containers_of(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    return list(spec.get("containers") or [])


def probe_path(container: dict[str, Any], probe: str) -> str | None:
    http_get = (container.get(probe) or {}).get("httpGet") or {}
    path = http_get.get("path")
    return path if isinstance(path, str) else None


def check_resources(where: str, container: dict[str, Any], problems: list[str]) -> None:
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    for key in ("cpu", "memory"):
        if key not in requests:
            problems.append(f"{where}: resources.requests.{key} is missing")
    if "memory" not in limits:
        problems.append(f"{where}: resources.limits.memory is missing")


def check_deployment(source: str, deployment: dict[str, Any], problems: list[str]) -> None:
    name = (deployment.get("metadata") or {}).get("name", "?")
    containers = containers_of(deployment)
    if not containers:
        problems.append(f"{source}: Deployment {name}: no containers")
    for container in containers:
        where = f"{source}: Deployment {name}, container {container.get('name', '?')}"
        check_resources(where, container, problems)
        if name == WEB_DEPLOYMENT:
            for probe, path in WEB_PROBE_PATHS.items():
                if probe_path(container, probe) != path:
                    problems.append(f"{where}: {probe} must be an httpGet on {path}")


def kubernetes_objects(documents: list[Any]) -> Iterator[dict[str, Any]]:
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "List":
            yield from (item for item in document.get("items") or [] if isinstance(item, dict))
        elif isinstance(document, dict):
            yield document


def check_kubernetes(parsed: dict[Path, list[Any]], problems: list[str]) -> None:
    deployments: dict[str, dict[str, Any]] = {}
    migrate_jobs = 0
    for path, documents in parsed.items():
        if path.parent != KUBERNETES_DIR:
            continue
        source = str(path.relative_to(DEPLOY))
        for obj in kubernetes_objects(documents):
            if not obj.get("apiVersion") or not obj.get("kind"):
                problems.append(f"{source}: a document lacks apiVersion or kind")
            elif obj["kind"] == "Deployment":
                deployments[(obj.get("metadata") or {}).get("name", "?")] = obj
                check_deployment(source, obj, problems)
            elif obj["kind"] == "Job" and (obj.get("metadata") or {}).get("name") == MIGRATE_JOB:
                migrate_jobs += 1
                for container in containers_of(obj):
                    check_migrate_command(f"{source}: Job {MIGRATE_JOB}", container.get("command"), problems)
    if not deployments:
        problems.append("kubernetes/: no Deployment found")
    elif WEB_DEPLOYMENT not in deployments:
        problems.append(f"kubernetes/: Deployment {WEB_DEPLOYMENT} is missing")
    if not migrate_jobs:
        problems.append(f"kubernetes/: Job {MIGRATE_JOB} is missing")


def check_all(parsed: dict[Path, list[Any]], problems: list[str]) -> None:
    if COMPOSE_FILE not in parsed:
        problems.append("compose.yaml is missing")
    else:
        check_compose(parsed[COMPOSE_FILE], problems)
    check_kubernetes(parsed, problems)


def main() -> int:
    problems: list[str] = []
    files = yaml_files()
    parsed = {path: load_documents(path, problems) for path in files}
    check_all(parsed, problems)
    if problems:
        sys.stderr.write("deploy/ manifests: FAILED\n  - " + "\n  - ".join(problems) + "\n")
        return 1
    sys.stdout.write(f"deploy/ manifests: OK ({len(files)} YAML files)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
