"""A backup killed with SIGKILL part-way leaves nothing at its file name, and the next one
works (and clears the dead one's temporary file)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from clarion.ops import archive as archive_format
from tests.helpers import clarion_env

from .sites import clarion

pytestmark = pytest.mark.slow


def test_it_leaves_no_partial_archive_when_killed_mid_backup(tmp_path):
    site = tmp_path / "site"
    clarion(site, "manage", "migrate", "-v0")
    (site / "media").mkdir()
    big = site / "media" / "recording.bin"
    big.write_bytes(os.urandom(64 * 1024 * 1024))  # incompressible: seconds to archive
    target = tmp_path / "backups" / "site.tar.gz"
    target.parent.mkdir()

    backup = subprocess.Popen(
        [sys.executable, "-m", "clarion", "backup", str(target)],
        env=clarion_env(site),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    partials = []
    while time.monotonic() < deadline and backup.poll() is None:
        partials = list(target.parent.glob(".site.tar.gz.*.partial"))
        if partials and partials[0].stat().st_size > 1024 * 1024:
            break
        time.sleep(0.05)
    assert backup.poll() is None, "the backup finished before it could be killed"
    backup.send_signal(signal.SIGKILL)
    backup.wait(timeout=10)

    assert partials and partials[0].exists()
    assert not target.exists()

    big.unlink()
    (site / "media" / "photo.png").write_bytes(b"\x89PNG small")
    clarion(site, "backup", target)
    assert not partials[0].exists()
    staging = tmp_path / "check"
    staging.mkdir()
    manifest = archive_format.extract_and_verify(target, staging)
    assert set(manifest["files"]) == {
        "data.jsonl",
        "database.sqlite3",
        "media/photo.png",
        "secret_key",
    }
