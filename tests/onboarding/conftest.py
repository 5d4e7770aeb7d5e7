from typing import Any

import pytest

from tests.billing.stripe_support import admin_user, eager_celery, localstripe, localstripe_url, stripe_fake

__all__ = ["admin_user", "eager_celery", "localstripe", "localstripe_url", "stripe_fake"]


@pytest.fixture(autouse=True)
def no_signup_rate_limits(settings: Any) -> None:
    """The counters live in Redis across tests and runs; test_signup_rate_limits turns them on."""
    settings.SIGNUP_RATE = ""
    settings.SIGNUP_SLUG_CHECK_RATE = ""
