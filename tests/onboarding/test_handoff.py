"""The one-time log-in from the sign-up's waiting page into the new workspace, tried as an attacker:
reuse, expiry, another workspace, another browser, a guessed or stolen token."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.stripe_fake import FakeStripe
from control_plane.audit.models import AuditEvent
from onboarding.models import HandoffToken, SignUp
from tenants.models import Cooperative
from tests.billing.stripe_support import public_client
from tests.conftest import Workspace
from tests.onboarding.test_signup import _pay, _start

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="token" value="([^"]+)"')
ACTION = re.compile(r'<form method="post" action="([^"]+)" id="handoff-form">')


@pytest.fixture
def ready(
    stripe_fake: FakeStripe, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> tuple[Client, SignUp]:
    """A paid, provisioned sign-up, and the browser that made it."""
    browser = public_client()
    signup = _start(browser)
    back = _pay(stripe_fake, signup)
    with django_capture_on_commit_callbacks(execute=True):
        browser.get(back.removeprefix("http://localhost"))
    signup.refresh_from_db()
    return browser, signup


def _handoff(browser: Client, signup: SignUp) -> tuple[str, str]:
    page = browser.get(f"/signup/{signup.public_id}/").content.decode()
    token, action = TOKEN.search(page), ACTION.search(page)
    assert token and action, page
    return token.group(1), action.group(1)


def _post(host: str, token: str) -> Any:
    return Client(HTTP_HOST=host).post("/accounts/handoff/", {"token": token})


def test_the_workspace_serves_the_handoff() -> None:
    """control_plane.urls_workspace includes onboarding.urls_workspace."""
    assert resolve("/accounts/handoff/", urlconf="control_plane.urls_workspace").url_name == "signup_handoff"


def test_the_sign_up_browser_lands_logged_in_in_its_workspace(ready: tuple[Client, SignUp]) -> None:
    browser, signup = ready
    token, action = _handoff(browser, signup)
    # Posted to the workspace's own domain, never carried in a URL.
    assert action == "http://padma.localhost/accounts/handoff/" and token not in action
    workspace = Client(HTTP_HOST="padma.localhost")
    response = workspace.post("/accounts/handoff/", {"token": token})
    assert response.status_code == 302 and response["Location"] == "/"
    home = workspace.get("/")
    assert home.status_code == 200 and home.context["user"].username == "rokeya@padma.example"
    with tenant_context(Cooperative.objects.get(slug="padma")):
        login = AuditEvent.objects.get(action="auth.login")
        assert login.actor_label == "rokeya@padma.example" and login.changes == {"method": "sign-up hand-off"}


def test_a_token_works_once(ready: tuple[Client, SignUp]) -> None:
    browser, signup = ready
    token, _action = _handoff(browser, signup)
    assert _post("padma.localhost", token).status_code == 302
    replay = Client(HTTP_HOST="padma.localhost")
    response = replay.post("/accounts/handoff/", {"token": token})
    assert response.status_code == 403
    assert replay.get("/")["Location"].startswith("/accounts/login/")


def test_an_expired_token_is_refused(ready: tuple[Client, SignUp]) -> None:
    browser, signup = ready
    token, _action = _handoff(browser, signup)
    HandoffToken.objects.filter(signup=signup).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _post("padma.localhost", token).status_code == 403


def test_a_token_shown_to_another_workspace_is_refused_and_spent(
    ready: tuple[Client, SignUp], alpha: Workspace
) -> None:
    browser, signup = ready
    token, _action = _handoff(browser, signup)
    stranger = Client(HTTP_HOST=alpha.host)
    assert stranger.post("/accounts/handoff/", {"token": token}).status_code == 403
    assert stranger.get("/")["Location"].startswith("/accounts/login/")
    # Having leaked, it no longer works where it belonged either.
    assert _post("padma.localhost", token).status_code == 403


def test_another_browser_gets_no_token(ready: tuple[Client, SignUp]) -> None:
    _browser, signup = ready
    page = public_client().get(f"/signup/{signup.public_id}/").content.decode()
    assert 'name="token"' not in page
    assert "http://padma.localhost/accounts/login/" in page and "rokeya@padma.example" in page
    assert not HandoffToken.objects.filter(signup=signup).exists()


def test_a_new_page_revokes_the_previous_token(ready: tuple[Client, SignUp]) -> None:
    browser, signup = ready
    first, _action = _handoff(browser, signup)
    second, _action = _handoff(browser, signup)
    assert first != second
    assert _post("padma.localhost", first).status_code == 403
    assert _post("padma.localhost", second).status_code == 302


def test_only_a_hash_is_stored_and_guesses_fail(ready: tuple[Client, SignUp]) -> None:
    browser, signup = ready
    token, _action = _handoff(browser, signup)
    stored = HandoffToken.objects.get(signup=signup, used_at__isnull=True)
    assert token not in (stored.token_hash, stored.username) and len(stored.token_hash) == 64
    for guess in ("", stored.token_hash, token[:-1], "x" * 500):
        assert _post("padma.localhost", guess).status_code == 403
    assert _post("padma.localhost", token).status_code == 302


def test_get_is_not_a_way_in(ready: tuple[Client, SignUp]) -> None:
    browser, signup = ready
    token, _action = _handoff(browser, signup)
    assert Client(HTTP_HOST="padma.localhost").get(f"/accounts/handoff/?token={token}").status_code == 405


def test_no_token_an_hour_after_the_workspace_was_made(ready: tuple[Client, SignUp]) -> None:
    browser, signup = ready
    SignUp.objects.filter(pk=signup.pk).update(provisioned_at=timezone.now() - dt.timedelta(hours=2))
    page = browser.get(f"/signup/{signup.public_id}/").content.decode()
    assert 'name="token"' not in page and "Go to the sign-in page" in page


def test_polls_never_hand_out_a_token(ready: tuple[Client, SignUp]) -> None:
    browser, signup = ready
    response = browser.get(f"/signup/{signup.public_id}/progress/")
    # The sign-up's browser reloads the page, which alone issues the one-time log-in.
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    assert not HandoffToken.objects.filter(signup=signup).exists()
    other = public_client().get(f"/signup/{signup.public_id}/progress/").content.decode()
    assert 'name="token"' not in other and "Go to the sign-in page" in other
