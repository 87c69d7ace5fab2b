"""A real nginx in front of a real Clarion, for tests: the SHIPPED deploy/nginx-clarion.conf
with only its listen port, upstream address, server_name and media folder rewritten, run in
the foreground with its own prefix, pid, temp and error-log paths in a tmp folder, on a free
port on 127.0.0.1, and stopped by its PID. Under CI a missing nginx fails the test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.server import REPO, free_port, stop, wait_until

SHIPPED = REPO / "deploy" / "nginx-clarion.conf"
MIME_TYPES = Path("/etc/nginx/mime.types")


@dataclass
class Nginx:
    proc: subprocess.Popen
    port: int
    url: str  # http://127.0.0.1:PORT
    error_log: Path


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )
    if not found:
        message = "nginx is not installed (apt-get install -y nginx)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _rewrite(text: str, old: str, new: str) -> str:
    # Exactly once each: a shipped file that changed shape fails here, not silently.
    assert text.count(old) == 1, f"deploy/nginx-clarion.conf no longer has {old!r} once"
    return text.replace(old, new)


def site_conf(port: int, upstream_port: int, media: Path) -> str:
    text = SHIPPED.read_text()
    text = _rewrite(text, "    listen 80;\n", f"    listen 127.0.0.1:{port};\n")
    text = _rewrite(text, "    listen [::]:80;\n", "")
    text = _rewrite(text, "server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
    text = _rewrite(text, "server_name example.org;", "server_name 127.0.0.1 localhost;")
    return _rewrite(text, "alias /var/lib/clarion/media/;", f"alias {media}/;")


@contextmanager
def nginx_in_front(
    tmp: Path, upstream_port: int, media: Path, timeout: float = 20
) -> Iterator[Nginx]:
    binary = nginx_binary()
    prefix = tmp / "nginx"
    for sub in ("temp", "logs"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    port = free_port()
    (prefix / "site.conf").write_text(site_conf(port, upstream_port, media))
    temp = prefix / "temp"
    error_log = prefix / "logs" / "error.log"
    # As root, nginx's workers would drop to "nobody", who cannot read pytest's 0700 folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\n"
        f"pid {prefix / 'nginx.pid'};\nerror_log {error_log} warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  include {MIME_TYPES};\n  default_type application/octet-stream;\n"
        "  access_log off;\n"
        f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n"
        f"  scgi_temp_path {temp}/scgi;\n"
        f"  include {prefix / 'site.conf'};\n"
        "}\n"
    )
    proc = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(error_log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    served = Nginx(proc=proc, port=port, url=f"http://127.0.0.1:{port}", error_log=error_log)
    try:

        def listening() -> bool:
            if proc.poll() is not None:
                log = error_log.read_text() if error_log.exists() else ""
                raise AssertionError(f"nginx exited with {proc.returncode}: {log}")
            with socket.socket() as sock:
                sock.settimeout(0.5)
                return sock.connect_ex(("127.0.0.1", port)) == 0

        wait_until(listening, timeout, f"nginx on port {port}")
        yield served
    finally:
        stop(proc, timeout=15)  # SIGTERM to the master's PID: a fast shutdown
