from pathlib import Path

from clarion.lib.commands import FileCommand
from clarion.ops.restore import RestoreError, restore_backup


class Command(FileCommand):
    help = (
        "Restore a backup made by `clarion backup` (from SQLite or PostgreSQL) into this "
        "site. The archive is verified first; a site that is not empty is only replaced "
        "with --force."
    )

    argument_help = "The archive to restore."
    refusals = (RestoreError,)

    def add_options(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Replace this site's data even if it has some."
        )

    def refused(self, exc, options):
        return f"Restore refused: {exc}"

    def handle(self, *args, file, force, **options):
        manifest = restore_backup(Path(file), force=force)
        counts = manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {file} (taken {manifest['created_at']}): {counts.get('posts')} "
                f"posts, {counts.get('subscribers') or 0} subscribers."
            )
        )
