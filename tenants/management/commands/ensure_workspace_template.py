from typing import Any

from django.core.management.base import BaseCommand

from tenants.services import template_ensure, template_missing_migrations


class Command(BaseCommand):
    help = "Create the workspace template schema new cooperatives are cloned from, and migrate it."

    def handle(self, *args: Any, **options: Any) -> None:
        template_ensure(verbosity=max(0, options["verbosity"] - 1))
        missing = template_missing_migrations()
        self.stdout.write(
            self.style.SUCCESS(f"Workspace template is current ({len(missing or ())} missing).")
        )
