"""Background work of field collection, per workspace."""

from __future__ import annotations

from celery import shared_task

from field.services import field_records_post_queued


@shared_task(name="field.tasks.field_queued_post", ignore_result=True)
def field_queued_post() -> dict[str, int]:
    """Post what phones synced while the workspace was read-only, once it may post again.

    Beat runs it in every live workspace every few minutes; in a read-only one, or with nothing
    queued, it reads one flag and one index and does nothing.
    """
    return field_records_post_queued()
