from pathlib import Path

from django.core.management.base import CommandError

from clarion.lib.commands import FileCommand
from clarion.ops.backup import BackupError, create_backup


class Command(FileCommand):
    help = (
        "Write one archive (FILE, e.g. site.tar.gz) with the database, uploaded media and a "
        "manifest of checksums and counts, and the secret key that signs the links in "
        "emails (so the archive is readable by its owner only). Safe while the site runs."
    )
    argument_help = "Where to write the archive."
    refusals = (BackupError,)

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            # Exit status 2 for a refusal, as for bad input to any Clarion command.
            raise CommandError(str(exc), returncode=2) from None

    def handle(self, *args, file, **options):
        manifest = create_backup(Path(file))
        counts = manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {file}: {counts['posts']} posts, "
                f"{counts['subscribers'] if counts['subscribers'] is not None else 'no'} "
                f"subscribers, {sum(1 for n in manifest['files'] if n.startswith('media/'))} "
                "media files."
            )
        )
        self.stdout.write("It holds the site's secret key: keep it as private as the site itself.")
