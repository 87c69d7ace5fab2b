"""``clarion serve``: migrate, then run granian (WSGI) and a background worker together."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Apply migrations and serve the site with granian (WSGI) and a background worker "
        "in the same process group."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("CLARION_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("CLARION_PORT", 8000)))
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="Web processes (default: the number of cores).",
        )
        parser.add_argument(
            "--threads", type=int, default=4, help="Request threads per web process."
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="On an empty site, load the reference letter and create an admin account.",
        )
        parser.add_argument(
            "--migrate",
            action="store_true",
            help="Also apply migrations that remove data (see docs/upgrading.md).",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Serve pages only; run `clarion worker` elsewhere.",
        )

    def handle(self, *args, host, port, workers, threads, demo, no_worker, migrate, **options):
        if not 1 <= port <= 65535:
            raise CommandError(f"--port: {port} is not a port number")
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1")
        check_address(host, port)
        from clarion.ops.upgrades import UpgradeRefused, prepare_database

        try:
            self.stdout.write(prepare_database(allow_destructive=migrate))
        except UpgradeRefused as exc:
            raise CommandError(str(exc)) from None
        if demo:
            from clarion.posts.demo import load_demo

            password = load_demo()
            if password:
                self.stdout.write(
                    self.style.SUCCESS(
                        "Demo site created. Sign in at "
                        f"{settings.SITE_URL}/admin/ as 'admin' with password: {password}\n"
                        "(This password is shown once. Change it after signing in.)"
                    )
                )
        self.collect_static()

        children: list[subprocess.Popen] = []
        if not no_worker:
            children.append(
                subprocess.Popen([sys.executable, "-m", "clarion", "worker"], process_group=0)
            )
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "granian",
                    "--interface",
                    "wsgi",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--blocking-threads",
                    str(threads),
                    "--no-ws",
                    # A worker still busy 20 s after SIGTERM is killed by granian itself.
                    "--workers-kill-timeout",
                    "20",
                    "--log-level",
                    "warning",
                    "clarion.wsgi:application",
                ],  # fmt: skip
                # Own process groups: Ctrl+C in a terminal reaches this process only, which
                # then sends each child one SIGTERM. A second signal would make the worker
                # abandon the task it is running.
                process_group=0,
            )
        )
        self.stdout.write(f"Serving {settings.SITE_URL} on http://{host}:{port}/ (Ctrl+C stops)")
        sys.stdout.flush()
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        exit_code = 0
        while not stopping:
            for child in children:
                code = child.poll()
                if code is not None:
                    self.stderr.write(f"{child.args[2:4]} exited with {code}; stopping.")
                    exit_code = code or 1
                    stopping = True
            time.sleep(0.2)
        # SIGTERM lets the worker finish its current task and granian finish requests.
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # The whole group: granian's own worker processes must not outlive it,
                # still holding the port.
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        if exit_code:
            raise SystemExit(exit_code)

    def collect_static(self) -> None:
        """Run collectstatic unless the static sources are unchanged since the last run:
        compressing every file again (gzip and brotli) takes seconds at each restart."""
        from django.contrib.staticfiles.finders import get_finders

        digest = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
        for finder in get_finders():
            for path, storage in finder.list([]):
                stat = os.stat(storage.path(path))
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        stamp = settings.STATIC_ROOT / ".clarion-collected"
        manifest = settings.STATIC_ROOT / "staticfiles.json"
        fingerprint = digest.hexdigest()
        if stamp.exists() and stamp.read_text() == fingerprint and manifest.exists():
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        stamp.write_text(fingerprint)


def check_address(host: str, port: int) -> None:
    """Refuse, in one line, an address granian could not listen on: granian finds out in
    each child process and prints a long traceback, while the server keeps waiting. A port
    taken between this check and granian's start still fails the old way."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise CommandError(f"--host {host}: {exc.strerror}", returncode=2) from None
    with socket.socket(family, kind, proto) as probe:
        # As a server does: a closed connection still in TIME_WAIT does not block the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                problem = "is already in use"
            elif exc.errno == errno.EACCES:
                problem = "needs privileges this user does not have"
            elif exc.errno == errno.EADDRNOTAVAIL:
                raise CommandError(
                    f"--host {host}: not an address of this machine", returncode=2
                ) from None
            else:
                problem = f"cannot be used ({exc.strerror})"
            raise CommandError(
                f"port {port} on {host} {problem}: choose another with --port (or CLARION_PORT)",
                returncode=2,
            ) from None
