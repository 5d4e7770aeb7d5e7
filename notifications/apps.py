from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        # The workspace's own SMS texts and reminder settings live in their own module, and the
        # reminders' Celery task in its own (notifications.tasks is the relay's).
        from notifications import reminder_tasks, templates_models  # noqa: F401
