from pathlib import Path

from clarion.lib.commands import FileCommand
from clarion.ops.backup import BackupError, create_backup


class Command(FileCommand):
    help = (
        "Write one archive (FILE, e.g. site.tar.gz) with the database, uploaded media and a "
        "manifest of checksums and counts. Safe while the site runs."
    )
    argument_help = "Where to write the archive."
    refusals = (BackupError,)

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
