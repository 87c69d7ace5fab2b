"""Real `clarion` processes for tests: start one (a server, a worker, an import), wait until
it serves, stop it by its PID. Every test that needs a running Clarion uses these; ports are
on 127.0.0.1 and every wait is bounded."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from tests import helpers

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, chosen by the kernel: other test runs on
    the machine ask the kernel too, so two servers are not handed the same port (a fixed
    range searched from its start gave every concurrent run its first port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clarion_env(data_dir: Path, **extra: str) -> dict[str, str]:
    # INFO: these tests read what the processes log (a scheduled post published once).
    return helpers.clarion_env(data_dir, **{"CLARION_LOG_LEVEL": "INFO", **extra})


def clarion(
    *args: str, env: dict[str, str], log: Path | None = None, cwd: Path = REPO, **popen
) -> subprocess.Popen:
    """Start `clarion ARGS` (its output, stderr too, appended to ``log``, else dropped)."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "clarion", *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            **popen,
        )
    finally:
        if log:
            out.close()  # the child has its own copy


@dataclass
class Served:
    proc: subprocess.Popen
    port: int
    url: str  # http://127.0.0.1:PORT, no trailing slash
    log: Path | None
    returncode: int | None = None  # once stopped


@contextmanager
def serving(
    *args: str,
    env: dict[str, str],
    port: int | None = None,
    log: Path | None = None,
    cwd: Path = REPO,
    timeout: float = 60,
    stop_timeout: float = 40,
) -> Iterator[Served]:
    """`clarion serve --port PORT ARGS` on 127.0.0.1, yielded once its home page answers 200;
    stopped (SIGTERM to its PID, as systemd does) when the block ends. Its exit code is then in
    ``returncode``: a test asserting a clean stop reads it after the block."""
    port = port or free_port()
    proc = clarion("serve", "--port", str(port), *args, env=env, log=log, cwd=cwd)
    served = Served(proc=proc, port=port, url=f"http://127.0.0.1:{port}", log=log)
    try:
        wait_for_http(served.url + "/", timeout=timeout, proc=proc)
        yield served
    finally:
        served.returncode = stop(proc, timeout=stop_timeout)


def run_clarion(*args: str, env: dict[str, str], timeout: float = 60) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "clarion", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_for_http(url: str, timeout: float = 40, proc: subprocess.Popen | None = None) -> None:
    """Until ``url`` answers 200; fails at once if ``proc`` (the server) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop(
    proc: subprocess.Popen,
    timeout: float = 40,
    signum: int = signal.SIGTERM,
    must_stop: bool = True,
) -> int:
    """Send ``signum`` to the process (by its PID) and wait for it. One still running after
    ``timeout`` is killed; that is a failure unless ``must_stop`` is false."""
    if proc.poll() is None:
        proc.send_signal(signum)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait(timeout=10)
        if must_stop:
            raise
        return code


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()
