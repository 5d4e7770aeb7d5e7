from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from control_plane.backups.management.commands._progress import cooperative_named
from control_plane.backups.selectors import backups_for, retired_schemas


class Command(BaseCommand):
    help = "List a cooperative's backups (newest first) and the previous schemas restores kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the cooperative's subdomain")
        parser.add_argument("--limit", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        cooperative = cooperative_named(options["slug"])
        self.stdout.write(f"Backups of {cooperative.slug} (schema {cooperative.schema_name}):")
        self.stdout.write(f"{'id':>7}  {'taken (UTC)':16}  {'kind':11}  {'status':9}  {'size':>13}  lines")
        for backup in backups_for(cooperative)[: options["limit"]]:
            taken = f"{backup.started_at or backup.created_at:%Y-%m-%d %H:%M}"
            status = "pruned" if backup.pruned_at else backup.status
            size = f"{backup.size_bytes:,}" if backup.size_bytes is not None else "-"
            lines = f"{backup.journal_lines:,}" if backup.journal_lines is not None else "-"
            self.stdout.write(
                f"{backup.pk:>7}  {taken:16}  {backup.kind:11}  {status:9}  {size:>13}  {lines}"
            )
            if backup.error:
                self.stdout.write(f"         error: {backup.error[:200]}")
        kept = list(retired_schemas(cooperative))
        if kept:
            self.stdout.write("Previous schemas kept by restores (drop with backup_drop_old_schema):")
            for restore in kept:
                self.stdout.write(
                    f"  {restore.retired_schema}  (restore {restore.pk}, {restore.swapped_at:%Y-%m-%d %H:%M})"
                )
