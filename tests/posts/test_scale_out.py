"""Two web processes and two workers on PostgreSQL and Redis work as one site."""

import os
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import IN_CI
from tests.server import (
    clarion,
    clarion_env,
    fetch,
    free_port,
    run_clarion,
    stop,
    wait_for_http,
    wait_until,
)

pytestmark = pytest.mark.slow

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("CLARION_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")

if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    pytest.skip(
        "scale-out runs on PostgreSQL + Redis only: set DATABASE_URL=postgres://…",
        allow_module_level=True,
    )


@pytest.fixture
def redis_url():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if IN_CI:
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    # Generations restart at 0 in the new database: no page from an earlier run may linger.
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture
def scaleout_database():
    """A database of its own, migrated by a `clarion` subprocess, dropped afterwards."""
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = (parts.path.lstrip("/") or "clarion") + "_scaleout"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _post(folder, slug, title, *, status="published", date=None):
    lines = ["---", f"title: {title}", f"slug: {slug}", f"status: {status}", "author: Ada"]
    if date:
        lines.append(f"date: {date.isoformat()}")
    path = folder / f"{slug}.md"
    path.write_text("\n".join([*lines, "---", "", f"The text of {title}.", ""]))
    return str(path)


def _generation(database_url) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT value FROM posts_contentgeneration WHERE id = 1").fetchone()
    return row[0] if row else 0


def test_it_serves_fresh_pages_everywhere_and_publishes_scheduled_posts_once(
    tmp_path, data_dir, collected_static, scaleout_database, redis_url
):
    shared = {"DATABASE_URL": scaleout_database, "CLARION_CACHE_URL": redis_url}
    env = clarion_env(data_dir, **shared)
    run_clarion("manage", "migrate", "-v", "0", env=env)
    run_clarion("publish", _post(tmp_path, "first", "The first letter"), env=env)

    procs, logs = [], []
    try:
        urls = []
        for name in ("a", "b"):
            # Each web process and worker has a folder of its own, as on separate machines.
            folder = tmp_path / f"web-{name}"
            shutil.copytree(data_dir, folder)
            port = free_port()
            log = tmp_path / f"web-{name}.log"
            procs.append(
                clarion(
                    "serve",
                    "--no-worker",
                    "--workers",
                    "1",
                    "--port",
                    str(port),
                    env=clarion_env(folder, **shared),
                    log=log,
                )  # fmt: skip
            )
            logs.append(log)
            wait_for_http(f"http://127.0.0.1:{port}/")
            urls.append(f"http://127.0.0.1:{port}")
        a, b = urls
        for name in ("1", "2"):
            log = tmp_path / f"worker-{name}.log"
            folder = tmp_path / f"worker-{name}"
            folder.mkdir()
            procs.append(clarion("worker", env=clarion_env(folder, **shared), log=log))
            logs.append(log)

        # Both servers have the home page in the shared cache.
        for url in (a, b):
            fetch(url + "/")
            status, headers, body = fetch(url + "/")
            assert headers["X-Clarion-Cache"] == "hit"
            assert "The first letter" in body

        run_clarion("publish", _post(tmp_path, "second", "The second letter"), env=env)
        status, headers, body = fetch(b + "/")
        assert status == 200
        assert headers["X-Clarion-Cache"] == "miss"
        assert "The second letter" in body
        # Behind one proxy both get the same Host: A is served the page B just rendered.
        status, headers, body = fetch(a + "/", headers={"Host": urlsplit(b).netloc})
        assert headers["X-Clarion-Cache"] == "hit"
        assert "The second letter" in body

        # A scheduled post goes live once, with both workers ticking every second.
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=6)
        run_clarion(
            "publish",
            _post(tmp_path, "third", "The scheduled letter", status="scheduled", date=due),
            env=env,
        )
        assert "The scheduled letter" not in fetch(b + "/")[2]
        before = _generation(scaleout_database)
        wait_until(
            lambda: "The scheduled letter" in fetch(b + "/")[2], 30, "the scheduled post on B"
        )
        wait_until(lambda: _generation(scaleout_database) > before, 10, "a worker to publish it")
        # Give the other worker a few ticks to (wrongly) publish it again.
        time.sleep(3)
        assert _generation(scaleout_database) == before + 1
        published = [
            line
            for log in logs
            for line in log.read_text().splitlines()
            if re.search(r"published scheduled post id=\d+", line)
        ]
        assert len(published) == 1, published
        assert "The scheduled letter" in fetch(a + "/")[2]
    finally:
        codes = [stop(proc) for proc in procs]
    assert codes == [0, 0, 0, 0], [log.read_text()[-2000:] for log in logs]
