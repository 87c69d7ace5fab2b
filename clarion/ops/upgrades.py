"""Deciding whether `clarion serve` may bring the database up to date by itself.

- A database that has migrations this code does not know was used by a newer Clarion:
  refuse to start (running old code on it could corrupt it).
- A new, empty database is migrated.
- Otherwise pending migrations run after a snapshot of the database is taken into
  CLARION_BACKUP_DIR (SQLite's backup API, or pg_dump when it is installed), unless one of
  them drops data (a removed field or model, raw SQL), which needs `--migrate`.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations import operations
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from .jobs import refresh_planner_statistics

log = logging.getLogger(__name__)

DESTRUCTIVE = (
    operations.RemoveField,
    operations.DeleteModel,
    operations.RunSQL,
)


class UpgradeRefused(Exception):
    pass


def unknown_migrations(executor: MigrationExecutor) -> list[str]:
    """Applied migrations of installed apps that this code has never heard of."""
    loader = executor.loader
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces)
    installed = loader.migrated_apps
    applied = executor.recorder.applied_migrations()
    return sorted(f"{a}.{n}" for a, n in applied if a in installed and (a, n) not in known)


def destructive_steps(plan) -> list[str]:
    steps = []
    for migration, backwards in plan:
        for op in migration.operations:
            if backwards or isinstance(op, DESTRUCTIVE):
                steps.append(f"{migration.app_label}.{migration.name}: {op.describe()}")
    return steps


def prepare_database(*, allow_destructive: bool = False, using: str = "default") -> str:
    """Bring the database up to date if that is safe; return what was done."""
    connection = connections[using]
    executor = MigrationExecutor(connection)
    newer = unknown_migrations(executor)
    if newer:
        raise UpgradeRefused(
            "This database was last used by a newer version of Clarion: it has migrations "
            f"this version does not know ({', '.join(newer[:5])}"
            f"{', …' if len(newer) > 5 else ''}). Install that version or a later one; "
            "see docs/upgrading.md."
        )
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        refresh_planner_statistics(force=True, using=using)
        return "Database is up to date."
    if not executor.recorder.applied_migrations():
        call_command("migrate", interactive=False, verbosity=0, database=using)
        return "New database created."
    steps = destructive_steps(plan)
    if steps and not allow_destructive:
        raise UpgradeRefused(
            "Pending migrations would remove data:\n  "
            + "\n  ".join(steps)
            + "\nTake a backup (clarion backup FILE), then start with `clarion serve "
            "--migrate` or run `clarion manage migrate`; see docs/upgrading.md."
        )
    snapshot = snapshot_database(using)
    call_command("migrate", interactive=False, verbosity=0, database=using)
    refresh_planner_statistics(force=True, using=using)
    names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan)
    log.info("applied migrations: %s", names)
    where = f"; the database as it was is in {snapshot}" if snapshot else ""
    return f"Applied {len(plan)} migrations ({names}){where}."


def snapshot_database(using: str = "default") -> Path | None:
    """Copy the database as it is into CLARION_BACKUP_DIR before an upgrade."""
    folder = Path(settings.CLARION_BACKUP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    connection = connections[using]
    if connection.vendor == "sqlite":
        path = folder / f"pre-upgrade-{stamp}.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return path
    if connection.vendor == "postgresql" and shutil.which("pg_dump"):
        db = connection.settings_dict
        path = folder / f"pre-upgrade-{stamp}.pgdump"
        env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
        args = ["pg_dump", "--format=custom", f"--file={path}", "--dbname", db["NAME"]]
        if db.get("HOST"):
            args += ["--host", db["HOST"]]
        if db.get("PORT"):
            args += ["--port", str(db["PORT"])]
        if db.get("USER"):
            args += ["--username", db["USER"]]
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
        if result.returncode != 0:
            raise UpgradeRefused(
                f"pg_dump failed before upgrading ({result.stderr.strip()[:300]}); "
                "the database was not changed"
            )
        return path
    log.warning("no pg_dump on PATH: upgrading without a snapshot (take backups yourself)")
    return None
