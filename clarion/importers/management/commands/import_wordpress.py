from pathlib import Path

from django.core.management.base import CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clarion.importers.load import KINDS, OUTCOMES, ImportFailed, import_wordpress
from clarion.importers.wordpress import WXRError
from clarion.lib.commands import FileCommand
from clarion.lib.planner import refresh_planner_statistics


class Command(FileCommand):
    help = (
        "Import a WordPress export (WXR, from Tools → Export): posts, pages, categories, "
        "tags, authors and media, with redirects from every old address. Safe to run again."
    )

    argument = "export"
    argument_help = "the WXR file (.xml) WordPress exported"
    refusals = (WXRError, ImportFailed)

    def add_options(self, parser):
        parser.add_argument(
            "--uploads",
            metavar="DIR",
            help="a local copy of the site's wp-content/uploads folder, to import media from",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="do everything in a transaction, print what would change, then roll it back",
        )

    def handle(self, *args, export, uploads=None, dry_run=False, **options):
        path = Path(export)
        if not path.is_file():
            raise CommandError(f"{export}: no such file")
        uploads_dir = Path(uploads) if uploads else None
        if uploads_dir is not None and not uploads_dir.is_dir():
            raise CommandError(f"--uploads {uploads}: no such folder")
        console = self.console()
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        tasks = {}

        def report(stage, done, total):
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        with progress:
            summary = import_wordpress(path, uploads=uploads_dir, dry_run=dry_run, progress=report)
        if not dry_run:
            # A site that grew by thousands of posts at once: without fresh statistics
            # SQLite sorts every post for the home page until the worker's hourly refresh.
            refresh_planner_statistics(force=True)
        self.print_summary(console, summary)

    def refused(self, exc, options):
        return f"{options['export']}: {exc}. Nothing was imported."

    def print_summary(self, console, summary):
        title = "Dry run: what the import would do" if summary.dry_run else "WordPress import"
        table = Table(title=title)
        table.add_column("")
        for outcome in OUTCOMES:
            table.add_column(outcome, justify="right")
        for kind in KINDS:
            counts = summary.counts[kind]
            table.add_row(kind, *[str(counts[o]) for o in OUTCOMES])
        console.print(table)
        for reason, count in summary.note_counts.items():
            shown = summary.notes.get(reason, [])
            more = f" and {count - len(shown)} more" if shown and count > len(shown) else ""
            detail = f": {'; '.join(shown)}{more}" if shown else ""
            console.print(f"- {reason} ({count}){detail}", markup=False)
        if summary.dry_run:
            console.print("Dry run: nothing was written.")
