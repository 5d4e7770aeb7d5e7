from typing import Any

from django.core.management.base import BaseCommand

from tenants.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo cooperatives (idempotent: running it again changes nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        for cooperative in load_demo():
            self.stdout.write(f"Demo ready: {cooperative.name} ({cooperative.slug})")
