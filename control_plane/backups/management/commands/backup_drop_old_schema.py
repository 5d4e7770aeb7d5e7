from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from control_plane.backups.management.commands._progress import cooperative_named, refused
from control_plane.backups.services import backup_old_schema_drop
from control_plane.errors import BusinessRuleViolation


class Command(BaseCommand):
    help = "Drop the previous schema a restore of the cooperative kept (see `backup_list <slug>`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the cooperative's subdomain")
        parser.add_argument("schema", help="the kept schema's name, e.g. coop_rupali_old_202611250314")

    def handle(self, *args: Any, **options: Any) -> None:
        cooperative = cooperative_named(options["slug"])
        try:
            backup_old_schema_drop(cooperative=cooperative, schema_name=options["schema"], actor=None)
        except BusinessRuleViolation as exc:
            raise refused(exc) from exc
        self.stdout.write(self.style.SUCCESS(f"Dropped {options['schema']}."))
