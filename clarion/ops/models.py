from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone


class WorkerHeartbeatQuerySet(models.QuerySet):
    def latest_seen(self):
        return self.aggregate(latest=models.Max("last_seen"))["latest"]

    def stale(self, older_than: timedelta):
        return self.filter(last_seen__lt=timezone.now() - older_than)


class WorkerHeartbeat(models.Model):
    """The last time each worker process ran its periodic jobs (read by /healthz)."""

    worker_id = models.CharField(max_length=128, unique=True)
    last_seen = models.DateTimeField(db_index=True)

    objects = WorkerHeartbeatQuerySet.as_manager()

    def __str__(self):
        return f"{self.worker_id} seen {self.last_seen:%Y-%m-%d %H:%M:%S}"
