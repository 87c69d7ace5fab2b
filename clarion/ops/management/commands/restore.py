from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clarion.ops.restore import RestoreError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `clarion backup` (from SQLite or PostgreSQL) into this "
        "site. The archive is verified first; a site that is not empty is only replaced "
        "with --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The archive to restore.")
        parser.add_argument(
            "--force", action="store_true", help="Replace this site's data even if it has some."
        )

    def handle(self, *args, file, force, **options):
        try:
            manifest = restore_backup(Path(file), force=force)
        except RestoreError as exc:
            raise CommandError(f"Restore refused: {exc}") from None
        counts = manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {file} (taken {manifest['created_at']}): {counts.get('posts')} "
                f"posts, {counts.get('subscribers') or 0} subscribers."
            )
        )
