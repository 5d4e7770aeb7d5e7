"""Structured logs and error reporting, with the cooperative and request on every record."""

from __future__ import annotations

import logging
from typing import Any

import structlog


def add_tenant(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Every line names its cooperative: from the request's binding, else from the database connection
    (Celery tasks, management commands), which django-tenants points at the workspace in use."""
    if "tenant" not in event_dict:
        try:
            from django.db import connection

            event_dict["tenant"] = getattr(connection, "schema_name", "public")
        except Exception:  # pragma: no cover - before Django is configured
            event_dict["tenant"] = "-"
    return event_dict


_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    add_tenant,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure_logging(*, log_format: str, level: str) -> dict[str, Any]:
    """Configure structlog and return the stdlib LOGGING dict Django installs."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
                "foreign_pre_chain": _SHARED_PROCESSORS,
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "django_structlog": {"level": level},
        },
    }


def bind_tenant(schema_name: str | None) -> None:
    """Put the cooperative on every following log line and Sentry event of this context."""
    structlog.contextvars.bind_contextvars(tenant=schema_name or "public")
    import sentry_sdk

    sentry_sdk.set_tag("tenant", schema_name or "public")


def _tag_tenant(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Last resort: the tenant from the database connection when no scope tag was set."""
    tags = event.setdefault("tags", {})
    if "tenant" not in tags:
        try:
            from django.db import connection

            tags["tenant"] = getattr(connection, "schema_name", "public")
        except Exception:  # pragma: no cover - reporting must never fail the report
            logging.getLogger(__name__).debug("tenant tag unavailable", exc_info=True)
    return event


def init_sentry(*, dsn: str, environment: str, **options: Any) -> bool:
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_tag_tenant,  # type: ignore[arg-type]
        traces_sample_rate=0.0,
        **options,
    )
    return True
