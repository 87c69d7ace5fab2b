from pathlib import Path

from clarion.lib.commands import FileCommand
from clarion.ops.export import ExportError, export_site


class Command(FileCommand):
    help = (
        "Write all content to DIR: posts as Markdown files with front matter (the format "
        "`clarion publish` reads) in DIR/posts, uploaded files in DIR/media, and everything "
        "else as JSON in DIR/data."
    )

    argument = "dir"
    argument_help = "A new or empty folder."
    refusals = (ExportError,)

    def handle(self, *args, dir, **options):
        summary = export_site(Path(dir))
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {summary['posts']} posts, {summary['media_files']} media files and "
                f"{len(summary['rows'])} tables of data to {dir}."
            )
        )
