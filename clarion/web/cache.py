"""The page cache's store: what makes a key, what is stored, and how pages go stale.

Entries are keyed by the content generation (one row, read once per request), so any
publish, edit, delete or settings change made through any process makes every page fresh on
every process at once: whatever changes public content calls ``invalidate``, the one way to
do it. Entries also expire after ``CLARION_PAGE_CACHE_SECONDS``, so a scheduled post that
becomes visible by the clock alone shows up even before the worker's tick bumps the
generation.

Serving entries is pagecache.py's; the per-reader CSRF tokens in them are csrf.py's.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import Resolver404, resolve
from django.utils.http import http_date

from .models import ContentGeneration

log = logging.getLogger(__name__)


def invalidate(reason: str) -> None:
    """Make every cached page stale, on every process: bump the content generation.

    The bump is written in the caller's transaction, so readers see the new generation
    exactly when they can see the change, and never if it rolls back; the shared copy that
    processes read on SQLite is updated as the transaction commits (generation.py).
    ``reason`` says what changed, for the debug log.
    """
    ContentGeneration.bump()
    log.debug("pages invalidated: %s", reason)


# Views whose output depends only on the content, the address and the query string.
CACHEABLE_VIEWS = frozenset(
    {
        "posts:home",
        "posts:home_page",
        "posts:detail",
        "posts:category",
        "posts:category_page",
        "posts:category_feed",
        "posts:tag",
        "posts:tag_page",
        "posts:author",
        "posts:author_page",
        "posts:year",
        "posts:year_page",
        "posts:month",
        "posts:month_page",
        "posts:feed",
        "posts:feed_atom",
        "posts:robots",
        "django.contrib.sitemaps.views.sitemap",
    }
)

# Query parameters that links from newsletters and social networks add and no page reads;
# dropped from the key so a crowd arriving with a unique fbclid each still hits the cache.
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid"})

# Response headers that are not part of the stored page: per request or per reader, or set
# when serving. Everything else (the security middleware's, the CSP with the nonce the page's
# scripts carry, Permissions-Policy, X-Frame-Options, Content-Language) is stored with it.
SKIPPED_HEADERS = frozenset(
    {
        "content-length",
        "set-cookie",
        "vary",
        "cache-control",
        "etag",
        "last-modified",
        "date",
        "x-request-id",
    }
)

# Entries are stored once and served many times: format each one's date once.
_http_date = lru_cache(maxsize=1024)(http_date)

# Pages this process has read from the shared cache lately. A key names its content
# generation, so what it holds never changes: a copy here is exact, and expires when the
# shared entry does (stored_at + CLARION_PAGE_CACHE_SECONDS). With Redis, a hit was a
# network round trip and the unpickling of a whole page, about 210 µs of CPU, 27 with the
# copy (docs/benchmarks.md); with the local memory cache it spares the unpickling. Bounded
# to the most recently read pages, so old generations' pages fall out.
NEAR_PAGES = 256
_near: OrderedDict[str, tuple] = OrderedDict()
_near_lock = threading.Lock()


def forget_near_pages() -> None:
    """Drop this process's copies (tests empty the shared cache between tests)."""
    with _near_lock:
        _near.clear()


def read(key: str):
    """The entry stored under ``key``: this process's copy, else the shared cache's."""
    with _near_lock:
        entry = _near.get(key)
        if entry is not None:
            if entry[3] + hit_settings().CLARION_PAGE_CACHE_SECONDS > time.time():
                _near.move_to_end(key)
                return entry
            del _near[key]
    entry = cache.get(key)
    if entry is not None:
        keep(key, entry)
    return entry


def keep(key: str, entry: tuple) -> None:
    """Keep this process's copy of an entry just read or stored."""
    with _near_lock:
        _near[key] = entry
        _near.move_to_end(key)
        while len(_near) > NEAR_PAGES:
            _near.popitem(last=False)


def make_entry(body: bytes, headers, has_token: bool) -> tuple:
    """What is stored for a page: its body, the headers it is replayed with, its ETag,
    when it was stored and whether its body holds the CSRF sentinel."""
    stored = tuple((name, value) for name, value in headers if name.lower() not in SKIPPED_HEADERS)
    etag = f'W/"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
    return (body, stored, etag, int(time.time()), has_token)


STORED = "miss"
SERVED = "hit"


@lru_cache(maxsize=4096)
def cacheable_path(path_info: str) -> bool:
    try:
        match = resolve(path_info)
    except Resolver404:
        return False
    return match.view_name in CACHEABLE_VIEWS


_SETTINGS_READ_PER_HIT = (
    "CLARION_PAGE_CACHE",
    "CLARION_PAGE_CACHE_SECONDS",
    "CLARION_ACCESS_LOG",
    "CLARION_HTTP_MAX_AGE",
    "CLARION_HTTP_STALE_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_AGE",
    "CSRF_COOKIE_PATH",
    "CSRF_COOKIE_DOMAIN",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
)


@lru_cache(maxsize=1)
def hit_settings():
    """The settings a hit reads, as plain attributes: each read through Django's lazy
    ``settings`` object costs about a microsecond, and a hit made a dozen of them."""
    return SimpleNamespace(**{name: getattr(settings, name) for name in _SETTINGS_READ_PER_HIT})


@receiver(setting_changed)
def _forget_resolved_paths(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        cacheable_path.cache_clear()
    hit_settings.cache_clear()


def cache_key(request, generation: int) -> str:
    return page_key(
        generation,
        request.scheme,
        request.get_host(),
        request.path_info,
        request.META.get("QUERY_STRING", ""),
    )


def page_key(generation: int, scheme: str, host: str, path: str, query: str) -> str:
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, v) for k, v in pairs if k not in TRACKING_PARAMS and not k.startswith("utm_")]
        )
    # The scheme is part of the key: an https page carries HSTS, and with
    # SECURE_SSL_REDIRECT an http request is redirected, so nothing is stored under http.
    where = f"{scheme}://{host}{path}?{query}"
    return (
        f"clarion:page:{generation}:"
        + hashlib.md5(where.encode(), usedforsecurity=False).hexdigest()
    )


def hit_headers(entry: tuple, sets_cookie: bool, state: str) -> list[tuple[str, str]]:
    """The headers of a page served from the cache, but for the CSRF cookie and the
    request id: the same on both paths (Django's and ``FastPath``)."""
    conf = hit_settings()
    body, stored, etag, stored_at, has_token = entry
    headers = list(stored)
    if sets_cookie:
        headers.append(("Cache-Control", f"private, max-age={conf.CLARION_HTTP_MAX_AGE}"))
    else:
        headers.append(("Cache-Control", _public_control()))
    if has_token:
        headers.append(("Vary", "Cookie"))
    headers += [
        ("ETag", etag),
        ("Last-Modified", _http_date(stored_at)),
        ("X-Clarion-Cache", state),
    ]
    return headers


def _public_control() -> str:
    conf = hit_settings()
    return (
        f"public, max-age={conf.CLARION_HTTP_MAX_AGE}, "
        f"stale-while-revalidate={conf.CLARION_HTTP_STALE_SECONDS}"
    )
