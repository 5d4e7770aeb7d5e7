"""Two cooperatives side by side: nothing of one is reachable from the other."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from control_plane.identity.models import User
from tests.conftest import ALPHA, BETA, PASSWORD, Workspace, workspace_client

pytestmark = pytest.mark.django_db


def test_each_workspace_sees_only_its_own_people(alpha: Workspace, beta: Workspace) -> None:
    with tenant_context(alpha.cooperative()):
        alpha_names = set(User.objects.values_list("username", flat=True))
    with tenant_context(beta.cooperative()):
        beta_names = set(User.objects.values_list("username", flat=True))
    assert ALPHA.only_here in alpha_names and ALPHA.only_here not in beta_names
    assert BETA.only_here in beta_names and BETA.only_here not in alpha_names


def test_a_user_of_one_workspace_cannot_log_in_to_the_other(alpha: Workspace, beta: Workspace) -> None:
    client = Client(HTTP_HOST=beta.host)
    response = client.post("/accounts/login/", {"username": alpha.only_here, "password": PASSWORD})
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session


def test_a_session_cookie_is_worthless_on_another_workspace(alpha: Workspace, beta: Workspace) -> None:
    alpha_client = workspace_client(alpha, username=alpha.admin)
    assert alpha_client.get("/staff/").status_code == 200
    cookie = alpha_client.cookies["sessionid"].value

    # The same cookie, sent to beta's host (a forged Host header or a copied cookie).
    forged = Client(HTTP_HOST=beta.host)
    forged.cookies["sessionid"] = cookie
    response = forged.get("/staff/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    api = forged.get("/api/v1/me/")
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "not_authenticated"


def test_forged_host_header_on_a_logged_in_client_shows_nothing_of_the_other(
    alpha: Workspace, beta: Workspace
) -> None:
    client = workspace_client(alpha, username=alpha.admin)
    response = client.get("/staff/", HTTP_HOST=beta.host)
    assert response.status_code == 302
    assert BETA.only_here.encode() not in response.content


def test_staff_pages_list_only_this_workspaces_staff(alpha: Workspace) -> None:
    body = workspace_client(alpha, username=alpha.admin).get("/staff/").content.decode()
    assert ALPHA.only_here in body
    assert BETA.only_here not in body and BETA.admin not in body


def test_session_cookies_are_host_only(alpha: Workspace) -> None:
    client = workspace_client(alpha, username=alpha.admin)
    assert client.cookies["sessionid"]["domain"] == ""


@pytest.mark.parametrize("host", ["nobody.localhost", "alpha.evil.example"])
def test_unknown_hosts_get_404_not_another_workspace(db: None, host: str) -> None:
    response = Client(HTTP_HOST=host).get("/accounts/login/")
    assert response.status_code in {400, 404}
    assert b"Alpha Cooperative" not in response.content


def test_the_bare_domain_is_the_public_site(db: None) -> None:
    response = Client(HTTP_HOST="localhost").get("/")
    assert response.status_code == 200
    assert b"workspace" in response.content
    # Workspace pages do not exist on the bare domain.
    assert Client(HTTP_HOST="localhost").get("/staff/").status_code == 404


def test_public_site_finds_a_workspace_by_subdomain(db: None) -> None:
    response = Client(HTTP_HOST="localhost").get("/", {"workspace": "alpha"})
    assert response.status_code == 302 and response["Location"] == "http://alpha.localhost:8000/"
    bad = Client(HTTP_HOST="localhost").get("/", {"workspace": "http://evil.example/"})
    assert bad.status_code == 200 and b'aria-invalid="true"' in bad.content


def test_the_template_is_never_served_even_with_a_domain(db: None) -> None:
    from tenants.models import Cooperative, Domain

    template = Cooperative.objects.get(is_template=True)
    Domain.objects.create(domain="workspace-template.localhost", tenant=template, is_primary=True)
    response = Client(HTTP_HOST="workspace-template.localhost").get("/accounts/login/")
    assert response.status_code == 404


def test_a_closed_cooperatives_workspace_is_gone(alpha: Workspace) -> None:
    from tenants.models import Lifecycle

    client = workspace_client(alpha, username=alpha.admin)
    cooperative = alpha.cooperative()
    cooperative.lifecycle = Lifecycle.CLOSED
    cooperative.save(update_fields=["lifecycle"])
    assert client.get("/").status_code == 404
    assert Client(HTTP_HOST=alpha.host).get("/accounts/login/").status_code == 404
