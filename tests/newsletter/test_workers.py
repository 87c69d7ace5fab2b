"""Exactly-once sending with real worker processes: one killed mid-send with SIGKILL and
restarted, and two running at once, on SQLite and on PostgreSQL.

Each test builds a site in its own data folder through the public CLI (`clarion manage
migrate`, `clarion subscribers import`, `clarion publish`), runs `clarion worker`
subprocesses against an aiosmtpd server in this process, and reads the outcome from the
messages received and from the database.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from urllib.parse import urlsplit

import pytest

from tests import server

from .smtpsink import SMTPSink

pytestmark = pytest.mark.slow

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
N = 120
PG_ROOT = os.environ.get("CLARION_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")


class Site:
    """A Clarion data folder (and database) driven only through the `clarion` command."""

    def __init__(self, tmp_path, smtp_port: int, database: str):
        self.dir = tmp_path
        self.database = database
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("CLARION_", "DJANGO_"))
        }
        self.env.pop("DATABASE_URL", None)
        self.env.update(
            DJANGO_SETTINGS_MODULE="clarion.settings",
            CLARION_DATA_DIR=str(tmp_path / "data"),
            CLARION_SECRET_KEY="worker-test-" + "k" * 40,
            CLARION_EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
            CLARION_NEWSLETTER_BATCH_SIZE="10",
            CLARION_NEWSLETTER_LEASE_SECONDS="2",
            CLARION_TICK_SECONDS="1",
            CLARION_LOG_LEVEL=os.environ.get("NL_WORKER_LOG", "WARNING"),
        )
        if database != "sqlite":
            self.env["DATABASE_URL"] = database
        self.workers: list[subprocess.Popen] = []

    def clarion(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "clarion", *args],
            env=self.env,
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def prepare(self, subscribers: int) -> None:
        """Migrate, import the subscribers and publish a post, which queues its email
        (once per database; each test starts from a copy)."""
        self.clarion("manage", "migrate", "--verbosity", "0")
        rows = "\n".join(f"reader{i}@example.org,2020-01-01" for i in range(subscribers))
        (self.dir / "list.csv").write_text("email,created_at\n" + rows + "\n")
        self.clarion("subscribers", "import", "list.csv", "--confirmed")
        (self.dir / "post.md").write_text(
            "---\ntitle: An open letter\nstatus: published\n---\nDear Foreign Secretary,\n"
        )
        self.clarion("publish", "post.md")

    def start_worker(self, name: str) -> subprocess.Popen:
        log = self.dir / f"{name}.log"
        worker = server.clarion(
            "worker", "--interval", "0.1", "--worker-id", name, env=self.env, cwd=self.dir, log=log
        )
        self.workers.append(worker)
        return worker

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)  # all at once; then wait for each
        for worker in self.workers:
            server.stop(worker, timeout=15, must_stop=False)

    def query(self, sql: str) -> list[tuple]:
        if self.database == "sqlite":
            with sqlite3.connect(self.dir / "data" / "clarion.sqlite3", timeout=10) as db:
                return db.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.database) as db:
            return db.execute(sql).fetchall()

    def statuses(self) -> dict[str, int]:
        return dict(self.query("SELECT status, COUNT(*) FROM newsletter_delivery GROUP BY status"))

    def wait_until_all_sent(self, count: int, timeout: float = 60) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        statuses = {}
        while time.monotonic() < deadline:
            statuses = self.statuses()
            if statuses.get("sent", 0) == count:
                return statuses
            for worker in self.workers:
                assert worker.poll() is None or worker.returncode == -signal.SIGKILL, (
                    self.dir / f"{worker.args[-1]}.log"
                ).read_text()[-3000:]
            time.sleep(0.2)
        pytest.fail(f"not all sent after {timeout}s: {statuses}")


def pg_admin():
    try:
        import psycopg

        return psycopg.connect(PG_ROOT, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")


def pg_url(name: str) -> str:
    return PG_ROOT.rsplit("/", 1)[0] + f"/{name}"


PG_PREFIX = (urlsplit(os.environ.get("DATABASE_URL", "")).path.strip("/") or "clarion") + "_nl"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def prepared(request, tmp_path_factory):
    """A migrated site with N confirmed subscribers, made once per database."""
    folder = tmp_path_factory.mktemp(f"prepared-{request.param}")
    if request.param == "sqlite":
        Site(folder, 25, "sqlite").prepare(N)
        yield ("sqlite", folder / "data")
        return
    admin = pg_admin()
    template = f"{PG_PREFIX}_template"
    admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{template}"')
    try:
        Site(folder, 25, pg_url(template)).prepare(N)
        yield ("postgresql", template)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def sink():
    with SMTPSink() as sink:
        sink.handler.delay = 0.002
        yield sink


@pytest.fixture
def site(tmp_path, sink, prepared):
    kind, source = prepared
    if kind == "sqlite":
        shutil.copytree(source, tmp_path / "data")
        site = Site(tmp_path, sink.port, "sqlite")
    else:
        admin = pg_admin()
        name = f"{PG_PREFIX}_workers"
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        site = Site(tmp_path, sink.port, pg_url(name))
    try:
        yield site
    finally:
        site.stop_workers()
        if kind != "sqlite":
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


def received_by_recipient(sink) -> dict[str, list[str]]:
    by_recipient = defaultdict(list)
    for message in sink.messages:
        by_recipient[message["To"]].append(message["Message-ID"])
    return by_recipient


def test_a_worker_killed_mid_send_and_restarted_sends_each_email_once(site, sink):
    first = site.start_worker("first")
    deadline = time.monotonic() + 60
    while len(sink.messages) < N // 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(sink.messages) >= N // 3, (site.dir / "first.log").read_text()[-3000:]
    first.send_signal(signal.SIGKILL)
    first.wait()
    at_kill = len(sink.messages)
    assert at_kill < N, "the worker finished before it could be killed"
    statuses = site.statuses()
    assert statuses.get("sending", 0) > 0 or statuses.get("queued", 0) > 0

    site.start_worker("second")
    assert site.wait_until_all_sent(N) == {"sent": N}

    by_recipient = received_by_recipient(sink)
    assert len(by_recipient) == N  # everyone got it
    # One email per subscriber: every copy a subscriber received carries one Message-ID
    # (a repeat of the message that was on the wire at the kill is recognisable as such).
    assert all(len(set(ids)) == 1 for ids in by_recipient.values())
    extra = len(sink.messages) - N
    assert extra <= 1, f"{extra} repeated messages"
    expected_ids = dict(
        site.query(
            "SELECT s.email, i.key || '.' || s.id FROM newsletter_delivery d"
            " JOIN newsletter_subscriber s ON s.id = d.subscriber_id"
            " JOIN newsletter_issue i ON i.id = d.issue_id"
        )
    )
    assert {to: ids[0] for to, ids in by_recipient.items()} == {
        email: f"<{key}@127.0.0.1>" for email, key in expected_ids.items()
    }


def test_two_workers_at_once_send_each_email_exactly_once(site, sink):
    # A slower receiver (~4 s for all) so the second worker, which may start a second
    # later, finds work left and the two really overlap.
    sink.handler.delay = 0.03
    site.start_worker("alpha")
    site.start_worker("beta")
    assert site.wait_until_all_sent(N) == {"sent": N}
    time.sleep(0.3)  # anything still in flight would arrive now
    by_recipient = received_by_recipient(sink)
    assert len(sink.messages) == N
    assert len(by_recipient) == N
    assert all(len(ids) == 1 for ids in by_recipient.values())
    workers = dict(site.query("SELECT worker, COUNT(*) FROM newsletter_delivery GROUP BY worker"))
    assert set(workers) == {"alpha", "beta"}, workers  # both really sent
