"""Browser tests: Playwright from PyPI driving the system Chromium against a real server process."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from control_plane.console.models import ConsoleOperator
from control_plane.identity.models import User
from tenants.demo import DEMO_COOPERATIVES, DEMO_PASSWORD, load_demo
from tests.processes import running_process

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Every workspace subdomain of localhost is this machine.
    "--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1",
]  # fmt: skip


NO_CHROMIUM = "NO CHROMIUM: browser tests skipped (install Debian's chromium, or run `make test` as root)"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if chromium_path() is not None:
        return
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def server_port(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The web app as its own process (runserver) on the test database."""
    port = _free_port()

    def answers() -> bool:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/livez", headers={"Host": "localhost"})
        try:
            with urllib.request.urlopen(request, timeout=2):  # noqa: S310 - our own local server
                return True
        except OSError:
            return False

    with running_process(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        name="web server",
        log_path=tmp_path_factory.mktemp("web") / "web.log",
        ready=answers,
    ):
        yield port


@pytest.fixture(scope="session")
def browser(django_db_setup: None) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django's ORM calls in these tests
    # are still plain synchronous calls, so its async-context guard does not apply.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    executable = chromium_path()
    assert executable is not None
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


DEMO = DEMO_COOPERATIVES[0]  # the Bangladeshi samity, Bangla by default
DEMO_HOST = f"{DEMO.spec.slug}.localhost"


@pytest.fixture(scope="session")
def browser_user(django_db_setup: None, django_db_blocker: Any) -> str:
    """The demo, loaded as `make run` loads it; its admin's hash re-made with a hasher the server knows.

    (The test process hashes with a fast hasher the separate server process is not configured for.)
    """
    from tenants.models import Cooperative

    with django_db_blocker.unblock():
        load_demo()
        with tenant_context(Cooperative.objects.get(slug=DEMO.spec.slug)):
            admin = User.objects.get(username="admin")
            admin.password = make_password(DEMO_PASSWORD, hasher="pbkdf2_sha256")
            admin.save(update_fields=["password"])
    return "admin"


def translated(text: str, language: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def log_in(page: Any, port: int, username: str) -> None:
    page.goto(f"http://{DEMO_HOST}:{port}/accounts/login/")
    page.get_by_label(translated("User name", "bn")).fill(username)
    page.get_by_label(translated("Password", "bn")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=translated("Log in", "bn")).click()
    page.wait_for_url(f"http://{DEMO_HOST}:{port}/")


OPERATOR = "ops-e2e"
OPERATOR_PASSWORD = "e2e-console-lantern-7"  # a test account in the test database


@pytest.fixture(scope="session")
def console_operator(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """A committed operator the server process can log in (no device until the first log-in).

    Session-scoped, like ``browser_user``: a function fixture's writes would stay in the test's
    transaction, which the server process never sees.
    """
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        user = User.objects.create(
            username=OPERATOR, password=make_password(OPERATOR_PASSWORD, hasher="pbkdf2_sha256")
        )
        ConsoleOperator.objects.create(user=user, created_by="e2e")
    yield OPERATOR
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        TOTPDevice.objects.filter(user__username=OPERATOR).delete()
        ConsoleOperator.objects.filter(user__username=OPERATOR).delete()
        # Not User.delete(): its cascade would look for workspace-only tables (API tokens) in public.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM identity_user WHERE username = %s", [OPERATOR])
