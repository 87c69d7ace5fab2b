from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clarion.ops.export import ExportError, export_site


class Command(BaseCommand):
    help = (
        "Write all content to DIR: posts as Markdown files with front matter (the format "
        "`clarion publish` reads) in DIR/posts, uploaded files in DIR/media, and everything "
        "else as JSON in DIR/data."
    )

    def add_arguments(self, parser):
        parser.add_argument("dir", help="A new or empty folder.")

    def handle(self, *args, dir, **options):
        try:
            summary = export_site(Path(dir))
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {summary['posts']} posts, {summary['media_files']} media files and "
                f"{len(summary['rows'])} tables of data to {dir}."
            )
        )
