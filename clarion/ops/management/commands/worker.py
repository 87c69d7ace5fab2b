"""``clarion worker``: background work only (tasks plus the periodic tick).

Tasks come from django-tasks' database backend. Periodic jobs (publishing scheduled posts,
re-claiming abandoned email deliveries, …) are dotted paths in
``settings.CLARION_PERIODIC_JOBS``, run by a ticker thread every CLARION_TICK_SECONDS.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Worker

log = logging.getLogger("clarion.worker")


def run_periodic_jobs() -> None:
    for path in settings.CLARION_PERIODIC_JOBS:
        try:
            import_string(path)()
        except Exception:
            # One failing job must not stop the others, nor the next tick.
            log.exception("periodic job %s failed", path)
        finally:
            close_old_connections()


class Ticker(threading.Thread):
    def __init__(self, interval: float):
        super().__init__(name="clarion-ticker", daemon=True)
        self.interval = interval
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            run_periodic_jobs()
            self.stopping.wait(self.interval)


class Command(BaseCommand):
    help = "Run background work only: email sending, scheduled publishing, indexing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between polls for tasks."
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run the periodic jobs once and every queued task, then exit.",
        )
        parser.add_argument("--worker-id", default="", help="A name for this worker's logs.")

    def handle(self, *args, interval, batch, worker_id, **options):
        worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"[:64]
        worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        if batch:
            run_periodic_jobs()
            worker.run()
            run_periodic_jobs()  # work the tasks may have made due
            return
        ticker = Ticker(settings.CLARION_TICK_SECONDS)
        ticker.start()
        log.info("worker %s started (tick every %ss)", worker_id, ticker.interval)
        worker.configure_signals()
        try:
            worker.run()
        finally:
            ticker.stopping.set()
            worker.reset_signals()
            time.sleep(0)
