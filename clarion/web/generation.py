"""The content generation as every request reads it: cheaply, and fresh across processes.

``ContentGeneration`` (models.py) is the truth: one row, bumped in the same transaction as
any public change. Every request needs its value (the page cache's keys and the per-process
copies of the site settings and sidebar are keyed on it), so reading it is on the hot path
of every page-cache hit.

On PostgreSQL the row is read on the driver's connection, once per request.

On SQLite every process runs on one machine, next to the database file, and a SELECT per
request was the largest part of a page-cache hit under load: each read transaction takes
SQLite's locks on the WAL index, and the threads of a process queue for them (a hit served
about 1.4× as many pages a second without it; docs/benchmarks.md). So beside the database
file there is a small shared file, mapped into memory by every process, that holds the last
committed generation:

- whoever bumps the generation writes the new value into it as soon as the transaction
  commits (``transaction.on_commit``), before the response that made the change is sent,
  so the next request on any process sees it: "fresh at once" needs no timer;
- a request reads 8 bytes of shared memory instead of querying;
- each thread still reads the row itself at most once a second
  (``CLARION_GENERATION_CHECK_SECONDS``), and corrects the file if they differ. That only
  matters when the value was changed without the hook running (a process killed between
  its commit and the hook, a restored backup, a manual edit of the database): those show
  within a second instead of waiting for the next publish.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import struct
import threading
import time

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

log = logging.getLogger(__name__)

_COUNTER = struct.Struct("<Q")  # one little-endian 64-bit value, 8-byte aligned

_GENERATION_SQL: str | None = None


def _sql(wrapper) -> str:
    global _GENERATION_SQL
    if _GENERATION_SQL is None:
        # Looked up, not imported: models.py imports this module (to announce a bump).
        qn = wrapper.ops.quote_name
        table = apps.get_model("web", "ContentGeneration")._meta.db_table
        _GENERATION_SQL = f"SELECT {qn('value')} FROM {qn(table)} WHERE {qn('id')} = 1"
    return _GENERATION_SQL


def read_from_database() -> int:
    """``ContentGeneration.current()`` without the ORM: building that query cost more than
    the rest of a page-cache hit. It goes straight to the driver's connection (sqlite3 and
    psycopg both have ``execute``): Django's cursor wrapper was another 20 µs of a 100 µs
    hit. The connection is in autocommit, as Django keeps it outside a transaction; on any
    error it is closed, so the next request reconnects. Inside a transaction it goes through
    Django's cursor, and so sees the transaction's own bump."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy is a lookup
    if wrapper.in_atomic_block or wrapper.vendor not in ("sqlite", "postgresql"):
        with wrapper.cursor() as cursor:
            cursor.execute(_sql(wrapper))
            row = cursor.fetchone()
        return row[0] if row else 0
    if wrapper.connection is None:
        wrapper.ensure_connection()
    try:
        row = wrapper.connection.execute(_sql(wrapper)).fetchone()
    except Exception:
        wrapper.close()
        raise
    return row[0] if row else 0


class SharedCounter:
    """An unsigned 64-bit counter in a file mapped into every process that opens it.

    The file is created in place (never replaced by a rename), so every process maps the
    same file. Readers take no lock: an aligned 8-byte value is read whole. A writer holds
    an exclusive ``flock`` while it reads the database and stores what it read, so writers
    take turns and the last one to store has read the newest committed value: a process
    that read an older value cannot overwrite a newer one.
    """

    def __init__(self, path: str, owner_of: str | None = None):
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            stat = os.fstat(fd)
            if owner_of and os.geteuid() == 0 and stat.st_uid == 0:
                # Made by root (`sudo clarion manage …`): give it to whoever owns the
                # database, or the web processes could not open it.
                try:
                    owner = os.stat(owner_of)
                except FileNotFoundError:
                    pass
                else:
                    os.fchown(fd, owner.st_uid, owner.st_gid)
            if stat.st_size < _COUNTER.size:
                os.ftruncate(fd, _COUNTER.size)  # zero-filled: "not known yet"
            self._map = mmap.mmap(fd, _COUNTER.size, mmap.MAP_SHARED)
        finally:
            os.close(fd)
        self._lock_path = path  # flock on a fresh descriptor: locks belong to open files

    def read(self) -> int:
        return _COUNTER.unpack_from(self._map)[0]

    def store(self, read_value) -> int:
        """Store what ``read_value()`` returns, called under the lock; returns it."""
        fd = os.open(self._lock_path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            value = read_value()
            _COUNTER.pack_into(self._map, 0, value)
            return value
        finally:
            os.close(fd)  # releases the lock


class _State(threading.local):
    """Per thread: the last time this thread checked the file against the database.

    Per thread, not per process, because each thread has its own database connection. A
    new thread counts as just checked: the file is right unless something bypassed the
    hook, and the first check comes one interval later like every other (a check at each
    thread's first request would make freshness depend on which thread answers)."""

    def __init__(self):
        self.verified_at = time.monotonic()


_state = _State()
_counter: SharedCounter | None = None
_counter_for: object = None  # the database NAME the counter was opened for
_counter_lock = threading.Lock()


def _shared_counter(wrapper) -> SharedCounter | None:
    """The counter beside this SQLite database file, or None (PostgreSQL, an in-memory
    SQLite database, or a folder the process cannot write)."""
    global _counter, _counter_for
    name = wrapper.settings_dict["NAME"]
    if _counter_for is name or _counter_for == name:  # `is`: a Path's == costs a microsecond
        return _counter
    with _counter_lock:
        if _counter_for != name:
            counter = None
            if wrapper.vendor == "sqlite" and not wrapper.is_in_memory_db():
                try:
                    counter = SharedCounter(f"{name}-generation", owner_of=str(name))
                except OSError as error:
                    log.warning("content generation read from the database: %s", error)
            _counter, _counter_for = counter, name
    return _counter


def current_generation() -> int:
    """The content generation this request should use (module docstring)."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy is a lookup
    counter = _shared_counter(wrapper)
    if counter is None or wrapper.in_atomic_block:
        return read_from_database()
    value = counter.read()
    now = time.monotonic()
    if value == 0 or now - _state.verified_at >= settings.CLARION_GENERATION_CHECK_SECONDS:
        _state.verified_at = now
        if read_from_database() != value:
            value = counter.store(read_from_database)
    return value


def announce_after_commit() -> None:
    """Called by ``ContentGeneration.bump()``: once the transaction commits, store the new
    value where every process reads it."""
    if _shared_counter(connections[DEFAULT_DB_ALIAS]) is None:
        return

    def announce():
        counter = _shared_counter(connections[DEFAULT_DB_ALIAS])
        if counter is not None:
            counter.store(read_from_database)

    transaction.on_commit(announce, robust=True)
