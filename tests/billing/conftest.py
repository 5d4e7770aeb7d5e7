from tests.billing.stripe_support import admin_user, eager_celery, localstripe, localstripe_url, stripe_fake

__all__ = ["admin_user", "eager_celery", "localstripe", "localstripe_url", "stripe_fake"]
