"""Log records: one line per event, tagged with the request id, with personal data removed.

Used from ``settings.LOGGING``; kept free of Django imports so logging can be configured
before apps load.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import threading
import time
import weakref

# The id of the request being handled in this thread/task ("-" outside requests).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REDACTED = "[redacted]"
_PATTERNS = [
    # Addresses, including percent-encoded ones from query strings (a%40b.org).
    (
        re.compile(r"[A-Za-z0-9._%+'-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
        "[email]",
    ),
    # Secret path segments: /subscribe/confirm/<token>/, /unsubscribe/<token>/ and any
    # .../token/<token>/ style address.
    (re.compile(r"(/(?:confirm|unsubscribe|token|reset)/)[^/\s?#\"']+"), rf"\1{REDACTED}"),
    # Tokens in query strings and key=value pairs.
    (
        re.compile(
            r"((?:token|key|signature|password|secret|csrfmiddlewaretoken|sessionid|csrftoken)"
            r"=)[^&\s;\"']+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
]


# Each pattern needs one of these in the text. Checking for them first makes the usual
# record (an access-log line for a plain address) cost a few substring tests instead of
# three regular expression searches, a third of the cost of logging it.
_NEEDLES = ("@", "%40", "=", "/confirm/", "/unsubscribe/", "/token/", "/reset/")
_ANY_NEEDLE = re.compile("|".join(map(re.escape, _NEEDLES)))


def redact(text: str) -> str:
    if not _ANY_NEEDLE.search(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactFilter(logging.Filter):
    """Remove email addresses and tokens from the message and any traceback of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class WarningWithoutTraceback(logging.Filter):
    """A refused request (django.security.*: a Host header not in ALLOWED_HOSTS, a forged
    cookie) is the client's mistake, not the site's: Django logs each at ERROR with its
    traceback, a few kilobytes any stranger can make Clarion write as fast as it can send
    requests. Keep the one-line message, at WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = record.stack_info = None
        return True


class PlainFormatter(logging.Formatter):
    """``time level logger [request id] message``; a traceback stays on one line."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return _one_line(super().format(record))

    def line(self, created: float, level: str, name: str, rid: str, message: str) -> str:
        """What ``format`` gives for a record with these fields and no traceback, without
        a record (the access log's fast path; tests/web/test_logging.py compares them)."""
        return _one_line(f"{_local_asctime(created)} {level} {name} [{rid}] {message}")


# Control characters and line separators as Python writes them in a string (\n, \r, \x00,
# \x1b, \u2028): a request's
# path or a message can then neither start a line of its own nor move a terminal's cursor.
_CONTROLS = {c: repr(chr(c))[1:-1] for c in [*range(0x20), 0x7F, 0x85, 0x2028, 0x2029]}


def _one_line(text: str) -> str:
    return text if text.isprintable() else text.translate(_CONTROLS)


_asctime_second: tuple[int, str] = (-1, "")


def _local_asctime(created: float) -> str:
    """``logging.Formatter.formatTime`` with its default formats, the strftime part kept
    for the second it is in."""
    global _asctime_second
    second = int(created)
    if _asctime_second[0] != second:
        _asctime_second = (second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created)))
    return f"{_asctime_second[1]},{int((created - second) * 1000):03d}"


class JsonFormatter(logging.Formatter):
    def line(self, created: float, level: str, name: str, rid: str, message: str) -> str:
        """What ``format`` gives for a record with these fields and no traceback."""
        return json.dumps(_json_fields(created, level, name, rid, message), ensure_ascii=False)

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None) or request_id.get()
        data = _json_fields(record.created, record.levelname, record.name, rid, record.getMessage())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


def _json_fields(created: float, level: str, name: str, rid: str, message: str) -> dict:
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
        + f".{int((created - int(created)) * 1000):03d}Z",
        "level": level,
        "logger": name,
        "request_id": rid,
        "message": message,
    }


class BufferedStreamHandler(logging.StreamHandler):
    """``logging.StreamHandler`` that writes its lines in batches.

    A write to stdout is a system call, and CPython lets go of the interpreter lock around
    it; under load, a serving thread that lets go waits behind the others to get it back.
    One access-log line per request, written at once, took a third off the page-cache hit
    rate (docs/benchmarks.md). Here lines are collected and written together a moment
    later (``FLUSH_SECONDS``) by a thread of the handler's own, or at once when the batch
    is large, when a record is a warning or worse (so an error is never held back), and
    when logging shuts down at exit. A process killed outright loses at most that moment
    of lines, as nginx's buffered access log does.
    """

    FLUSH_SECONDS = 0.2
    MAX_PENDING = 64 * 1024  # characters

    def __init__(self, stream=None):
        super().__init__(stream)
        self._pending: list[str] = []
        self._pending_size = 0
        self._due = threading.Event()
        self._flusher: threading.Thread | None = None
        _buffered_handlers.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        # Called with the handler's lock held (Handler.handle).
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._add(line, urgent=record.levelno >= logging.WARNING)

    def write_line(self, line: str) -> None:
        """Add an already formatted line (the access log's fast path)."""
        with self.lock:
            self._add(line, urgent=False)

    def _add(self, line: str, *, urgent: bool) -> None:
        line += self.terminator
        self._pending.append(line)
        self._pending_size += len(line)
        if urgent or self._pending_size >= self.MAX_PENDING:
            self._write_pending()
            return
        if self._flusher is None:
            self._flusher = threading.Thread(
                target=self._flush_soon, name="log-flusher", daemon=True
            )
            self._flusher.start()
        if not self._due.is_set():  # set() takes a lock; most lines find it set already
            self._due.set()

    def flush(self) -> None:
        with self.lock:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            try:
                self.stream.write(text)
            except Exception:  # as StreamHandler: a broken stdout must not break requests
                return
        if self.stream and hasattr(self.stream, "flush"):
            try:
                self.stream.flush()
            except Exception:
                pass

    def _flush_soon(self) -> None:
        while True:
            self._due.wait()
            time.sleep(self.FLUSH_SECONDS)
            with self.lock:
                self._due.clear()
                self._write_pending()

    def _after_fork_in_child(self) -> None:
        # The parent's lines are the parent's to write, and its thread did not come along.
        self._pending.clear()
        self._pending_size = 0
        self._due = threading.Event()
        self._flusher = None


_buffered_handlers: weakref.WeakSet[BufferedStreamHandler] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for handler in list(_buffered_handlers):
        handler._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)


def sole_handler_for(logger: logging.Logger, level: int) -> BufferedStreamHandler | None:
    """The handler a record of ``logger`` would reach, when it is the only one and is
    exactly Clarion's own (a ``BufferedStreamHandler`` with the request-id and redacting
    filters and one of the two formatters above), with no logger filter on the way; else
    None (another configuration, or a test capturing logs), and the record must go the
    usual way."""
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        found.extend(current.handlers)
        if not current.propagate:
            break
        current = current.parent
    if len(found) != 1:
        return None
    handler = found[0]
    if (
        type(handler) is BufferedStreamHandler
        and handler.level <= level
        and type(handler.formatter) in (PlainFormatter, JsonFormatter)
        and sorted(type(f).__name__ for f in handler.filters) == _OWN_FILTERS
    ):
        return handler
    return None


_OWN_FILTERS = ["RedactFilter", "RequestIdFilter"]
