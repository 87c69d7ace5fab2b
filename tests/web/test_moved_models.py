"""The content generation and the throttle counters moved to the web app with their tables:
a database from before the move upgrades with its rows, and a backup made before the move
restores."""

import hashlib
import io
import json
import tarfile

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clarion.web.models import ContentGeneration, ThrottleCounter
from tests.ops.sites import FILL, clarion, dump, python, to_milliseconds

BEFORE_THE_MOVE = [("posts", "0004_post_live_lookup"), ("ops", "0001_initial")]
MOVES = {"posts.0005_contentgeneration_to_web", "ops.0002_throttlecounter_to_web"}


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_its_rows_and_content_types():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state(BEFORE_THE_MOVE).apps
    old.get_model("posts", "ContentGeneration").objects.create(pk=1, value=41)
    old.get_model("ops", "ThrottleCounter").objects.create(
        scope="subscribe", client="abc", window_start="2026-12-07T12:00:00Z", hits=3
    )
    # As migrate left them before the move (going back relabels them, if there were any).
    assert not ContentType.objects.filter(app_label="web").exists()
    moved, _ = ContentType.objects.get_or_create(app_label="posts", model="contentgeneration")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    ContentType.objects.clear_cache()
    assert ContentGeneration.current() == 41
    assert ThrottleCounter.objects.get().hits == 3
    assert ContentType.objects.get_for_model(ContentGeneration).pk == moved.pk


def as_before_the_move(archive, target):
    """The same backup as a Clarion from before the move would have written it."""
    with tarfile.open(archive) as src:
        members = {m.name: (m, src.extractfile(m).read()) for m in src}
    data = members["data.jsonl"][1]
    assert b'{"model": "web.contentgeneration"' in data
    data = data.replace(
        b'{"model": "web.contentgeneration"', b'{"model": "posts.contentgeneration"'
    )
    manifest = json.loads(members["manifest.json"][1])
    manifest["rows"]["posts.contentgeneration"] = manifest["rows"].pop("web.contentgeneration")
    del manifest["migrations"]["web"]
    for app, names in manifest["migrations"].items():
        names[:] = [n for n in names if f"{app}.{n}" not in MOVES]
    manifest["files"]["data.jsonl"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    members["data.jsonl"] = (members["data.jsonl"][0], data)
    members["manifest.json"] = (members["manifest.json"][0], json.dumps(manifest).encode())
    with tarfile.open(target, "w:gz") as out:
        for member, content in members.values():
            member.size = len(content)
            out.addfile(member, io.BytesIO(content))
    return target


GENERATION = "from clarion.web.models import ContentGeneration\nprint(ContentGeneration.current())"


@pytest.mark.slow
def test_a_backup_from_before_the_move_restores(tmp_path):
    source = tmp_path / "source"
    clarion(source, "manage", "migrate", "-v0")
    python(source, FILL)
    archive = tmp_path / "site.tar.gz"
    clarion(source, "backup", archive)
    old = as_before_the_move(archive, tmp_path / "old.tar.gz")

    site = tmp_path / "site"
    clarion(site, "restore", old)
    restored, original = to_milliseconds(dump(site)), to_milliseconds(dump(source))
    assert (
        restored["tables"].pop("web.contentgeneration")[0]["fields"]["value"]
        > (original["tables"].pop("web.contentgeneration")[0]["fields"]["value"])
    )
    assert restored == original
