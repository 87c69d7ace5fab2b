"""Periodic jobs run by the worker's ticker (listed in settings.CLARION_PERIODIC_JOBS)."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.utils import timezone

# A periodic job too; it lives in lib because the importers refresh statistics after an import.
from clarion.lib.planner import refresh_planner_statistics

__all__ = ["clean_throttle", "heartbeat", "refresh_planner_statistics", "scheduled_backup"]

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
