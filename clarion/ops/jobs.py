"""Periodic jobs run by the worker's ticker (listed in settings.CLARION_PERIODIC_JOBS)."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.utils import timezone

log = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}-{os.getpid()}"[:128]


def heartbeat() -> None:
    """Record that this worker process is alive, and forget workers gone for a day."""
    from .models import WorkerHeartbeat

    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(worker_id=WORKER_ID, defaults={"last_seen": now})
    WorkerHeartbeat.objects.stale(timedelta(days=1)).delete()


def clean_throttle() -> None:
    from clarion.web.throttle import forget_old_windows

    forget_old_windows()


def scheduled_backup() -> None:
    from .backup import run_scheduled_backup

    run_scheduled_backup()


_last_statistics: float = 0.0
STATISTICS_INTERVAL = 3600


def refresh_planner_statistics(force: bool = False, using: str = "default") -> None:
    """Keep SQLite's query planner informed as the site grows (hourly, and at start-up).

    Without statistics SQLite reads the home page's ten newest posts through the status
    index and sorts every live post (7 ms at 1,000 posts) instead of walking the index built
    for that order (under 1 ms). ``analysis_limit`` bounds the work to a sample of each
    index. PostgreSQL's autovacuum keeps its own statistics.
    """
    global _last_statistics
    import time

    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    now = time.monotonic()
    if not force and now - _last_statistics < STATISTICS_INTERVAL:
        return
    _last_statistics = now
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")
