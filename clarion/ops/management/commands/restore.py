from pathlib import Path

from django.core.management.base import CommandError

from clarion.lib.commands import FileCommand
from clarion.ops.restore import RestoreError, restore_backup

KEY_OUTCOMES = {
    "installed": "The backup's secret key is installed: links in emails sent before the "
    "backup work here.",
    "same": "This site already has the backup's secret key.",
    "kept": "This site's own secret key was kept: links in emails sent before the backup "
    "will not work here.",
    "absent": "The backup holds no secret key: links in emails sent before it will not work here.",
}


class Command(FileCommand):
    help = (
        "Restore a backup made by `clarion backup` (from SQLite or PostgreSQL) into this "
        "site, with the secret key that signs the links in its emails. The archive is "
        "verified first; a site that is not empty is only replaced with --force."
    )

    argument_help = "The archive to restore."
    refusals = (RestoreError,)

    def add_options(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Replace this site's data even if it has some."
        )
        key = parser.add_mutually_exclusive_group()
        key.add_argument(
            "--replace-secret-key",
            dest="secret_key",
            action="store_const",
            const="replace",
            default="",
            help="Replace this data folder's secret key with the backup's even though the "
            "site here is not empty.",
        )
        key.add_argument(
            "--keep-secret-key",
            dest="secret_key",
            action="store_const",
            const="keep",
            help="Keep this site's secret key (links in emails sent before the backup then "
            "stop working).",
        )

    def refused(self, exc, options):
        return f"Restore refused: {exc}"

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            # Exit status 2 for a refusal, as for bad input to any Clarion command.
            raise CommandError(str(exc), returncode=2) from None

    def handle(self, *args, file, force, secret_key, **options):
        manifest = restore_backup(Path(file), force=force, secret_key=secret_key)
        counts = manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {file} (taken {manifest['created_at']}): {counts.get('posts')} "
                f"posts, {counts.get('subscribers') or 0} subscribers."
            )
        )
        self.stdout.write(KEY_OUTCOMES[manifest["secret_key"]])
