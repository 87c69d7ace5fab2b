"""Restoring a backup: verify everything first, then replace the site in one transaction."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.dispatch import Signal

from . import archive, sitedata

log = logging.getLogger(__name__)

# Sent after a restore commits, so derived data (a search index, caches) can be rebuilt.
site_restored = Signal()


class RestoreError(Exception):
    """The restore was refused or failed; the site is as it was."""


def check_compatible(manifest: dict, using: str = "default") -> list[str]:
    """Refuse a backup this code cannot load; return warnings for ones it probably can."""
    loader = MigrationLoader(connections[using], ignore_no_migrations=True, load=True)
    known = set(loader.disk_migrations)
    installed = {config.label for config in apps.get_app_configs()}
    backup_migrations = manifest.get("migrations") or {}
    newer = [
        f"{app}.{name}"
        for app, names in sorted(backup_migrations.items())
        if app in installed
        for name in names
        if (app, name) not in known
    ]
    if newer:
        raise RestoreError(
            "this backup was made by a newer Clarion (its database has migrations this "
            f"version does not know: {', '.join(newer[:5])}). Upgrade Clarion, then restore."
        )
    rows = manifest.get("rows") or {}
    missing_apps = sorted({lbl.split(".")[0] for lbl in rows if rows[lbl]} - installed)
    if missing_apps:
        raise RestoreError(
            f"this backup holds data for apps this Clarion lacks: {', '.join(missing_apps)}"
        )
    warnings = []
    older = [
        f"{app}.{name}"
        for (app, name) in sorted(known)
        if app in backup_migrations and name not in backup_migrations[app]
    ]
    if older:
        warnings.append(
            f"this backup is from an older Clarion ({len(older)} newer migrations here); "
            "its data is loaded into the current schema"
        )
    return warnings


def restore_backup(path: Path, *, force: bool = False, using: str = "default") -> dict:
    """Restore the archive at ``path`` over this site's database and media folder.

    Nothing is changed unless the archive is whole, verified and loadable, and the site is
    empty or ``force`` is given. Returns the manifest.
    """
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".clarion-restore-", dir=media_root.parent))
    try:
        try:
            manifest = archive.extract_and_verify(Path(path), staging)
        except archive.ArchiveError as exc:
            raise RestoreError(str(exc)) from None
        for warning in check_compatible(manifest, using):
            log.warning("restore: %s", warning)
        existing = sitedata.content_rows(using)
        if (existing or sitedata.media_files(media_root)) and not force:
            what = ", ".join(f"{n} {lbl}" for lbl, n in sorted(existing.items())[:4])
            raise RestoreError(
                "this site is not empty ("
                + (what or "files in the media folder")
                + "); restore over it with --force (take a backup of it first)"
            )
        call_command("migrate", interactive=False, verbosity=0, database=using)
        _load(staging / archive.DATA, manifest, using)
        archive.replace_folder_contents(media_root, staging / "media")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    site_restored.send(sender=restore_backup, manifest=manifest, using=using)
    log.info(
        "backup restored (%s posts, %s subscribers)",
        manifest["counts"].get("posts"),
        manifest["counts"].get("subscribers"),
    )
    return manifest


def _load(data: Path, manifest: dict, using: str) -> None:
    from clarion.web.models import ContentGeneration

    expected = manifest.get("rows") or {}
    expected = {sitedata.MOVED_MODELS.get(lbl, lbl): n for lbl, n in expected.items()}
    sitedata.relabel_moved_models(data)
    with transaction.atomic(using=using):
        before = ContentGeneration.objects.using(using).filter(pk=1).first()
        call_command("flush", interactive=False, verbosity=0, database=using)
        try:
            call_command("loaddata", str(data), verbosity=0, database=using)
        except Exception as exc:
            raise RestoreError(f"{archive.DATA} could not be loaded: {exc}") from exc
        for model in sitedata.site_models():
            lbl = sitedata.label(model)
            if lbl in expected and model._base_manager.using(using).count() != expected[lbl]:
                raise RestoreError(f"{lbl}: loaded rows differ from the manifest's count")
        # Page caches are keyed on the generation: never go back to a number already used.
        restored = ContentGeneration.objects.using(using).filter(pk=1).first()
        value = max(before.value if before else 0, restored.value if restored else 0) + 1
        ContentGeneration.objects.using(using).update_or_create(pk=1, defaults={"value": value})
