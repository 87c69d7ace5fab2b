from datetime import timedelta

import pytest

from clarion.ops import archive
from clarion.ops.backup import BackupError, parse_every, run_scheduled_backup

from .sites import clarion, python


def test_it_parses_the_interval():
    assert parse_every("24h") == timedelta(hours=24)
    assert parse_every("30m") == timedelta(minutes=30)
    assert parse_every(" 7d ") == timedelta(days=7)
    assert parse_every("") is None
    for bad in ("daily", "0h", "24"):
        with pytest.raises(BackupError, match="CLARION_BACKUP_EVERY"):
            parse_every(bad)


def test_it_does_nothing_when_not_configured(db, settings, tmp_path):
    settings.CLARION_BACKUP_EVERY = ""
    settings.CLARION_BACKUP_DIR = tmp_path
    assert run_scheduled_backup() is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_it_backs_up_when_due_and_keeps_the_newest_n(tmp_path):
    site = tmp_path / "site"
    clarion(site, "manage", "migrate", "-v0")
    out = python(
        site,
        """
        import os
        from datetime import timedelta
        from django.utils import timezone
        from clarion.ops.backup import run_scheduled_backup
        from clarion.posts.models import Post
        Post.objects.create(title="Kept safe", slug="kept-safe")
        start = timezone.now()
        for hours in (0, 0.5, 1.1, 2.2, 3.3):
            now = start + timedelta(hours=hours)
            path = run_scheduled_backup(now=now)
            if path:
                # The job compares file times with "now": give each file its pretend time.
                os.utime(path, (now.timestamp(), now.timestamp()))
            print(path.name if path else "-")
        """,
        CLARION_BACKUP_EVERY="1h",
        CLARION_BACKUP_KEEP=2,
    )
    made = out.split()
    assert [name == "-" for name in made] == [False, True, False, False, False]
    kept = sorted(p.name for p in (site / "backups").glob("clarion-*.tar.gz"))
    assert kept == made[-2:]
    staging = tmp_path / "check"
    staging.mkdir()
    manifest = archive.extract_and_verify(site / "backups" / kept[-1], staging)
    assert manifest["counts"]["posts"] == 1
