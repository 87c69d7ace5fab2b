"""Per-address throttling for public POST endpoints (subscribe, unsubscribe, suggestions).

Fixed windows: at most ``limit`` requests per client per window of ``seconds``. State lives
in the shared cache when it is Redis (one counter for every web process and machine), and
otherwise in a small table (``web.ThrottleCounter``), which every process on one database
shares too. Addresses are stored only as keyed hashes.

    @throttle("subscribe")            # rate from settings.CLARION_THROTTLE_RATES
    def subscribe(request): ...
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.shortcuts import render
from django.utils import timezone

from .models import ThrottleCounter

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
# Windows older than this are deleted by the worker (clarion.ops.jobs.clean_throttle).
KEEP_WINDOWS_FOR = timedelta(days=1)


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"5/10m"`` is five per ten minutes; units s, m, h, d."""
        match = _RATE.match(text)
        if not match:
            raise ValueError(f"not a rate: {text!r} (expected e.g. 5/10m)")
        limit, count, unit = match.groups()
        seconds = int(count or 1) * _UNITS[unit]
        if seconds > KEEP_WINDOWS_FOR.total_seconds():
            raise ValueError(f"rate window over a day: {text!r}")
        return cls(int(limit), seconds)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    hits: int
    retry_after: int


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the address CLARION_PROXY_COUNT trusted
    proxies put in X-Forwarded-For (the rightmost ones are theirs, the rest can be forged)."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.CLARION_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    return address


def client_key(address: str) -> str:
    """A keyed hash of the address; IPv6 clients are grouped by /64, as one host gets one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if ip is not None and ip.version == 6 and not ip.ipv4_mapped:
        address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    elif ip is not None and ip.version == 6:
        address = str(ip.ipv4_mapped)
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, f"throttle:{address}".encode(), hashlib.sha256).hexdigest()[:40]


def _uses_redis() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


class Throttle:
    def __init__(self, scope: str, rate: Rate | str):
        self.scope = scope
        self.rate = Rate.parse(rate) if isinstance(rate, str) else rate

    def hit(self, key: str, now: float | None = None) -> Decision:
        """Count one request from ``key`` and say whether it may go ahead."""
        now = time.time() if now is None else now
        window = int(now // self.rate.seconds) * self.rate.seconds
        hits = (
            self._count_in_cache(key, window) if _uses_redis() else self._count_in_db(key, window)
        )
        retry_after = max(1, int(window + self.rate.seconds - now))
        return Decision(hits <= self.rate.limit, hits, retry_after)

    def _count_in_cache(self, key: str, window: int) -> int:
        name = f"clarion:throttle:{self.scope}:{key}:{window}"
        cache.add(name, 0, timeout=self.rate.seconds + 5)
        try:
            return cache.incr(name)
        except ValueError:  # expired between add and incr
            cache.add(name, 1, timeout=self.rate.seconds + 5)
            return 1

    def _count_in_db(self, key: str, window: int) -> int:
        start = datetime.fromtimestamp(window, UTC)
        # One statement in the common case: count and read back atomically (SQLite 3.35+
        # and PostgreSQL both support UPDATE … RETURNING).
        sql = (
            f"UPDATE {ThrottleCounter._meta.db_table} SET hits = hits + 1 "
            "WHERE scope = %s AND client = %s AND window_start = %s RETURNING hits"
        )
        params = [self.scope, key, connection.ops.adapt_datetimefield_value(start)]
        for _ in range(2):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            if row:
                return row[0]
            try:
                with transaction.atomic():
                    ThrottleCounter.objects.create(
                        scope=self.scope, client=key, window_start=start, hits=1
                    )
                return 1
            except IntegrityError:  # another process created it first: count again
                continue
        raise RuntimeError("throttle counter vanished twice")  # pragma: no cover


def forget_old_windows() -> int:
    deleted, _ = ThrottleCounter.objects.filter(
        window_start__lt=timezone.now() - KEEP_WINDOWS_FOR
    ).delete()
    return deleted


def refusal(request, scope: str, rate: str | None = None):
    """Count one request from this client in ``scope``; return the polite 429 response if
    it is over the limit, else None."""
    if not settings.CLARION_THROTTLE_ENABLED:
        return None
    spec = rate or settings.CLARION_THROTTLE_RATES[scope]
    decision = Throttle(scope, spec).hit(client_key(client_address(request)))
    if decision.allowed:
        return None
    response = render(
        request,
        "web/throttled.html",
        {"retry_minutes": max(1, round(decision.retry_after / 60))},
        status=429,
    )
    response["Retry-After"] = str(decision.retry_after)
    return response


def throttle(scope: str, rate: str | None = None, methods=("POST",)):
    """Limit ``methods`` requests to the view per client address; over the limit, answer
    429 with a polite page and Retry-After, without calling the view."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                refused = refusal(request, scope, rate)
                if refused is not None:
                    return refused
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
