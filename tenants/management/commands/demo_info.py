from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tenants.demo import DEMO_COOPERATIVES, DEMO_PASSWORD
from tenants.services import domain_for


class Command(BaseCommand):
    help = "Print the demo's URLs and log-ins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        self.stdout.write(f"Public site:   http://localhost:{port}/")
        self.stdout.write(f"Health:        http://localhost:{port}/healthz")
        for demo in DEMO_COOPERATIVES:
            self.stdout.write(f"\n{demo.spec.name}")
            self.stdout.write(f"  Workspace:   http://{domain_for(demo.spec.slug)}:{port}/")
            people = ["admin (cooperative admin)"] + [
                f"{person.username} ({', '.join(role.value for role in person.roles)})"
                for person in demo.staff
            ]
            self.stdout.write(f"  Log-ins:     {'; '.join(people)}")
            self.stdout.write(f"  Password:    {DEMO_PASSWORD} (every demo user)")
