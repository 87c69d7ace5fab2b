"""The data a site is made of: which models a backup or export carries, in load order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

# Apps besides Clarion's own whose rows are part of a site.
EXTRA_APPS = ("auth", "admin")
# Rows that are not the site's: rebuilt on their own (content types and permissions by
# migrate, with natural keys in the data), short-lived (sessions, throttle windows,
# heartbeats, task results; durable work lives in the apps' own tables), or derived.
EXCLUDED_MODELS = {
    "auth.permission",
    "web.throttlecounter",
    "ops.workerheartbeat",
}
# Rows that exist on a site nobody has used yet (created on first page view).
NOT_CONTENT = {"posts.sitesettings", "web.contentgeneration", "posts.category"}
# Models that moved to another app (their tables did not): older backups name them so.
MOVED_MODELS = {
    "posts.contentgeneration": "web.contentgeneration",
    "ops.throttlecounter": "web.throttlecounter",
}


def label(model) -> str:
    return model._meta.label_lower


def site_models() -> list:
    """Every model of every installed ``clarion.*`` app plus users, groups and the admin
    log, ordered so that natural-key dependencies come first (as dumpdata orders them)."""
    excluded = EXCLUDED_MODELS | {m.lower() for m in settings.CLARION_BACKUP_EXCLUDE}
    app_list = []
    for config in apps.get_app_configs():
        if not (config.name.startswith("clarion.") or config.label in EXTRA_APPS):
            continue
        models = [
            m
            for m in config.get_models()
            if m._meta.managed and not m._meta.proxy and label(m) not in excluded
        ]
        if models:
            app_list.append((config, models))
    return serializers.sort_dependencies(app_list, allow_cycles=True)


def iter_rows(models, using: str, counts: Counter) -> Iterator:
    for model in models:
        queryset = model._base_manager.using(using).order_by(model._meta.pk.name)
        for obj in queryset.iterator(chunk_size=2000):
            counts[label(model)] += 1
            yield obj


def write_rows(path: Path, models, using: str = "default") -> Counter:
    """Write every row of ``models`` to ``path`` as JSON lines; return the row counts."""
    counts: Counter = Counter({label(m): 0 for m in models})
    with open(path, "w", encoding="utf-8") as stream:
        serializers.serialize(
            "jsonl",
            iter_rows(models, using, counts),
            stream=stream,
            use_natural_foreign_keys=True,
            use_natural_primary_keys=False,
        )
    return counts


def headline_counts(counts: dict) -> dict:
    return {
        "posts": counts.get("posts.post"),
        "subscribers": counts.get("newsletter.subscriber"),
    }


def applied_migrations(using: str = "default") -> dict[str, list[str]]:
    recorder = MigrationRecorder(connections[using])
    if not recorder.has_table():
        return {}
    applied: dict[str, list[str]] = {}
    for app, name in sorted(recorder.applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def content_rows(using: str = "default") -> dict[str, int]:
    """Rows in the tables that make a site non-empty (missing tables count as empty)."""
    connection = connections[using]
    tables = set(connection.introspection.table_names())
    found = {}
    for model in site_models():
        if label(model) in NOT_CONTENT or model._meta.db_table not in tables:
            continue
        n = model._base_manager.using(using).count()
        if n:
            found[label(model)] = n
    return found


def relabel_moved_models(path: Path) -> None:
    """Rename, in the rows file at ``path``, the models that have moved app since it was
    written, so that ``loaddata`` finds them. Only lines that name one are rewritten."""
    old = {
        f'{{"model": "{a}"'.encode(): f'{{"model": "{b}"'.encode() for a, b in MOVED_MODELS.items()
    }
    with open(path, "rb") as stream:
        if not any(line.startswith(tuple(old)) for line in stream):
            return
    rewritten = path.with_name(path.name + ".relabelled")
    with open(path, "rb") as source, open(rewritten, "wb") as target:
        for line in source:
            for before, after in old.items():
                if line.startswith(before):
                    line = after + line[len(before) :]
            target.write(line)
    rewritten.replace(path)


def media_files(root: Path) -> list[Path]:
    """Regular files under the media folder, in a stable order (links are not followed)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
