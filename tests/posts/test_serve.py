"""`clarion serve` as a real process: granian plus the worker, and a clean shutdown."""

import os
import signal
import sqlite3

import pytest

from tests.server import (
    clarion,
    clarion_env,
    free_port,
    run_clarion,
    stop,
    wait_for_http,
    wait_until,
)

pytestmark = pytest.mark.slow

ENQUEUE = (
    "from tests.posts.serve_tasks import write_marker; "
    "write_marker.enqueue({a!r}, seconds=3); write_marker.enqueue({b!r})"
)


def _statuses(db) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT status FROM django_tasks_database_dbtaskresult ORDER BY enqueued_at, id"
        ).fetchall()
    return [status for (status,) in rows]


def _serve(port, env, log, **popen):
    return clarion(
        "serve", "--port", str(port), "--workers", "1", "--threads", "2", env=env, log=log, **popen
    )


def _stop_while_a_task_runs(tmp_path, data, send_signal):
    """Start serve, queue a 3-second task and a second one, signal serve while the first
    runs; return what the restart needs."""
    env = clarion_env(data)
    log = tmp_path / "serve.log"
    first, second = tmp_path / "first.done", tmp_path / "second.done"
    port = free_port()
    serve = _serve(port, env, log, start_new_session=True)
    db = data / "clarion.sqlite3"
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        run_clarion("manage", "shell", "-c", ENQUEUE.format(a=str(first), b=str(second)), env=env)
        wait_until(lambda: _statuses(db)[:1] == ["RUNNING"], 20, "the first task to start")
        send_signal(serve)
        assert serve.wait(timeout=40) == 0, log.read_text()
    finally:
        stop(serve)
    # The running task finished before the worker left; the queued one is still queued.
    assert first.read_text() == "done"
    assert _statuses(db) == ["SUCCESSFUL", "READY"]
    assert not second.exists()
    return port, env, log, db, second


def test_it_finishes_the_running_task_and_keeps_the_queued_one_across_sigterm(tmp_path, data_dir):
    port, env, log, db, second = _stop_while_a_task_runs(
        tmp_path, data_dir, lambda serve: serve.send_signal(signal.SIGTERM)
    )
    serve = _serve(port, env, log)
    try:
        wait_until(second.exists, 40, "the queued task to run after a restart")
        wait_until(lambda: _statuses(db) == ["SUCCESSFUL", "SUCCESSFUL"], 10, "its result")
    finally:
        assert stop(serve) == 0, log.read_text()


def test_it_lets_the_running_task_finish_on_ctrl_c_in_a_terminal(tmp_path, data_dir):
    # A terminal sends SIGINT to the whole foreground process group.
    _stop_while_a_task_runs(tmp_path, data_dir, lambda serve: os.killpg(serve.pid, signal.SIGINT))
