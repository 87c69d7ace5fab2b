import pytest
from django.db import migrations, models

from clarion.ops.upgrades import destructive_steps

from .sites import clarion, python


class Migration(migrations.Migration):
    operations = [
        migrations.AddField("post", "subtitle", models.CharField(max_length=10, default="")),
        migrations.RemoveField("post", "sticky"),
        migrations.DeleteModel("Tag"),
    ]


def test_it_flags_migrations_that_remove_data():
    step = Migration("0099_prune", "posts")
    found = destructive_steps([(step, False)])
    assert found == [
        "posts.0099_prune: Remove field sticky from post",
        "posts.0099_prune: Delete model Tag",
    ]
    additive = Migration("0098_more", "posts")
    additive.operations = additive.operations[:1]
    assert destructive_steps([(additive, False)]) == []


@pytest.mark.slow
def test_serve_refuses_a_database_from_a_newer_version(tmp_path):
    site = tmp_path / "site"
    clarion(site, "manage", "migrate", "-v0")
    python(
        site,
        "from django.db.migrations.recorder import MigrationRecorder\n"
        "from django.db import connection\n"
        "MigrationRecorder(connection).record_applied('posts', '0099_from_the_future')\n",
    )
    result = clarion(site, "serve", "--port", "8698", check=False, timeout=60)
    assert result.returncode != 0
    assert "newer version of Clarion" in result.stderr
    assert "posts.0099_from_the_future" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_it_snapshots_the_database_before_applying_pending_migrations(tmp_path):
    site = tmp_path / "site"
    clarion(site, "manage", "migrate", "-v0")
    clarion(site, "manage", "migrate", "ops", "zero", "-v0")
    out = python(
        site,
        "from clarion.ops.upgrades import prepare_database\n"
        "print(prepare_database())\n"
        "print(prepare_database())\n",
    )
    first, second = out.strip().splitlines()
    assert first.startswith(
        "Applied 3 migrations (ops.0001_initial, ops.0002_throttlecounter_to_web, web.0001_initial)"
    )
    snapshots = list((site / "backups").glob("pre-upgrade-*.sqlite3"))
    assert len(snapshots) == 1 and str(snapshots[0]) in first
    assert second == "Database is up to date."
    import sqlite3

    tables = {
        row[0]
        for row in sqlite3.connect(snapshots[0]).execute(
            "select name from sqlite_master where type='table'"
        )
    }
    assert "posts_post" in tables and "ops_workerheartbeat" not in tables


@pytest.mark.slow
def test_it_creates_a_new_database_without_a_snapshot(tmp_path):
    site = tmp_path / "site"
    out = python(
        site, "from clarion.ops.upgrades import prepare_database\nprint(prepare_database())"
    )
    assert out.strip() == "New database created."
    assert not (site / "backups").exists()
