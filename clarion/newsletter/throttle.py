"""Request throttling shared by every web process, with nothing but the database.

django-ratelimit refuses the local-memory and database caches, and a per-process counter
would let N processes take N times the limit; a row per (key, window) counts exactly.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import F

from .models import ThrottleBucket


def allow(key: str, *, limit: int, window: int, now: float | None = None) -> bool:
    """Count one request for ``key``; False once more than ``limit`` arrived this window."""
    now = int(now if now is not None else time.time())
    start = now - now % window
    bucket = ThrottleBucket.objects.filter(key=key, window_start=start)
    with transaction.atomic():
        if not bucket.update(hits=F("hits") + 1):
            ThrottleBucket.objects.bulk_create(
                [ThrottleBucket(key=key, window_start=start, hits=0)], ignore_conflicts=True
            )
            bucket.update(hits=F("hits") + 1)
        hits = bucket.values_list("hits", flat=True).first() or 0
    return hits <= limit
