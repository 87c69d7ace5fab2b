"""The query planner's statistics: refreshed hourly by the worker (a periodic job listed in
settings.CLARION_PERIODIC_JOBS as clarion.ops.jobs.refresh_planner_statistics), at start-up,
and after an import that grew the site at once."""

from __future__ import annotations

import time

from django.db import connections

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
