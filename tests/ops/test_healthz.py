import json
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from clarion.ops import jobs
from clarion.ops.models import WorkerHeartbeat
from tests import server
from tests.helpers import clarion_env

from .sites import SETUP, clarion


def test_it_is_unhealthy_until_a_worker_has_been_seen(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and body["database"] is True
    assert body["problems"] == ["worker"] and body["worker_seen_seconds_ago"] is None
    assert response["Cache-Control"] == "no-store"

    jobs.heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["worker_seen_seconds_ago"] <= 1


def test_it_is_unhealthy_when_the_last_heartbeat_is_stale(client, db, settings):
    settings.CLARION_HEALTH_WORKER_MAX_AGE = 60
    WorkerHeartbeat.objects.create(
        worker_id="gone", last_seen=timezone.now() - timedelta(seconds=90)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert 89 <= response.json()["worker_seen_seconds_ago"] <= 92


def test_it_reports_the_task_queue_depth(client, db):
    from django_tasks_db.models import DBTaskResult

    jobs.heartbeat()
    for status in ("READY", "READY", "RUNNING", "SUCCESSFUL"):
        DBTaskResult.objects.create(
            status=status,
            args_kwargs={"args": [], "kwargs": {}},
            task_path="clarion.example",
            backend_name="default",
            run_after=timezone.now(),
        )
    assert client.get("/healthz").json()["queue_depth"] == 2


def test_it_reports_the_oldest_undelivered_email_and_turns_503_past_the_limit(
    client, make_post, settings
):
    from clarion.newsletter.models import Delivery, Issue, Subscriber

    WorkerHeartbeat.objects.create(worker_id="w", last_seen=timezone.now())
    assert client.get("/healthz").json()["oldest_undelivered_email_seconds"] is None
    issue = Issue.objects.get(post=make_post("Sent to one"))
    reader = Subscriber.objects.create(email="reader@example.org", status="confirmed")
    sent = Subscriber.objects.create(email="done@example.org", status="confirmed")
    Delivery.objects.create(
        issue=issue, subscriber=reader, created_at=timezone.now() - timedelta(minutes=10)
    )
    Delivery.objects.create(
        issue=issue, subscriber=sent, status="sent", created_at=timezone.now() - timedelta(days=1)
    )
    report = client.get("/healthz")
    assert report.status_code == 200
    assert 590 <= report.json()["oldest_undelivered_email_seconds"] <= 700
    settings.CLARION_HEALTH_EMAIL_MAX_AGE = 300
    assert client.get("/healthz").status_code == 503


def test_it_forgets_workers_gone_for_a_day(db):
    WorkerHeartbeat.objects.create(worker_id="old", last_seen=timezone.now() - timedelta(days=2))
    jobs.heartbeat()
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == [jobs.WORKER_ID]


def test_it_answers_503_with_json_when_the_database_is_down(tmp_path):
    script = (
        "import os, django\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'clarion.settings'\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "r = Client(HTTP_HOST='127.0.0.1').get('/healthz')\n"
        "print(r.status_code, r.content.decode())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        # Nothing listens on this port: the database is unreachable.
        env=clarion_env(tmp_path, "postgres://postgres@127.0.0.1:8699/nowhere"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body)["database"] is False


POLL = """
import json, sys, time
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
for wanted in (200, 503):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get("/healthz")
        if response.status_code == wanted:
            break
        time.sleep(0.2)
    print("HEALTH", response.status_code, response.content.decode(), flush=True)
    sys.stdin.readline()  # the test says when to look for the next state
"""


def health_line(poller):
    """The poller's next report (log lines share its stdout)."""
    for _ in range(1000):
        line = poller.stdout.readline()
        if line.startswith("HEALTH ") or not line:
            return line.removeprefix("HEALTH ").split(" ", 1)
    raise AssertionError("no report from the poller")


@pytest.mark.slow
def test_it_turns_503_when_the_worker_process_dies(tmp_path):
    site = tmp_path / "site"
    clarion(site, "manage", "migrate", "-v0")
    env = clarion_env(site, CLARION_TICK_SECONDS=1, CLARION_HEALTH_WORKER_MAX_AGE=3)
    worker = server.clarion("worker", env=env)
    poller = subprocess.Popen(
        [sys.executable, "-c", SETUP + POLL],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        status, body = health_line(poller)
        assert status == "200", body
        body = json.loads(body)
        assert body["database"] is True and body["queue_depth"] == 0

        server.stop(worker, timeout=10, signum=signal.SIGKILL)
        poller.stdin.write("next\n")
        poller.stdin.flush()
        status, body = health_line(poller)
        assert status == "503", body
        body = json.loads(body)
        assert body["problems"] == ["worker"] and body["worker_seen_seconds_ago"] > 3
    finally:
        server.stop(worker, timeout=10, signum=signal.SIGKILL)
        if poller.poll() is None:
            poller.kill()
        poller.wait(timeout=10)
