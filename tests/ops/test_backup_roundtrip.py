"""A site backed up while a writer keeps publishing restores exactly, on SQLite and on
PostgreSQL, in both directions (real `clarion` subprocesses throughout)."""

import json
import tarfile
import time

import pytest

from .sites import (
    FILL,
    clarion,
    dump,
    fresh_postgres_database,
    python,
    python_popen,
    to_milliseconds,
)

pytestmark = pytest.mark.slow

WRITER = """
import os, time
from pathlib import Path
from django.db import transaction
from django.utils import timezone
from clarion.posts import services
from clarion.posts.models import Post
stop = Path(os.environ["STOP_FILE"])
n = 0
deadline = time.monotonic() + 60
while not stop.exists() and time.monotonic() < deadline:
    with transaction.atomic():
        post = Post.objects.create(
            title=f"Written during the backup {n}", slug=f"during-{n}",
            status=Post.Status.PUBLISHED, published_at=timezone.now(), body="More words.",
        )
        services.post_saved(post=post, was_live=False)
    n += 1
    print(n, flush=True)
    time.sleep(0.02)
print("done", n, flush=True)
"""


def assert_restored_from(restored, source, manifest):
    """Every table equals the source; posts equal the source's first N (the snapshot)."""
    restored, source = to_milliseconds(restored), to_milliseconds(source)
    posts = restored["tables"].pop("posts.post")
    source_posts = source["tables"].pop("posts.post")
    # Each published post gets its newsletter Issue in the same transaction: a snapshot too.
    issues = restored["tables"].pop("newsletter.issue", [])
    source_issues = source["tables"].pop("newsletter.issue", [])
    for tables in (restored["tables"], source["tables"]):
        tables.pop("web.contentgeneration")  # bumped by the writer and by the restore
    # The fill's subscribers, consent records and deliveries came across too.
    assert len(source["tables"]["newsletter.subscriber"]) == 3
    assert len(source["tables"]["newsletter.consentevent"]) >= 6
    assert len(source["tables"]["newsletter.delivery"]) == 11  # 11 published posts, 1 reader
    assert restored["tables"] == source["tables"]
    assert restored["media"] == source["media"]
    assert len(posts) == manifest["counts"]["posts"]
    last = max(p["pk"] for p in posts)
    assert posts == [p for p in source_posts if p["pk"] <= last]
    # (Compared by identity: their timestamps serialise as "…42Z" or "…42.000Z" depending
    # on the path, for datetimes on a whole millisecond.)
    assert [(i["pk"], i["fields"]["post"], i["fields"]["key"]) for i in issues] == [
        (i["pk"], i["fields"]["post"], i["fields"]["key"])
        for i in source_issues
        if i["fields"]["post"] <= last
    ]


def read_manifest(archive):
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def test_it_restores_a_live_backup_into_sqlite_and_postgresql_and_back(tmp_path):
    pg_url = fresh_postgres_database("clarion_ops_restore")
    source_dir = tmp_path / "source"
    clarion(source_dir, "manage", "migrate", "-v0")
    assert python(source_dir, FILL).strip() == "12"

    stop = tmp_path / "stop"
    writer = python_popen(source_dir, WRITER, STOP_FILE=stop)
    try:
        assert writer.stdout.readline().strip() == "1"  # the writer is under way
        archive = tmp_path / "site.tar.gz"
        clarion(source_dir, "backup", archive)
        time.sleep(0.3)  # still writing after the backup finished
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=30)
    written = int(out.strip().splitlines()[-1].split()[1])
    manifest = read_manifest(archive)
    assert 12 < manifest["counts"]["posts"] < 12 + written
    assert manifest["counts"]["subscribers"] is None or manifest["counts"]["subscribers"] >= 0
    assert set(manifest["files"]) >= {"data.jsonl", "database.sqlite3"}
    assert sum(n.startswith("media/") for n in manifest["files"]) == 4
    source = dump(source_dir)
    assert len(source["tables"]["posts.post"]) == 12 + written

    # 1. Into an empty data folder (SQLite).
    sqlite_dir = tmp_path / "restored-sqlite"
    clarion(sqlite_dir, "restore", archive)
    assert_restored_from(dump(sqlite_dir), source, manifest)

    # 2. Into PostgreSQL.
    pg_dir = tmp_path / "restored-pg"
    clarion(pg_dir, "restore", archive, database_url=pg_url)
    pg = dump(pg_dir, pg_url)
    assert_restored_from(pg, source, manifest)
    # Sequences were reset: new rows get fresh ids.
    new_pk = python(
        pg_dir,
        "from clarion.posts.models import Post\n"
        "print(Post.objects.create(title='After restore', slug='after-restore').pk)",
        pg_url,
    )
    assert int(new_pk) > manifest["counts"]["posts"]

    # 3. And back: a PostgreSQL backup restores onto SQLite.
    pg_archive = tmp_path / "from-pg.tar.gz"
    clarion(pg_dir, "backup", pg_archive, database_url=pg_url)
    assert "database.sqlite3" not in read_manifest(pg_archive)["files"]
    back_dir = tmp_path / "back-to-sqlite"
    clarion(back_dir, "restore", pg_archive)
    back, pg = dump(back_dir), dump(pg_dir, pg_url)  # pg now has the post made above
    for site in (back, pg):
        site["tables"].pop("web.contentgeneration")
    assert back == pg
