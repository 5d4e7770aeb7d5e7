"""/healthz: database, Redis and a live Celery worker; 503 naming the part that fails."""

from __future__ import annotations

import time

import redis
import structlog
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

HEARTBEAT_PREFIX = "coopcore:worker-heartbeat:"
logger = structlog.get_logger(__name__)


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def record_worker_heartbeat(hostname: str, *, ttl_seconds: int) -> None:
    _redis().set(HEARTBEAT_PREFIX + hostname, str(time.time()), ex=ttl_seconds)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis() -> str:
    if not _redis().ping():
        raise RuntimeError("no PONG")
    return "ok"


def check_worker() -> str:
    workers = list(_redis().scan_iter(match=HEARTBEAT_PREFIX + "*", count=100))
    if not workers:
        raise RuntimeError("no Celery worker heartbeat")
    return f"ok ({len(workers)} worker{'s' if len(workers) != 1 else ''})"


CHECKS = {"database": check_database, "redis": check_redis, "worker": check_worker}


@never_cache
@require_GET
def livez(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No dependencies, so a database outage does not restart every pod."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    failing: list[str] = []
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:
            # The answer names the part and the kind of failure; addresses and users go to the log only.
            logger.warning("health check failed", check=name, error=str(exc)[:500])
            results[name] = f"failing: {exc.__class__.__name__}"
            failing.append(name)
    body = {"status": "ok" if not failing else "failing", "failing": failing, "checks": results}
    return JsonResponse(body, status=503 if failing else 200)
