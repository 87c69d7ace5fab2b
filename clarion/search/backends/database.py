"""The default backend: the best full-text search the configured database offers."""

from __future__ import annotations

import logging
import warnings

from django.db import connection

from .base import BaseSearchBackend

log = logging.getLogger(__name__)

NO_FTS5 = (
    "This Python's SQLite library has no FTS5, so site search falls back to plain matching "
    "(no stemming, weak ranking). Install a Python built with a current SQLite, or use "
    "PostgreSQL (docs/search.md)."
)
NO_FTS_TABLE = (
    "The full-text index table is missing, so site search falls back to plain matching. "
    "Run `clarion manage rebuild_search_index`, then restart the web processes."
)


def _fallback(message: str, params: dict) -> BaseSearchBackend:
    from .fallback import FallbackSearchBackend

    warnings.warn(message, RuntimeWarning, stacklevel=3)
    log.warning(message)
    return FallbackSearchBackend(params)


def SearchBackend(params: dict) -> BaseSearchBackend:  # noqa: N802 - stands in for a class
    """Pick by ``connection.vendor``, probing SQLite for FTS5 and for the index table.

    ``params["rebuilding"]`` skips the table probe: rebuilding is what creates the table.
    """
    if connection.vendor == "postgresql":
        from .postgres import PostgresSearchBackend

        return PostgresSearchBackend(params)
    if connection.vendor == "sqlite":
        from .sqlite import SQLiteSearchBackend, fts5_available, fts_table_exists

        if not fts5_available():
            return _fallback(NO_FTS5, params)
        if not params.get("rebuilding") and not fts_table_exists():
            return _fallback(NO_FTS_TABLE, params)
        return SQLiteSearchBackend(params)
    return _fallback(f"No full-text search for {connection.vendor}; using plain matching.", params)
