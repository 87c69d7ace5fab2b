import time

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from clarion.search.backends import get_search_backend, load_backend


class Command(BaseCommand):
    help = "Rebuild the site search index from the posts, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Posts read and indexed per batch."
        )

    def handle(self, *args, batch_size, **options):
        # Rebuilding is what creates a missing SQLite index table, so do not let the
        # missing table choose the plain fallback here.
        backend = load_backend(rebuilding=True)
        console = Console(file=self.stdout, stderr=False)
        columns = (
            TextColumn("Indexing posts"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        started = time.monotonic()
        with Progress(*columns, console=console, transient=not console.is_terminal) as bar:
            job = bar.add_task("index", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(job, completed=done, total=total)

            count = backend.rebuild(progress=progress, batch_size=max(1, batch_size))
        get_search_backend.cache_clear()
        elapsed = time.monotonic() - started
        noun = "post" if count == 1 else "posts"
        self.stdout.write(f"Indexed {count} {noun} with {backend.name} in {elapsed:.1f} s.")
