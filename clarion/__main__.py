"""The ``clarion`` command: Clarion's own commands, each a Django management command.

``clarion import wordpress F`` runs ``import_wordpress``; ``clarion subscribers import F``
runs ``subscribers_import``; ``clarion manage ARGS`` runs any of Django's commands.

Before a command runs, the site it is pointed at is checked here, for every command at once
(docs/cli.md, "Which site a command works on"): a command that needs a site and finds none
says so in one line and exits with status 2 instead of creating an empty one, and so does
every problem with the data folder, the database or a URL setting.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

# Clarion's commands, as typed, with the management command each runs and one line of help.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "Apply migrations and serve the site (web processes and a worker)."),
    "worker": ("worker", "Run background work only: email, scheduled publishing, indexing."),
    "publish": ("publish", "Create or update posts from Markdown files with front matter."),
    "createadmin": ("createadmin", "Create an administrator account (sets up a new site)."),
    "backup": ("backup", "Write the database and uploaded files to one archive."),
    "restore": ("restore", "Restore an archive made by `clarion backup` into this site."),
    "export": ("export", "Write all content to a folder as Markdown, media and JSON."),
    "import wordpress": ("import_wordpress", "Import a WordPress export (WXR file)."),
    "subscribers import": ("subscribers_import", "Import subscribers from a CSV file."),
    "subscribers export": ("subscribers_export", "Export subscribers with consent records."),
}
# The commands that may make a new site in an empty or missing folder. Every other command
# needs one that exists (restore into an empty folder is how a site moves to a new server).
CREATES_SITE = {"serve", "createadmin", "restore"}
GROUPS = {name.split()[0] for name in COMMANDS if " " in name}


class Refusal(Exception):
    """One line for stderr; the command ends with exit status 2."""


@dataclass
class Invocation:
    name: str  # as typed: "import wordpress"
    command: str  # the management command: "import_wordpress"
    args: list[str]

    @property
    def wants_help(self) -> bool:  # or --version: answered without looking at the site
        return any(a in {"-h", "--help", "--version"} for a in self.args)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("clarion")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def usage() -> str:
    width = max(len(name) for name in COMMANDS) + 2
    lines = [
        "usage: clarion COMMAND [ARGS]   (clarion COMMAND --help for its options)",
        "",
        "Commands:",
        *(f"  {name:<{width}}{text}" for name, (_, text) in COMMANDS.items()),
        f"  {'manage':<{width}}Run one of Django's commands (`clarion manage help` lists them).",
        "",
        "Options:",
        f"  {'--help':<{width}}Show this list.",
        f"  {'--version':<{width}}Show Clarion's version.",
    ]
    return "\n".join(lines) + "\n"


def group_usage(group: str) -> str:
    names = [name for name in COMMANDS if name.startswith(group + " ")]
    width = max(len(name) for name in names) + 2
    lines = [f"usage: clarion {group} SUB-COMMAND [ARGS]", "", "Sub-commands:"]
    lines += [f"  {name:<{width}}{COMMANDS[name][1]}" for name in names]
    return "\n".join(lines) + "\n"


def resolve(args: list[str]) -> Invocation:
    """The command ``args`` names; Refusal for one that does not exist."""
    first = args[0]
    if first in GROUPS:
        if len(args) < 2 or args[1].startswith("-"):
            raise Refusal(f"{first}: name a sub-command (see `clarion {first} --help`)")
        name = f"{first} {args[1]}"
        if name not in COMMANDS:
            known = ", ".join(n.split()[1] for n in COMMANDS if n.startswith(first + " "))
            raise Refusal(f"{first}: unknown sub-command {args[1]!r} (known: {known})")
        return Invocation(name, COMMANDS[name][0], args[2:])
    if first not in COMMANDS:
        raise Refusal(
            f"unknown command {first!r}: `clarion --help` lists Clarion's commands, "
            "`clarion manage help` Django's"
        )
    return Invocation(first, COMMANDS[first][0], args[1:])


def data_folder() -> Path:
    # As clarion.lib.config.data_dir() finds it, without creating it.
    from clarion.lib import config

    return Path(config.env("CLARION_DATA_DIR", "./clarion-data")).expanduser().resolve()


def check_data_folder(invocation: Invocation) -> None:
    """Before the settings are read (reading them creates files in the folder)."""
    from clarion.lib import config

    folder = data_folder()
    try:
        exists = folder.stat() is not None
    except (FileNotFoundError, NotADirectoryError):
        exists = False
    except OSError as exc:
        raise Refusal(f"CLARION_DATA_DIR: cannot reach {folder}: {exc.strerror}") from None
    if exists and not folder.is_dir():
        raise Refusal(f"CLARION_DATA_DIR: {folder} is not a folder")
    if exists:
        try:
            os.listdir(folder)
        except OSError as exc:
            raise Refusal(f"CLARION_DATA_DIR: cannot read {folder}: {exc.strerror}") from None
        config.load_dotenv_file(folder)
    if invocation.name in CREATES_SITE:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Refusal(f"CLARION_DATA_DIR: cannot create {folder}: {exc.strerror}") from None
        return
    if config.env("DATABASE_URL"):
        return  # the database says whether there is a site: check_database()
    database = folder / "clarion.sqlite3"
    if not sqlite_holds_site(database):
        raise Refusal(no_site(str(folder)))


def sqlite_holds_site(path: Path) -> bool:
    """A SQLite site is a database file with Django's migrations table in it. Opened read
    only: asking must not create the file."""
    if not path.is_file():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()
    except sqlite3.Error as exc:
        raise Refusal(f"cannot read the database {path}: {exc}") from None
    return row is not None


def no_site(where: str) -> str:
    return (
        f"no Clarion site at {where}: start one with `clarion serve` or `clarion createadmin`, "
        "or point CLARION_DATA_DIR (or DATABASE_URL) at an existing site"
    )


def setup() -> None:
    """django.setup(), with a problem in the settings as one line."""
    import django

    try:
        django.setup()
    except SystemExit as exc:
        # clarion.settings and clarion.lib.config end with SystemExit("SETTING: what is wrong").
        if isinstance(exc.code, str):
            raise Refusal(exc.code) from None
        raise
    except OSError as exc:
        # A file the settings create or read: the secret key, the outbox, a *_FILE secret.
        where = f" {exc.filename}" if exc.filename else " a file the settings name"
        raise Refusal(f"cannot use{where}: {exc.strerror or exc}") from None


def check_database(invocation: Invocation) -> None:
    """A database named by DATABASE_URL answers, and holds a site unless the command may
    make one."""
    from django.conf import settings
    from django.db import connection

    from clarion.lib import config

    if not config.env("DATABASE_URL"):
        return
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        where = str(db["NAME"])
        if invocation.name not in CREATES_SITE and not sqlite_holds_site(Path(where)):
            raise Refusal(no_site(where))
        return
    where = f"{connection.vendor} database {db.get('NAME')!r} on {db.get('HOST') or 'localhost'}"
    if db.get("PORT"):
        where += f":{db['PORT']}"
    try:
        connection.ensure_connection()
        tables = connection.introspection.table_names()
    except Exception as exc:  # every driver's error: the point is to name it in one line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if db.get("PASSWORD"):
            reason = reason.replace(str(db["PASSWORD"]), "***")
        raise Refusal(f"DATABASE_URL: cannot connect to the {where}: {reason}") from None
    finally:
        connection.close()
    if invocation.name not in CREATES_SITE and "django_migrations" not in tables:
        raise Refusal(no_site(f"the {where}"))


def run(argv: list[str]) -> None:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        sys.stdout.write(usage())
        return
    if argv[0] == "--version":
        sys.stdout.write(f"clarion {version()}\n")
        return
    if argv[0] in GROUPS and (len(argv) == 1 or argv[1] in {"-h", "--help", "help"}):
        sys.stdout.write(group_usage(argv[0]))
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clarion.settings")
    if argv[0] == "manage":
        # Django's own commands, as Django runs them (no site check: migrate and shell work
        # on any folder).
        setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["clarion manage", *argv[1:]])
        return
    invocation = resolve(argv)
    if not invocation.wants_help:
        check_data_folder(invocation)
    setup()
    if not invocation.wants_help:
        check_database(invocation)
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()[invocation.command], invocation.command)
    command.get_version = version  # `clarion publish --version`: Clarion's, not Django's
    prog, _, sub = f"clarion {invocation.name}".rpartition(" ")
    command.run_from_argv([prog, sub, *invocation.args])


def main() -> None:
    try:
        run(sys.argv[1:])
    except Refusal as exc:
        sys.stderr.write(f"clarion: {exc}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
