"""Sign up a new cooperative in Chromium: the public site, the form, payment on the Stripe Checkout
stand-in (the official client talks to it through STRIPE_API_BASE; it sends the signed webhook),
the waiting page, and the landing, logged in, in the new workspace. Then an operator makes that
new workspace read-only, suspends it and reactivates it from the console, and its administrator
sees each state.

Real processes: the web server and a Celery worker (which provisions), on the test database.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context

from billing.models import BillingAccount
from billing.stripe_fake import FakeStripe
from control_plane.audit.models import AuditEvent
from control_plane.celery import app as celery_app
from control_plane.identity.models import User
from core_banking.members.models import MemberGroup
from onboarding.models import SignUp, SignUpStatus
from tenants.models import Cooperative, Lifecycle
from tests.conftest import subprocess_environment
from tests.e2e.conftest import translated
from tests.e2e.test_console import _committed_sql, console_log_in
from tests.processes import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("browser")]

PASSWORD = "a-long-and-unusual-passphrase-7"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _process(command: list[str], *, env: dict[str, str], log_path: Path, ready: Any) -> Iterator[None]:
    """tests.processes.running_process, with this test's own environment (the fake as Stripe)."""
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{command[1:4]} did not start: {log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def signup_site(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, FakeStripe]]:
    """The web server and a Celery worker, both with the official Stripe client pointed at the fake."""
    port = _free_port()
    fake = FakeStripe(
        port=0,
        webhook_url=f"http://localhost:{port}/billing/stripe/webhook/",
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
    ).start()
    env = subprocess_environment()
    # The fake as Stripe (the settings module is the test run's, from subprocess_environment).
    env["STRIPE_API_BASE"] = fake.url
    # A queue of this module's own: another test's worker on the default queue would take the
    # sign-up's tasks with its own settings (another Stripe stand-in), and the sign-up would wait.
    queue = f"signup-{uuid.uuid4().hex[:8]}"
    env["COOPCORE_CELERY_DEFAULT_QUEUE"] = queue
    node = f"signup-{uuid.uuid4().hex[:8]}@localhost"
    logs = tmp_path_factory.mktemp("signup")

    def answers() -> bool:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/livez", headers={"Host": "localhost"})
        try:
            with urllib.request.urlopen(request, timeout=2):  # noqa: S310 - our own local server
                return True
        except OSError:
            return False

    web = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    worker = [sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-n", node, "-Q", queue,
              "--pool", "solo", "-l", "info", "--without-mingle", "--without-gossip"]  # fmt: skip
    try:
        with (
            _process(web, env=env, log_path=logs / "web.log", ready=answers),
            _process(
                worker,
                env=env,
                log_path=logs / "worker.log",
                ready=lambda: bool(celery_app.control.ping(destination=[node], timeout=1)),
            ),
        ):
            yield port, fake
    finally:
        fake.stop()


def _sign_up_and_pay(page: Any, port: int, fake: FakeStripe, slug: str) -> None:
    """The public site's form, payment on the fake, the wait; ends on the new workspace, logged in."""
    page.goto(f"http://localhost:{port}/")
    assert "Standard" in page.locator("#plans").inner_text()
    page.get_by_role("button", name="Sign up your cooperative").click()
    page.wait_for_url(f"http://localhost:{port}/signup/")

    page.get_by_label("Standard").check()
    page.get_by_label("Cooperative's name").fill("Sonali Sanchay Samity")
    page.get_by_label("Registration number").fill("RAJ-2025-0042")
    page.get_by_label("Country").select_option("BD")
    page.get_by_label("Subdomain").fill(slug)
    page.get_by_text(f"{slug}.localhost is available.").wait_for()  # checked as it was typed
    page.get_by_label("Your name").fill("Salma Khatun")
    page.get_by_label("E-mail address").fill(f"salma@{slug}.example")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Continue to payment").click()

    # Stripe's page (the local stand-in): pay.
    page.wait_for_url(f"{fake.url}/pay/cs_*")
    assert f"salma@{slug}.example" in page.content()
    page.get_by_role("button", name="Pay").click()

    # Back on the public site: the wait is shown, then the workspace opens, logged in.
    page.wait_for_url(f"http://localhost:{port}/signup/*/", timeout=15_000)
    assert page.locator("#signup-progress").count() == 1
    # Provisioning clones the template while the person waits (no spare workspaces in tests): 15 s
    # on a quiet machine, several times that while the rest of the suite runs beside it.
    page.wait_for_url(f"http://{slug}.localhost:{port}/", timeout=180_000)


def test_sign_up_pay_and_land_logged_in_in_the_new_workspace(
    browser: Any, signup_site: tuple[int, FakeStripe]
) -> None:
    port, fake = signup_site
    slug = f"sonali{uuid.uuid4().hex[:6]}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()

    _sign_up_and_pay(page, port, fake, slug)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == translated("Dashboard", "bn"), heading  # the samity's language: Bangla
    assert "Sonali Sanchay Samity" in page.locator("header").inner_text()

    signup = SignUp.objects.get(slug=slug)
    assert signup.status == SignUpStatus.PROVISIONED
    cooperative = Cooperative.objects.get(slug=slug)
    assert cooperative.lifecycle == Lifecycle.ACTIVE and cooperative.currency == "BDT"
    assert BillingAccount.objects.get(cooperative=cooperative).plan.code == "standard"
    with tenant_context(cooperative):
        assert User.objects.get(username=f"salma@{slug}.example").check_password(PASSWORD)
    assert [event["type"] for event in fake.sent_events] == ["checkout.session.completed"]
    context.close()


@pytest.fixture
def new_cooperative_slug() -> Iterator[str]:
    """A fresh subdomain; whatever state the test leaves that cooperative in, it ends active (committed).

    The workspace itself stays, like the one the sign-up test above makes; its audit rows stay too
    (the trail is append-only) and concern only this cooperative.
    """
    slug = f"mukti{uuid.uuid4().hex[:6]}"
    yield slug
    _committed_sql("UPDATE public.tenants_cooperative SET lifecycle = 'active' WHERE slug = %s", [slug])


def _console_action(ops: Any, slug: str, *, button: str, reason: str, submit: str, state: str) -> None:
    """On the tenant's page: open the action, give the reason, submit, and see the new state."""
    ops.get_by_role("button", name=button).click()
    ops.get_by_label("Reason").fill(reason)
    if button == "Suspend…":
        ops.get_by_label("Type the subdomain to confirm").fill(slug)
    ops.get_by_role("button", name=submit).click()
    ops.wait_for_url(f"**/console/tenants/{slug}/")
    assert ops.locator(".console-title [data-state]").get_attribute("data-state") == state


def _group_create(admin: Any, workspace: str, code: str) -> None:
    """The new-group form (a GET, allowed in every readable state), filled and saved."""
    admin.goto(f"{workspace}members/groups/new/")
    admin.locator('input[name="code"]').fill(code)
    admin.locator('input[name="name"]').fill(f"Group {code}")
    admin.get_by_role("button", name=translated("Save", "bn")).click()


def test_an_operator_makes_a_new_cooperative_read_only_suspends_and_reactivates_it(
    browser: Any, signup_site: tuple[int, FakeStripe], console_operator: str, new_cooperative_slug: str
) -> None:
    port, fake = signup_site
    slug = new_cooperative_slug
    workspace = f"http://{slug}.localhost:{port}/"
    admin = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    _sign_up_and_pay(admin, port, fake, slug)
    assert admin.locator('[data-state="read_only"]').count() == 0
    cooperative = Cooperative.objects.get(slug=slug)
    assert cooperative.lifecycle == Lifecycle.ACTIVE
    events_before = AuditEvent.objects.order_by("id").values_list("id", flat=True).last() or 0

    # The operator, in another browser: finds the new cooperative and makes it read-only.
    ops = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    console_log_in(ops, port, console_operator)
    ops.get_by_label("Search").fill(slug)
    ops.wait_for_function("document.querySelectorAll('tr[data-slug]').length === 1")
    ops.locator(f'tr[data-slug="{slug}"] a').click()
    ops.wait_for_url(f"**/console/tenants/{slug}/")
    _console_action(
        ops,
        slug,
        button="Make read-only…",
        reason="E2E-4 ownership dispute",
        submit="Make the workspace read-only",
        state="read_only",
    )
    assert "E2E-4 ownership dispute" in ops.get_by_test_id("history").inner_text()
    read_only_event = AuditEvent.objects.filter(
        action="console.read_only", object_id=str(cooperative.pk)
    ).get()
    assert read_only_event.actor_label == console_operator
    assert read_only_event.changes == {
        "reason": "E2E-4 ownership dispute",
        "lifecycle": ["active", "read_only"],
    }

    # The administrator reloads: the banner; the dashboard and the members list still open.
    admin.reload()
    assert admin.locator('.workspace-notice[data-state="read_only"]').is_visible()
    assert admin.get_by_role("heading", level=1).inner_text() == translated("Dashboard", "bn")
    admin.goto(f"{workspace}members/")
    assert admin.get_by_role("heading", level=1).inner_text() == translated("Members", "bn")
    # Creating something is refused with the read-only page, and nothing is saved.
    _group_create(admin, workspace, "RO-1")
    refusal = admin.locator('article[data-state="read_only"]')
    refusal.wait_for()
    assert refusal.get_by_role("alert").inner_text() == translated(
        "This workspace is read-only: you can look and export, not change. Paying an overdue "
        "subscription ends it at once; otherwise, ask CoopCore support.",
        "bn",
    )
    with tenant_context(cooperative):
        assert not MemberGroup.objects.filter(code="RO-1").exists()

    # Suspended: the administrator sees the suspended page, whatever the address.
    _console_action(
        ops,
        slug,
        button="Suspend…",
        reason="E2E-4 court order",
        submit="Suspend the workspace",
        state="suspended",
    )
    admin.goto(workspace)
    assert admin.locator('article[data-state="suspended"]').is_visible()
    admin.goto(f"{workspace}members/")
    assert admin.locator('article[data-state="suspended"]').is_visible()

    # Reactivated: no banner, and a new group is saved.
    _console_action(
        ops,
        slug,
        button="Reactivate…",
        reason="E2E-4 resolved",
        submit="Reactivate the workspace",
        state="active",
    )
    admin.goto(workspace)
    assert admin.get_by_role("heading", level=1).inner_text() == translated("Dashboard", "bn")
    assert admin.locator('[data-state="read_only"], [data-state="suspended"]').count() == 0
    _group_create(admin, workspace, "OK-1")
    admin.wait_for_url(f"{workspace}members/groups/")
    assert "OK-1" in admin.locator("main").inner_text()
    with tenant_context(cooperative):
        assert MemberGroup.objects.filter(code="OK-1").exists()
    cooperative.refresh_from_db()
    assert cooperative.lifecycle == Lifecycle.ACTIVE
    lifecycle_changes = AuditEvent.objects.filter(
        action="cooperative.lifecycle", object_id=str(cooperative.pk), id__gt=events_before
    ).order_by("id")
    assert [event.changes["lifecycle"] for event in lifecycle_changes] == [
        ["active", "read_only"],
        ["read_only", "suspended"],
        ["suspended", "active"],
    ]
    ops.context.close()
    admin.context.close()


@pytest.mark.parametrize("path", ["/", "/signup/"])
@pytest.mark.parametrize("language", ["en", "bn"])
def test_the_public_pages_pass_the_axe_check_and_fit_a_phone(
    browser: Any, signup_site: tuple[int, FakeStripe], path: str, language: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    port, _fake = signup_site
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.add_cookies(
        [{"name": "coopcore_language", "value": language, "url": f"http://localhost:{port}/"}]
    )
    page = context.new_page()
    page.goto(f"http://localhost:{port}{path}")
    assert page.locator("html").get_attribute("lang") == language
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    assert serious == [], results.generate_report()
    context.close()
