"""Taking backups: a consistent snapshot of the database plus the media folder."""

from __future__ import annotations

import copy
import fcntl
import logging
import re
import sqlite3
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from . import archive, sitedata

log = logging.getLogger(__name__)
SNAPSHOT_ALIAS = "clarion_backup_snapshot"


class BackupError(Exception):
    pass


def clarion_version() -> str:
    try:
        return version("clarion")
    except PackageNotFoundError:
        return "unknown"


@contextmanager
def _sqlite_snapshot(folder: Path, using: str):
    """Copy the live SQLite database with its online backup API (one step, so writers
    carry on and the copy is one consistent moment), then read the copy through a
    temporary connection alias."""
    copy_path = folder / archive.SQLITE
    connection = connections[using]
    connection.ensure_connection()
    target = sqlite3.connect(copy_path)
    try:
        with connection.wrap_database_errors:
            connection.connection.backup(target)
    finally:
        target.close()
    connections.settings[SNAPSHOT_ALIAS] = {
        **copy.deepcopy(connections.settings[using]),
        "NAME": str(copy_path),
        "TEST": {"NAME": str(copy_path)},
    }
    try:
        yield SNAPSHOT_ALIAS
    finally:
        connections[SNAPSHOT_ALIAS].close()
        del connections[SNAPSHOT_ALIAS]
        del connections.settings[SNAPSHOT_ALIAS]


@contextmanager
def _postgres_snapshot(using: str):
    """Read everything in one REPEATABLE READ transaction: one consistent moment, and
    writers are never blocked."""
    connection = connections[using]
    # Inside an enclosing transaction (tests), the snapshot is that transaction's.
    outer = connection.in_atomic_block
    with transaction.atomic(using=using):
        if not outer:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield using


def create_backup(path: Path, *, using: str = "default") -> dict:
    """Write a complete backup archive to ``path`` and return its manifest."""
    path = Path(path).expanduser().absolute()
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent}: no such folder")
    if path.is_dir():
        raise BackupError(f"{path}: is a folder; give a file name such as site.tar.gz")
    archive.remove_stale_partials(path)
    engine = connections[using].vendor
    models = sitedata.site_models()
    with tempfile.TemporaryDirectory(prefix=".clarion-backup-", dir=path.parent) as tmp:
        staging = Path(tmp)
        data_path = staging / archive.DATA
        if engine == "sqlite":
            with _sqlite_snapshot(staging, using) as alias:
                counts = sitedata.write_rows(data_path, models, alias)
                migrations = sitedata.applied_migrations(alias)
        elif engine == "postgresql":
            with _postgres_snapshot(using) as alias:
                counts = sitedata.write_rows(data_path, models, alias)
                migrations = sitedata.applied_migrations(alias)
        else:
            raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")
        writer = archive.ArchiveWriter(path)
        try:
            writer.add_file(archive.DATA, data_path)
            # What signs the confirm/unsubscribe links in emails already sent: without it a
            # restored site answers every one of them "bad link".
            writer.add_bytes(archive.SECRET_KEY, settings.SECRET_KEY.encode())
            if (staging / archive.SQLITE).exists():
                writer.add_file(archive.SQLITE, staging / archive.SQLITE)
            media_root = Path(settings.MEDIA_ROOT)
            for file in sitedata.media_files(media_root):
                rel = file.relative_to(media_root).as_posix()
                try:
                    writer.add_file(archive.MEDIA_PREFIX + rel, file)
                except FileNotFoundError:
                    continue  # deleted while the backup ran
            manifest = {
                "format": archive.FORMAT,
                "format_version": archive.FORMAT_VERSION,
                "clarion_version": clarion_version(),
                "created_at": timezone.now().isoformat(),
                "engine": engine,
                "migrations": migrations,
                "counts": sitedata.headline_counts(counts),
                "rows": dict(sorted(counts.items())),
            }
            writer.commit(manifest)
        except BaseException:
            writer.abort()
            raise
    log.info(
        "backup written: %s (%s posts, %s subscribers)",
        path.name,
        manifest["counts"]["posts"],
        manifest["counts"]["subscribers"],
    )
    return {**manifest, "files": writer.files}


_EVERY = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


def parse_every(text: str) -> timedelta | None:
    """``"24h"``, ``"30m"``, ``"7d"``; empty means off."""
    if not text.strip():
        return None
    match = _EVERY.match(text.lower())
    if not match or int(match.group(1)) == 0:
        raise BackupError(f"CLARION_BACKUP_EVERY: expected e.g. 24h, 30m or 7d, got {text!r}")
    n, unit = int(match.group(1)), match.group(2)
    return timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: n})


def run_scheduled_backup(now=None) -> Path | None:
    """Take a backup into CLARION_BACKUP_DIR when the newest is older than
    CLARION_BACKUP_EVERY, then keep only the newest CLARION_BACKUP_KEEP. Several workers
    may call this at once: a file lock lets one of them do it."""
    every = parse_every(settings.CLARION_BACKUP_EVERY or "")
    if every is None:
        return None
    folder = Path(settings.CLARION_BACKUP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    now = now or timezone.now()
    with open(folder / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        existing = sorted(folder.glob("clarion-*.tar.gz"))
        if existing:
            newest = existing[-1].stat().st_mtime
            if now.timestamp() - newest < every.total_seconds():
                return None
        path = folder / f"clarion-{now:%Y%m%d-%H%M%S}.tar.gz"
        create_backup(path)
        keep = max(1, settings.CLARION_BACKUP_KEEP)
        for old in sorted(folder.glob("clarion-*.tar.gz"))[:-keep]:
            old.unlink(missing_ok=True)
        return path
