"""Settings come from the environment; the production profile refuses unsafe values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from control_plane import env

ROOT = Path(__file__).resolve().parents[2]
SAFE_PRODUCTION = {
    "COOPCORE_PROFILE": "production",
    "DEBUG": "false",
    "SECRET_KEY": "q8Zr-3vLp!x7Wm2TfK9sYb4Nh6Jd0Gc5Ue1Ra8Vw3Xi7Ok2Pl",
    "COOPCORE_TLS_PROXY_HEADER": "X-Forwarded-Proto=https",
    "COOPCORE_DOMAIN_SUFFIX": "coopcore.example",
    "STRIPE_SECRET_KEY": "sk_live_something",
    "EMAIL_URL": "smtp+tls://user:pass@mail.example:587",
    "DATABASE_URL": "postgres://app@db.example:5432/coopcore",
    "STRIPE_WEBHOOK_SECRET": "whsec_4f8a9c2e1b7d",
    "TWILIO_AUTH_TOKEN": "b3c9e2f1a7d84c06",
}


def test_development_defaults_are_safe_for_a_laptop() -> None:
    config = env.load({})
    assert config.debug is True and config.problems == []
    assert config.domain_suffix == "localhost"
    assert ".localhost" in config.allowed_hosts


def test_a_safe_production_environment_has_no_problems() -> None:
    config = env.load(SAFE_PRODUCTION)
    assert config.problems == []
    assert config.tls_proxy_header == ("HTTP_X_FORWARDED_PROTO", "https")
    assert config.allowed_hosts == ["coopcore.example", ".coopcore.example"]


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ({"DEBUG": "true"}, "DEBUG is on"),
        ({"SECRET_KEY": env.DEVELOPMENT_SECRET_KEY}, "SECRET_KEY"),
        ({"COOPCORE_TLS_PROXY_HEADER": ""}, "COOPCORE_TLS_PROXY_HEADER is missing"),
        ({"COOPCORE_DOMAIN_SUFFIX": "localhost"}, "COOPCORE_DOMAIN_SUFFIX"),
    ],
)
def test_production_names_each_unsafe_value(override: dict[str, str], problem: str) -> None:
    config = env.load({**SAFE_PRODUCTION, **override})
    assert any(problem in line for line in config.problems), config.problems


def test_production_without_a_database_url_is_refused() -> None:
    without = {k: v for k, v in SAFE_PRODUCTION.items() if k != "DATABASE_URL"}
    assert "DATABASE_URL is not set" in env.load(without).problems


def _django_check(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A clean start: nothing the test session itself set (e.g. the browser tests' async guard switch).
    clean = {
        k: v for k, v in os.environ.items() if k not in SAFE_PRODUCTION and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT, env={**clean, **environment}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_process_refuses_to_start_in_production_with_development_defaults() -> None:
    result = _django_check({"COOPCORE_PROFILE": "production", "DEBUG": "true"})
    assert result.returncode != 0
    assert "The production profile refuses to start" in result.stderr
    assert "DEBUG" in result.stderr and "SECRET_KEY" in result.stderr and "TLS" in result.stderr


def test_the_process_starts_in_production_with_safe_values() -> None:
    result = _django_check(SAFE_PRODUCTION)
    assert result.returncode == 0, result.stderr[-2000:]


def test_an_unknown_profile_is_refused_not_treated_as_development() -> None:
    with pytest.raises(env.UnsafeProductionSettings, match="'prod' is not one of development, production"):
        env.load({"COOPCORE_PROFILE": "prod"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STRIPE_WEBHOOK_SECRET", "whsec_development"),
        ("TWILIO_AUTH_TOKEN", "development"),
        ("EMAIL_URL", "consolemail://"),
    ],
)
def test_production_refuses_development_secrets(name: str, value: str) -> None:
    environment = {**SAFE_PRODUCTION, name: value}
    if name == "STRIPE_WEBHOOK_SECRET":
        environment.pop(name)  # unset: the development default applies
    problems = env.load(environment).problems
    assert any(line.startswith(name) for line in problems), problems
