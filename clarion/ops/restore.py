"""Restoring a backup: verify everything first, then replace the site in one transaction."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.dispatch import Signal

from clarion.lib import config

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


def restore_backup(
    path: Path, *, force: bool = False, secret_key: str = "", using: str = "default"
) -> dict:
    """Restore the archive at ``path`` over this site's database, media folder and secret
    key (``DATA_DIR/secret_key``).

    Nothing is changed unless the archive is whole, verified and loadable, and the site is
    empty or ``force`` is given. A data folder whose site is not empty keeps a secret key
    that differs from the backup's only with ``secret_key="keep"``, and takes the backup's
    only with ``secret_key="replace"``; otherwise the restore is refused. Returns the
    manifest, with ``secret_key`` saying what became of the key (see ``_plan_secret_key``).
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
        site_empty = not existing and not sitedata.media_files(media_root)
        if not site_empty and not force:
            what = ", ".join(f"{n} {lbl}" for lbl, n in sorted(existing.items())[:4])
            raise RestoreError(
                "this site is not empty ("
                + (what or "files in the media folder")
                + "); restore over it with --force (take a backup of it first)"
            )
        key, key_outcome = _plan_secret_key(staging, secret_key, site_empty)
        call_command("migrate", interactive=False, verbosity=0, database=using)
        _load(staging / archive.DATA, manifest, using)
        archive.replace_folder_contents(media_root, staging / "media")
        if key is not None:
            _write_secret_key(key)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    manifest = {**manifest, "secret_key": key_outcome}
    site_restored.send(sender=restore_backup, manifest=manifest, using=using)
    log.info(
        "backup restored (%s posts, %s subscribers)",
        manifest["counts"].get("posts"),
        manifest["counts"].get("subscribers"),
    )
    return manifest


def _key_file() -> Path:
    return Path(settings.DATA_DIR) / "secret_key"


def _plan_secret_key(staging: Path, choice: str, site_empty: bool) -> tuple[str | None, str]:
    """Decide, before anything changes, whether to install the backup's secret key.

    Returns (the key to write, or None; the outcome: "installed", "same", "kept" or
    "absent"). Raises RestoreError when a key in use here would be lost or would win.
    """
    member = staging / archive.SECRET_KEY
    if not member.exists():
        log.warning(
            "restore: this backup holds no secret key (made before Clarion kept it): links "
            "in emails sent before it will not work here"
        )
        return None, "absent"
    backup_key = member.read_text().strip()
    if backup_key == settings.SECRET_KEY:
        return None, "same"
    if choice == "keep":
        return None, "kept"
    if config.env("CLARION_SECRET_KEY"):
        # The variable wins over the key file, so writing the file would change nothing.
        raise RestoreError(
            "CLARION_SECRET_KEY is set and differs from the backup's secret key, so links in "
            "emails sent before the backup would not work: unset it (the backup's key then "
            f"goes to {_key_file()}) and restore again, or pass --keep-secret-key"
        )
    if site_empty or choice == "replace":
        return backup_key, "installed"
    raise RestoreError(
        f"this data folder's secret key ({_key_file()}) differs from the backup's: pass "
        "--replace-secret-key to use the backup's (links signed here stop working) or "
        "--keep-secret-key (links in emails sent before the backup stop working)"
    )


def _write_secret_key(key: str) -> None:
    """Replace the key file in one step (a reader sees the old key or the new one), 0600."""
    target = _key_file()
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


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
