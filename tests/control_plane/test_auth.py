"""Log-in, log-out, throttling with lockout, password reset by e-mail, language choice."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context

from control_plane.audit.models import AuditEvent
from control_plane.identity.models import User
from tests.conftest import PASSWORD, Workspace, workspace_client

pytestmark = pytest.mark.django_db


def test_login_shows_the_shell_with_cooperative_and_branch(alpha: Workspace) -> None:
    client = workspace_client(alpha, username=alpha.only_here)
    page = client.get("/").content.decode()
    assert "Alpha Cooperative" in page
    assert "Branch one" in page  # the field officer's home branch, in the header
    assert 'lang="bn"' in page  # the samity's default language


def test_anonymous_users_are_sent_to_log_in(alpha: Workspace) -> None:
    response = Client(HTTP_HOST=alpha.host).get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/"


def test_login_and_logout_are_audited_with_address_and_request_id(alpha: Workspace) -> None:
    client = Client(HTTP_HOST=alpha.host, REMOTE_ADDR="203.0.113.7")
    client.post(
        "/accounts/login/", {"username": alpha.admin, "password": PASSWORD}, HTTP_X_REQUEST_ID="req-123",
        HTTP_X_DEVICE_ID="phone-42",
    )  # fmt: skip
    client.post("/accounts/logout/")
    with tenant_context(alpha.cooperative()):
        login = AuditEvent.objects.filter(action="auth.login").latest("id")
        assert (login.actor_label, login.ip_address, login.request_id, login.device_id) == (
            alpha.admin, "203.0.113.7", "req-123", "phone-42",
        )  # fmt: skip
        assert AuditEvent.objects.filter(action="auth.logout", actor_label=alpha.admin).exists()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_out(alpha: Workspace) -> None:
    client = Client(HTTP_HOST=alpha.host, REMOTE_ADDR="198.51.100.9")
    for _attempt in range(5):
        response = client.post("/accounts/login/", {"username": alpha.only_here, "password": "wrong"})
    assert response.status_code == 429
    # Locked: even the right password is refused now.
    response = client.post("/accounts/login/", {"username": alpha.only_here, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_in_one_workspace_does_not_lock_the_other(alpha: Workspace, beta: Workspace) -> None:
    for _attempt in range(5):
        Client(HTTP_HOST=alpha.host, REMOTE_ADDR="198.51.100.10").post(
            "/accounts/login/", {"username": "auditor", "password": "wrong"}
        )
    beta_client = Client(HTTP_HOST=beta.host, REMOTE_ADDR="198.51.100.10")
    response = beta_client.post("/accounts/login/", {"username": "auditor", "password": PASSWORD})
    assert response.status_code == 302


def test_password_reset_by_email_on_the_workspace_host(alpha: Workspace) -> None:
    client = Client(HTTP_HOST=alpha.host)
    response = client.post("/accounts/password-reset/", {"email": f"admin@{alpha.host}"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://alpha\.localhost(/accounts/reset/\S+/)", mail.outbox[0].body)
    assert link is not None, mail.outbox[0].body
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-password-9", "new_password2": "a-new-long-password-9"},
    )
    assert done.status_code == 302
    with tenant_context(alpha.cooperative()):
        assert User.objects.get(username=alpha.admin).check_password("a-new-long-password-9")


def test_password_reset_for_another_workspaces_address_sends_nothing(
    alpha: Workspace, beta: Workspace
) -> None:
    Client(HTTP_HOST=beta.host).post("/accounts/password-reset/", {"email": f"admin@{alpha.host}"})
    assert mail.outbox == []


@pytest.mark.parametrize("language", ["en", "bn", "vi", "th"])
def test_language_switch_translates_the_shell(alpha: Workspace, language: str) -> None:
    client = workspace_client(alpha, username=alpha.admin)
    response = client.post("/language/", {"language": language, "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert f'lang="{language}"' in page
    with translation.override(language):
        expected = translation.gettext("Dashboard")
    assert f"<h1>{expected}</h1>" in page
    if language != "en":
        assert expected != "Dashboard", f"no {language} translation compiled for the shell"
    with tenant_context(alpha.cooperative()):
        assert User.objects.get(username=alpha.admin).language == language


def test_language_switch_refuses_unknown_languages_and_foreign_redirects(alpha: Workspace) -> None:
    client = Client(HTTP_HOST=alpha.host)
    assert client.post("/language/", {"language": "xx"}).status_code == 400
    response = client.post("/language/", {"language": "vi", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(alpha: Workspace) -> None:
    """With no TLS proxy configured, X-Forwarded-For is the client's own claim and is ignored."""
    for attempt in range(6):
        response = Client(HTTP_HOST=alpha.host, REMOTE_ADDR="198.51.100.20").post(
            "/accounts/login/",
            {"username": "auditor", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}",
        )
    assert response.status_code == 429
