"""The shape of Clarion's commands that work on one file or folder (`clarion backup FILE`,
`clarion import wordpress FILE`, …): the argument, the errors that are refusals, and the
console they print tables and progress to."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console


class FileCommand(BaseCommand):
    """A subclass names its argument (``argument``: the name handle() receives it by) and
    adds its own options in ``add_options``. Its ``refusals`` are the errors that mean the
    file or the site said no (a damaged archive, a site that is not empty): the command
    ends with their one-line message, ``refused()``, and no traceback."""

    argument = "file"
    argument_help: str | None = None
    argument_metavar: str | None = None
    refusals: tuple[type[Exception], ...] = ()

    def add_arguments(self, parser):
        parser.add_argument(self.argument, metavar=self.argument_metavar, help=self.argument_help)
        self.add_options(parser)

    def add_options(self, parser) -> None:
        """The command's own options, after its argument."""

    def refused(self, exc: Exception, options: dict) -> str:
        return str(exc)

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except self.refusals as exc:
            raise CommandError(self.refused(exc, options)) from None

    def console(self) -> Console:
        """Rich output to the command's stdout (plain text when that is not a terminal)."""
        return Console(file=self.stdout, highlight=False, soft_wrap=True)
