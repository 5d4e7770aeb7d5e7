from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from control_plane.backups.management.commands._progress import cooperative_named, printer, refused
from control_plane.backups.models import Backup, RunStatus
from control_plane.backups.services import restore_create, restore_run
from control_plane.errors import BusinessRuleViolation


class Command(BaseCommand):
    help = (
        "Restore a cooperative from one of its backups: backs up the current workspace, restores into a "
        "fresh schema, verifies it, then switches over. The previous schema is kept until dropped with "
        "`backup_drop_old_schema`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the cooperative's subdomain")
        parser.add_argument("backup_id", type=int, help="the backup's number (see `backup_list <slug>`)")

    def handle(self, *args: Any, **options: Any) -> None:
        cooperative = cooperative_named(options["slug"])
        backup = Backup.objects.filter(pk=options["backup_id"]).first()
        if backup is None:
            raise CommandError(f"No backup {options['backup_id']}.")
        try:
            restore = restore_create(backup=backup, actor=None, cooperative=cooperative)
        except BusinessRuleViolation as exc:
            raise refused(exc) from exc
        self.stdout.write(f"Restore {restore.pk} of {cooperative.slug} from backup {backup.pk}:")
        restore = restore_run(restore_id=restore.pk, on_progress=printer(self.stdout))
        if restore.status != RunStatus.SUCCEEDED:
            raise CommandError(
                f"Restore {restore.pk} of {cooperative.slug} failed; the workspace was not changed: "
                f"{restore.error}"
            )
        ledger = restore.checks.get("ledger", {})
        self.stdout.write(
            self.style.SUCCESS(
                f"{cooperative.slug} now runs on backup {backup.pk} (rows as recorded, "
                f"{ledger.get('entries_checked', 0):,} ledger entries chained)."
            )
        )
        if restore.retired_schema:
            self.stdout.write(
                f"The previous schema is kept as {restore.retired_schema}; drop it once satisfied: "
                f"manage.py backup_drop_old_schema {cooperative.slug} {restore.retired_schema}"
            )
