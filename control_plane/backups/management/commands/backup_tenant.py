from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from control_plane.backups.management.commands._progress import cooperative_named, printer, refused
from control_plane.backups.models import BackupKind, RunStatus
from control_plane.backups.services import backup_create, backup_run
from control_plane.errors import BusinessRuleViolation


class Command(BaseCommand):
    help = "Back up one cooperative's workspace now, in this process, showing progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the cooperative's subdomain")

    def handle(self, *args: Any, **options: Any) -> None:
        cooperative = cooperative_named(options["slug"])
        try:
            backup = backup_create(cooperative=cooperative, actor=None, kind=BackupKind.ON_DEMAND)
        except BusinessRuleViolation as exc:
            raise refused(exc) from exc
        self.stdout.write(f"Backup {backup.pk} of {cooperative.slug} ({backup.schema_name}):")
        backup = backup_run(backup_id=backup.pk, on_progress=printer(self.stdout))
        if backup.status != RunStatus.SUCCEEDED:
            raise CommandError(f"Backup {backup.pk} of {cooperative.slug} failed: {backup.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup {backup.pk} stored: {backup.storage_key} ({backup.size_bytes:,} bytes, "
                f"SHA-256 {backup.sha256}, {backup.journal_lines:,} journal lines)."
            )
        )
