from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clarion.ops.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Write one archive (FILE, e.g. site.tar.gz) with the database, uploaded media and a "
        "manifest of checksums and counts. Safe while the site runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the archive.")

    def handle(self, *args, file, **options):
        try:
            manifest = create_backup(Path(file))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        counts = manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {file}: {counts['posts']} posts, "
                f"{counts['subscribers'] if counts['subscribers'] is not None else 'no'} "
                f"subscribers, {sum(1 for n in manifest['files'] if n.startswith('media/'))} "
                "media files."
            )
        )
