from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from control_plane.backups.errors import BackupRefused
from control_plane.backups.management.commands._progress import cooperative_named
from control_plane.backups.models import RunStatus
from control_plane.backups.services import restore_drill
from tenants.models import Cooperative


class Command(BaseCommand):
    help = (
        "Restore drill: restore each cooperative's latest backup into a scratch schema, check its row "
        "counts and ledger hash chain, drop it. Exits non-zero if any drill fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="cooperatives to drill (default: every live one)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["slugs"]:
            cooperatives = [cooperative_named(slug) for slug in options["slugs"]]
        else:
            cooperatives = list(Cooperative.objects.live().order_by("slug"))
        failed = []
        for cooperative in cooperatives:
            try:
                restore = restore_drill(cooperative=cooperative)
            except BackupRefused as exc:
                failed.append(cooperative.slug)
                self.stderr.write(f"{cooperative.slug}: not drilled: {exc.message}")
                continue
            if restore.status == RunStatus.SUCCEEDED:
                backup = restore.backup
                taken = f"{backup.started_at:%Y-%m-%d %H:%M} UTC" if backup and backup.started_at else "-"
                self.stdout.write(f"{cooperative.slug}: ok (backup {restore.backup_id} of {taken})")
            else:
                failed.append(cooperative.slug)
                self.stderr.write(f"{cooperative.slug}: FAILED: {restore.error}")
        if failed:
            raise CommandError(
                f"Restore drill failed for {len(failed)} of {len(cooperatives)}: {', '.join(failed)}"
            )
        self.stdout.write(self.style.SUCCESS(f"Restore drill passed for {len(cooperatives)} cooperatives."))
