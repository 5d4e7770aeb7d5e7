"""CoopCore control plane: the Django project, vendor operations, audit and health.

Named ``control_plane`` rather than ``platform``: a top-level ``platform`` package
would shadow Python's standard ``platform`` module that Django, Celery, uuid,
stripe, sentry-sdk and twilio import.
"""

from control_plane.celery import app as celery_app

__all__ = ["celery_app"]
