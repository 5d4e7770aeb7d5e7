"""Every environment read of the project happens here, once, into one typed object.

Development defaults are safe for a laptop; the production profile
(``COOPCORE_PROFILE=production``) refuses to start with any of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEVELOPMENT_SECRET_KEY = "dev-insecure-coopcore-secret-key-change-me"  # noqa: S105 - refused in production
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/coopcore"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


PROFILES = frozenset({"development", "production"})
DEVELOPMENT_SECRETS = {
    "STRIPE_SECRET_KEY": "sk_test_development",
    "STRIPE_WEBHOOK_SECRET": "whsec_development",
    "TWILIO_AUTH_TOKEN": "development",
}


class UnsafeProductionSettings(RuntimeError):
    """Raised at start-up when the production profile meets a development default."""


@dataclass(frozen=True)
class Config:
    profile: str
    debug: bool
    secret_key: str
    database_url: str
    redis_url: str
    domain_suffix: str
    allowed_hosts: list[str]
    tls_proxy_header: tuple[str, str] | None
    sentry_dsn: str
    sentry_environment: str
    stripe_secret_key: str
    stripe_webhook_secret: str
    stripe_api_base: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_api_base: str
    email_url: str
    default_from_email: str
    log_format: str
    log_level: str
    # django-ratelimit rates ("10/h"); empty switches the limit off.
    signup_rate: str = "10/h"
    signup_slug_check_rate: str = "120/m"
    spare_workspaces: int = 2
    # The Celery queue tasks go to unless routed elsewhere (workers started with -Q take it).
    celery_default_queue: str = "celery"
    # The number (E.164) or alphanumeric sender id SMS are sent from.
    twilio_from_number: str = "+15005550006"
    problems: list[str] = field(default_factory=list)

    @property
    def is_production(self) -> bool:
        return self.profile == "production"


def _parse_proxy_header(raw: str) -> tuple[str, str] | None:
    """``X-Forwarded-Proto=https`` -> ("HTTP_X_FORWARDED_PROTO", "https")."""
    if not raw:
        return None
    name, _, value = raw.partition("=")
    meta_name = "HTTP_" + name.strip().upper().replace("-", "_")
    return meta_name, (value.strip() or "https")


def _truthy(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def load(environment: dict[str, str] | None = None) -> Config:
    source = dict(os.environ if environment is None else environment)

    def get(name: str, default: str = "") -> str:
        return source.get(name, default)

    profile = get("COOPCORE_PROFILE", "development").strip().lower()
    if profile not in PROFILES:
        # A misspelt "prod" must not quietly run with development defaults.
        raise UnsafeProductionSettings(
            f"COOPCORE_PROFILE={profile!r} is not one of {', '.join(sorted(PROFILES))}"
        )
    production = profile == "production"
    debug = _truthy(get("DEBUG", "false" if production else "true"))
    domain_suffix = get("COOPCORE_DOMAIN_SUFFIX", "localhost").strip().lstrip(".")
    hosts_raw = get("ALLOWED_HOSTS", "")
    allowed_hosts = [h.strip() for h in hosts_raw.split(",") if h.strip()] or [
        domain_suffix,
        f".{domain_suffix}",
    ]
    if not production:
        allowed_hosts += ["127.0.0.1", "testserver", ".testserver"]

    config = Config(
        profile=profile,
        debug=debug,
        secret_key=get("SECRET_KEY", DEVELOPMENT_SECRET_KEY),
        database_url=get("DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=get("REDIS_URL", DEFAULT_REDIS_URL),
        domain_suffix=domain_suffix,
        allowed_hosts=allowed_hosts,
        tls_proxy_header=_parse_proxy_header(get("COOPCORE_TLS_PROXY_HEADER", "")),
        sentry_dsn=get("SENTRY_DSN", ""),
        sentry_environment=get("SENTRY_ENVIRONMENT", profile),
        stripe_secret_key=get("STRIPE_SECRET_KEY", DEVELOPMENT_SECRETS["STRIPE_SECRET_KEY"]),
        stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET", DEVELOPMENT_SECRETS["STRIPE_WEBHOOK_SECRET"]),
        stripe_api_base=get("STRIPE_API_BASE", ""),
        twilio_account_sid=get("TWILIO_ACCOUNT_SID", "ACdevelopment"),
        twilio_auth_token=get("TWILIO_AUTH_TOKEN", DEVELOPMENT_SECRETS["TWILIO_AUTH_TOKEN"]),
        twilio_api_base=get("TWILIO_API_BASE", ""),
        twilio_from_number=get("TWILIO_FROM_NUMBER", "+15005550006"),
        email_url=get("EMAIL_URL", "consolemail://" if not production else ""),
        default_from_email=get("DEFAULT_FROM_EMAIL", f"CoopCore <no-reply@{domain_suffix}>"),
        log_format=get("LOG_FORMAT", "json" if production else "console"),
        log_level=get("LOG_LEVEL", "INFO"),
        signup_rate=get("COOPCORE_SIGNUP_RATE", "10/h").strip(),
        signup_slug_check_rate=get("COOPCORE_SIGNUP_SLUG_CHECK_RATE", "120/m").strip(),
        spare_workspaces=int(get("COOPCORE_SPARE_WORKSPACES", "2").strip() or "0"),
        celery_default_queue=get("COOPCORE_CELERY_DEFAULT_QUEUE", "celery").strip() or "celery",
    )
    if production:
        config.problems.extend(production_problems(config, database_url_set="DATABASE_URL" in source))
    return config


def production_problems(config: Config, *, database_url_set: bool) -> list[str]:
    """Every reason the production profile must not start; empty when it may."""
    problems = []
    if config.debug:
        problems.append("DEBUG is on; set DEBUG=false")
    if config.secret_key == DEVELOPMENT_SECRET_KEY or len(config.secret_key) < 40:
        problems.append("SECRET_KEY is the development default or shorter than 40 characters")
    if config.tls_proxy_header is None:
        problems.append(
            "COOPCORE_TLS_PROXY_HEADER is missing (e.g. X-Forwarded-Proto=https, set by the TLS proxy)"
        )
    if config.domain_suffix in {"localhost", ""}:
        problems.append("COOPCORE_DOMAIN_SUFFIX is the development 'localhost'")
    actual = {
        "STRIPE_SECRET_KEY": config.stripe_secret_key,
        "STRIPE_WEBHOOK_SECRET": config.stripe_webhook_secret,
        "TWILIO_AUTH_TOKEN": config.twilio_auth_token,
    }
    for name, development_value in DEVELOPMENT_SECRETS.items():
        if actual[name] == development_value:
            problems.append(f"{name} is the development default")
    if not config.email_url or config.email_url.startswith(("consolemail:", "dummymail:")):
        problems.append(
            "EMAIL_URL is missing or writes mail to the console (smtp+tls://user:password@host:587)"
        )
    if not database_url_set:
        problems.append("DATABASE_URL is not set")
    return problems
