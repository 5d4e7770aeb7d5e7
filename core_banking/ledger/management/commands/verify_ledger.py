from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from core_banking.ledger.services import ledger_verify
from tenants.models import Cooperative


class Command(BaseCommand):
    help = (
        "Check a cooperative's journal: every entry's content hash and the hash chain. Names the first break."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the cooperative's subdomain")

    def handle(self, *args: Any, **options: Any) -> None:
        cooperative = Cooperative.objects.live().filter(slug=options["slug"]).first()
        if cooperative is None:
            raise CommandError(f"No cooperative {options['slug']!r}.")
        with tenant_context(cooperative):
            report = ledger_verify()
        if report.reason:
            where = (
                f"entry {report.first_broken_entry_id}" if report.first_broken_entry_id else "the chain head"
            )
            raise CommandError(
                f"Ledger of {cooperative.slug} is broken at {where}: {report.reason} "
                f"({report.entries_checked} entries before it are intact)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Ledger of {cooperative.slug}: {report.entries_checked} entries intact.")
        )
