"""The processes the benchmarks start and stop: `clarion serve` and `clarion worker`, and what
they are measured against (granian alone, nginx, the peers in bench/peers/). Every benchmark
that needs a server starts it here, waits (bounded) until it answers on 127.0.0.1, and stops
it by its PID."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def require_free(port: int) -> None:
    # A server left over from an earlier start would answer instead: measure nothing.
    if not port_is_free(port):
        raise SystemExit(f"127.0.0.1:{port} is already in use")


def wait_for_port(port: int, what: str, timeout: float = 60, proc=None) -> None:
    """Wait (bounded) until something listens on 127.0.0.1:port; fail if proc exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode} before listening on {port}")
        if not port_is_free(port):
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def wait_for_http(url: str, timeout: float = 60, proc=None) -> None:
    """Wait (bounded) until url answers 200; fail if proc (its server) exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout}s")


def stop_process(proc, sig=signal.SIGTERM, what: str = "", timeout: float = 30) -> None:
    """Stop a process this benchmark started (by its Popen), killing it after timeout."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"# {what or proc.args} did not stop within {timeout}s: killed", file=sys.stderr)
        proc.kill()
        proc.wait(timeout=timeout)


def clarion(*args: str, env: dict[str, str], quiet: bool = True, **popen) -> subprocess.Popen:
    """Start `clarion ARGS` (a worker, say) from the repository; ``quiet`` drops its stdout."""
    if quiet:
        popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("cwd", REPO)
    return subprocess.Popen([sys.executable, "-m", "clarion", *args], env=env, **popen)


class ClarionServer:
    """`clarion serve --port PORT ARGS` on 127.0.0.1, started and answering once made; stop()
    (or the end of a ``with`` block) stops it by its PID and waits until the port is free."""

    def __init__(self, port: int, *args: str, env: dict[str, str], timeout: float = 60, **popen):
        require_free(port)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = clarion("serve", "--port", str(port), *args, env=env, **popen)
        try:
            wait_for_http(self.url + "/", timeout=timeout, proc=self.proc)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 60) -> None:
        # SIGTERM: serve stops its granian and worker, each finishing what it was doing.
        stop_process(self.proc, signal.SIGTERM, "clarion serve", timeout=timeout)
        deadline = time.monotonic() + 30
        while not port_is_free(self.port):
            if time.monotonic() > deadline:
                raise SystemExit(f"Clarion still answers on {self.port} after stopping")
            time.sleep(0.2)

    def __enter__(self) -> ClarionServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
