from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from field.services import field_records_post_queued
from tenants.models import Cooperative


class Command(BaseCommand):
    help = (
        "Post the field collections a cooperative received while its workspace was read-only (status "
        "queued), oldest first. Does nothing while the workspace is still read-only; running it again "
        "posts nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the cooperative's subdomain")

    def handle(self, *args: Any, **options: Any) -> None:
        cooperative = Cooperative.objects.live().filter(slug=options["slug"]).first()
        if cooperative is None:
            raise CommandError(f"No cooperative {options['slug']!r}.")
        with tenant_context(cooperative):
            counts = field_records_post_queued()
        self.stdout.write(
            f"{cooperative.slug}: {counts['created']} posted, {counts['needs_review']} left for review."
        )
