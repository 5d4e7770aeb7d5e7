"""Helpers of the savings and shares page tests: a signed-in browser, a money form's key."""

from __future__ import annotations

import re

from django.conf import settings
from django.test import Client

from tests.conftest import ALPHA, workspace_client

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def client_for(username: str, *, language: str = "en") -> Client:
    """A browser signed in to alpha as ``username``, reading the pages in ``language``."""
    client = workspace_client(ALPHA, username=username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def form_key(client: Client, url: str) -> str:
    """Open a money form and return the idempotency key it was rendered with."""
    page = client.get(url)
    assert page.status_code == 200, page.content.decode()[:500]
    found = KEY.search(page.content.decode())
    assert found, "the form carries no idempotency key"
    return found.group(1)
