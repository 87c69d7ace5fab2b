"""``clarion subscribers import FILE.csv``"""

from django.core.management.base import CommandError
from django.db import transaction
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from clarion.lib.commands import FileCommand
from clarion.newsletter import csvimport, services, tasks


class Command(FileCommand):
    help = (
        "Import subscribers from a CSV file (Jetpack/WordPress.com, Ghost, Substack or "
        "Clarion exports are recognised by their headers), keeping their original "
        "subscription dates. New addresses are sent a confirmation email unless --confirmed. "
        "All or nothing: one transaction."
    )

    argument_metavar = "FILE.csv"

    def add_options(self, parser):
        parser.add_argument(
            "--confirmed",
            action="store_true",
            help="The addresses already opted in elsewhere: make them active without "
            "a confirmation email (recorded in each consent record).",
        )
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=HEADER",
            help="Which column holds a field, e.g. --column email=Email --column "
            "date=Joined (fields: email, date, status).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be imported; change nothing."
        )

    def handle(self, *args, file, confirmed, column, dry_run, **options):
        console = self.console()
        try:
            parsed = csvimport.parse(file, csvimport.parse_overrides(column))
        except csvimport.ImportError_ as exc:
            raise CommandError(str(exc)) from None
        mapping = ", ".join(f"{k}={v}" for k, v in parsed.columns.items())
        console.print(
            f"{file}: {parsed.format} format, {len(parsed.rows)} addresses"
            f"{f', {parsed.duplicates} repeated rows skipped' if parsed.duplicates else ''}"
            f" (columns: {mapping})"
        )
        if dry_run:
            table = Table("line", "email", "subscribed", "status on import")
            for row in parsed.rows[:10]:
                status = row.stopped or ("confirmed" if confirmed else "pending")
                table.add_row(
                    str(row.line),
                    row.email,
                    row.subscribed_at.isoformat() if row.subscribed_at else "(today)",
                    status,
                )
            console.print(table)
            console.print("Dry run: nothing was changed.")
            return
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as progress:
            bar = progress.add_task("Importing", total=len(parsed.rows))
            with transaction.atomic():
                counts, pending = services.subscribers_import(
                    parsed=parsed,
                    confirmed=confirmed,
                    on_progress=lambda n: progress.advance(bar, n),
                )
                tasks.wake_subscriber_emails(pending, "confirm")
            progress.update(bar, completed=len(parsed.rows))
        console.print(
            f"Added {counts['added']} subscribers ({counts['stopped']} already unsubscribed at "
            f"the source); {counts['known']} were already here and were left unchanged; "
            f"{counts['to_confirm']} confirmation emails queued."
        )
