import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone

from clarion.ops import jobs
from clarion.ops.models import WorkerHeartbeat

from .sites import clarion, site_env


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


def test_it_reports_no_email_age_without_the_newsletter_delivery_model(client, db):
    from django.apps import apps

    try:
        apps.get_model("newsletter", "Delivery")
    except LookupError:
        assert client.get("/healthz").json()["oldest_undelivered_email_seconds"] is None
    else:
        pytest.skip("the newsletter app provides Delivery: its own tests cover the hook")


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
        env=site_env(tmp_path, "postgres://postgres@127.0.0.1:8699/nowhere"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body)["database"] is False


def free_port() -> int:
    for port in range(8650, 8700):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8650-8699")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.mark.slow
def test_it_turns_503_when_the_worker_process_dies(tmp_path):
    site = tmp_path / "site"
    clarion(site, "manage", "migrate", "-v0")
    env = site_env(site, CLARION_TICK_SECONDS=1, CLARION_HEALTH_WORKER_MAX_AGE=3)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "clarion", "serve", "--no-worker", "--port", str(port)]
        + ["--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "clarion", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        status, body = None, None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, body = get(url)
            except (urllib.error.URLError, ConnectionError, OSError):
                status = None
            if status == 200:
                break
            time.sleep(0.3)
        assert status == 200, body
        assert body["database"] is True and body["queue_depth"] == 0

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, body = get(url)
            if status == 503:
                break
            time.sleep(0.5)
        assert status == 503
        assert body["problems"] == ["worker"] and body["worker_seen_seconds_ago"] > 3
    finally:
        if worker.poll() is None:
            worker.kill()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
