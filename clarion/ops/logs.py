"""Log records: one line per event, tagged with the request id, with personal data removed.

Used from ``settings.LOGGING``; kept free of Django imports so logging can be configured
before apps load.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time

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


def redact(text: str) -> str:
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


class PlainFormatter(logging.Formatter):
    """``time level logger [request id] message``; a traceback stays on one line."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return super().format(record).replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or request_id.get(),
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)
