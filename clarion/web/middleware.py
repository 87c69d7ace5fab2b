"""Request ids and access log lines, and the Permissions-Policy header every page carries."""

from __future__ import annotations

import logging
import re
import time

from django.conf import settings

from clarion.lib.randomness import token_bytes

from .logs import redact, request_id, sole_handler_for

access_log = logging.getLogger("clarion.request")

# An incoming id is reused only when it cannot smuggle anything into a log line.
WELL_FORMED_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def choose_request_id(incoming: str) -> str:
    """The proxy's ``X-Request-ID`` when well formed, else a new random one."""
    return incoming if WELL_FORMED_REQUEST_ID.match(incoming) else token_bytes(16).hex()


def log_request(method: str, path: str, status: int, started: float) -> None:
    """The one access-log line per request (Django's path and the page cache's fast path).

    With Clarion's own logging configuration the line is formatted straight into the log
    handler's batch: the same text the record would give (tests/web/test_logging.py checks
    that), at a fifth of the cost of making a record and passing it through the filters
    and the formatter, which had been a third of a page-cache hit. With any other
    configuration (or a test capturing logs) it is an ordinary record, made with
    ``makeRecord`` and ``handle`` rather than ``info()``, which would walk the stack to
    find a caller that is always this function."""
    if not (settings.CLARION_ACCESS_LOG and access_log.isEnabledFor(logging.INFO)):
        return
    elapsed = (time.monotonic() - started) * 1000
    handler = sole_handler_for(access_log, logging.INFO)
    if handler is not None:
        message = redact(f"{method} {path} {status} {elapsed:.1f}ms")
        handler.write_line(
            handler.formatter.line(time.time(), "INFO", access_log.name, request_id.get(), message)
        )
        return
    args = (method, path, status, elapsed)
    access_log.handle(
        access_log.makeRecord(access_log.name, logging.INFO, "", 0, "%s %s %s %.1fms", args, None)
    )


class RequestIdMiddleware:
    """Give each request an id (``request.id``), reusing a well-formed ``X-Request-ID``
    from the proxy; echo it in the response and write one log line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = choose_request_id(request.headers.get("X-Request-ID", ""))
        request_id.set(request.id)
        started = time.monotonic()
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        log_request(request.method, request.path, response.status_code, started)
        # Django logs errors after the middleware returns: keep the id until the response
        # is closed.
        response._resource_closers.append(lambda: request_id.set("-"))
        return response


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.value = ", ".join(f"{feature}=()" for feature in settings.CLARION_PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.value)
        return response
