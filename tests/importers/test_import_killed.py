"""A WordPress import killed part-way (SIGKILL, a real subprocess) leaves the site as it was;
run again, it imports everything once."""

import importlib.util
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests import server
from tests.helpers import clarion_env, run_clarion

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def generate(path: Path, posts: int) -> None:
    spec = importlib.util.spec_from_file_location("import_wxr", ROOT / "bench" / "import_wxr.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(path, posts)


def counts(data_dir: Path) -> tuple[int, int, int]:
    with sqlite3.connect(data_dir / "clarion.sqlite3") as db:
        return tuple(
            db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("posts_post", "posts_redirect", "importers_wordpressobject")
        )


def test_a_killed_import_changes_nothing_and_a_rerun_imports_once(tmp_path):
    export = tmp_path / "export.xml"
    generate(export, 1200)
    assert run_clarion(tmp_path, "manage", "migrate", "-v0").returncode == 0
    assert counts(tmp_path) == (0, 0, 0)

    proc = server.clarion(
        "import", "wordpress", str(export), env=clarion_env(tmp_path), cwd=tmp_path
    )
    time.sleep(3.5)
    still_running = proc.poll() is None
    server.stop(proc, timeout=10, signum=signal.SIGKILL)
    assert still_running, "the import finished before it could be killed: use a bigger export"
    assert counts(tmp_path) == (0, 0, 0)  # one transaction: nothing half-written

    done = run_clarion(tmp_path, "import", "wordpress", str(export), timeout=300)
    assert done.returncode == 0, done.stderr
    first = counts(tmp_path)
    assert first[0] == 1200
    again = run_clarion(tmp_path, "import", "wordpress", str(export), timeout=300)
    assert again.returncode == 0, again.stderr
    assert counts(tmp_path) == first  # nothing doubled
