"""The page cache: rendered public pages, served to anonymous readers from the shared cache.

Entries are keyed by the content generation (one row, read once per request), so any
publish, edit, delete or settings change made through any process makes every page fresh on
every process at once. Entries also expire
after ``CLARION_PAGE_CACHE_SECONDS``, so a scheduled post that becomes visible by the clock
alone shows up even before the worker's tick bumps the generation.

Pages carry the subscribe form and so a CSRF token. Pages are rendered with a fixed
sentinel in place of the token; each reader gets the sentinel replaced with a token of
their own (``get_token``), so one reader's token is never served to another.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from functools import lru_cache
from importlib import import_module
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CsrfViewMiddleware,
    get_token,
)
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from clarion.posts.middleware import current_generation

log = logging.getLogger(__name__)

# Exactly as long as a real masked token and alphanumeric like one, so nothing that
# measures or escapes the token can tell them apart; it never occurs in real content.
CSRF_SENTINEL = "cLaRiOnPaGeCaChECsRfSeNtInEl" + "0" * 36
_SENTINEL_BYTES = CSRF_SENTINEL.encode()

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

# Response headers that are not part of the stored page: per reader, or set when serving.
_SKIPPED_HEADERS = frozenset(
    {"content-length", "set-cookie", "vary", "cache-control", "etag", "last-modified", "date"}
)

_STORED = "miss"
_SERVED = "hit"


_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {c: i for i, c in enumerate(_CHARS)}
# Random bytes at or above this would favour the first characters: they are dropped.
_UNBIASED = 256 - 256 % len(_CHARS)


def _random_csrf_string() -> str:
    """What ``django.middleware.csrf._get_new_csrf_string`` returns (32 of the 62 allowed
    characters, uniformly from the OS's CSPRNG), from one ``os.urandom`` call instead of
    64 ``SystemRandom.choice`` calls: that was a third of a cache hit's time."""
    chars: list[str] = []
    while len(chars) < CSRF_SECRET_LENGTH:
        chars += [_CHARS[b % len(_CHARS)] for b in os.urandom(48) if b < _UNBIASED]
    return "".join(chars[:CSRF_SECRET_LENGTH])


def csrf_token(request) -> str:
    """``django.middleware.csrf.get_token`` for a request CsrfViewMiddleware has read:
    the same masked format (mask + secret ciphered by it), checked by the same middleware
    (the tests post forms with these tokens); a new reader gets a new secret and cookie."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = _random_csrf_string()
        request.META["CSRF_COOKIE"] = secret
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _random_csrf_string()
    n = len(_CHARS)
    pairs = zip(secret, mask, strict=True)
    return mask + "".join(_CHARS[(_INDEX[x] + _INDEX[y]) % n] for x, y in pairs)


@lru_cache(maxsize=4096)
def cacheable_path(path_info: str) -> bool:
    try:
        match = resolve(path_info)
    except Resolver404:
        return False
    return match.view_name in CACHEABLE_VIEWS


@receiver(setting_changed)
def _forget_resolved_paths(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        cacheable_path.cache_clear()


def csrf_sentinel(request):
    """Context processor: while a page is being rendered for the cache, ``{% csrf_token %}``
    writes the sentinel (listed after Django's built-in csrf processor, so it wins)."""
    if getattr(request, "_page_cache_rendering", False):
        return {"csrf_token": CSRF_SENTINEL}
    return {}


def cache_key(request, generation: int) -> str:
    return _key(
        generation, request.get_host(), request.path_info, request.META.get("QUERY_STRING", "")
    )


def _key(generation: int, host: str, path: str, query: str) -> str:
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, v) for k, v in pairs if k not in TRACKING_PARAMS and not k.startswith("utm_")]
        )
    where = f"{host}{path}?{query}"
    return (
        f"clarion:page:{generation}:"
        + hashlib.md5(where.encode(), usedforsecurity=False).hexdigest()
    )


class PageCacheMiddleware:
    """Serve public pages to anonymous readers from the cache; mark staff pages private.

    Placed right after the security and static-file middleware, so a hit costs one query
    (the content generation) and skips sessions, authentication, URL dispatch, the view and
    the templates. The headers the inner middleware added to the page when it was rendered
    (X-Frame-Options, Content-Language, …) are stored with it and replayed; the CSRF cookie
    is handled here, through ``CsrfViewMiddleware``'s own hooks.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(get_response)
        self.sessions = import_module(settings.SESSION_ENGINE).SessionStore

    def __call__(self, request):
        if (
            request.method not in ("GET", "HEAD")
            or not settings.CLARION_PAGE_CACHE
            or not cacheable_path(request.path_info)
        ):
            return self.get_response(request)
        session = self._session(request)
        if session is not None and session.get(SESSION_KEY):
            response = self.get_response(request)
            # Signed-in staff may see drafts in the sidebar, admin links…: never shared.
            patch_cache_control(response, private=True, no_store=True)
            return response
        if "messages" in request.COOKIES or (session is not None and "_messages" in session):
            # A page shown after a form (e.g. "check your inbox") carries a one-off message.
            return self.get_response(request)

        # SiteLocaleMiddleware reuses this instead of reading it again.
        request.content_generation = generation = current_generation()
        key = cache_key(request, generation)
        try:
            entry = cache.get(key)
        except Exception:
            # A cache that is down (Redis restarting) costs renders, never an error page.
            log.warning("page cache unavailable; rendering %s", request.path, exc_info=True)
            return self._render_uncached(request)
        state = _SERVED
        if entry is None:
            response = self._render_with_sentinel(request)
            if not self._storable(request, response):
                # A 404 page, say: it has the form too, and a sentinel must never reach a
                # reader.
                if getattr(response, "content", None) and _SENTINEL_BYTES in response.content:
                    response.content = response.content.replace(
                        _SENTINEL_BYTES, get_token(request).encode()
                    )
                    self.csrf.process_response(request, response)
                return response
            entry = self._entry(response)
            try:
                cache.set(key, entry, settings.CLARION_PAGE_CACHE_SECONDS)
            except Exception:
                log.warning("page cache unavailable; not storing %s", request.path, exc_info=True)
            state = _STORED
        return self._serve(request, entry, state)

    def _render_with_sentinel(self, request):
        request._page_cache_rendering = True
        try:
            return self.get_response(request)
        finally:
            request._page_cache_rendering = False

    def _render_uncached(self, request):
        # The view runs normally: {% csrf_token %} calls get_token as on any other page.
        return self.get_response(request)

    def _session(self, request):
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        # No session cookie, so nobody is signed in: nothing to load.
        return self.sessions(key) if key else None

    @staticmethod
    def _storable(request, response) -> bool:
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        control = response.get("Cache-Control", "")
        if "private" in control or "no-store" in control:
            return False
        session = getattr(request, "session", None)
        return not (session is not None and session.modified)

    @staticmethod
    def _entry(response) -> tuple:
        body = response.content
        headers = tuple(
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in _SKIPPED_HEADERS
        )
        etag = f'W/"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
        return (body, headers, etag, int(time.time()), _SENTINEL_BYTES in body)

    def _serve(self, request, entry: tuple, state: str) -> HttpResponse:
        body, headers, etag, stored_at, has_token = entry
        sets_cookie = False
        if has_token:
            # Read the reader's CSRF cookie as CsrfViewMiddleware does (a no-op when it
            # already has, on a miss).
            if "CSRF_COOKIE" not in request.META:
                self.csrf.process_request(request)
            # A reader who already has a CSRF cookie gets a token for it and no new
            # cookie, so the response stays shareable per cookie; a new reader gets one.
            had_cookie = "CSRF_COOKIE" in request.META and not request.META.get(
                "CSRF_COOKIE_NEEDS_UPDATE"
            )
            body = body.replace(_SENTINEL_BYTES, csrf_token(request).encode())
            if had_cookie:
                request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
            else:
                sets_cookie = True
        response = HttpResponse(body)
        for name, value in headers:
            response.headers[name] = value
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = http_date(stored_at)
        max_age = settings.CLARION_HTTP_MAX_AGE
        if sets_cookie:
            response.headers["Cache-Control"] = f"private, max-age={max_age}"
        else:
            response.headers["Cache-Control"] = (
                f"public, max-age={max_age}, "
                f"stale-while-revalidate={settings.CLARION_HTTP_STALE_SECONDS}"
            )
        if has_token:
            response.headers["Vary"] = "Cookie"
        response.headers["X-Clarion-Cache"] = state
        if "HTTP_IF_NONE_MATCH" in request.META or "HTTP_IF_MODIFIED_SINCE" in request.META:
            response = get_conditional_response(
                request, etag=etag, last_modified=stored_at, response=response
            )
        if sets_cookie:
            self.csrf.process_response(request, response)
        return response


def _public_control() -> str:
    return (
        f"public, max-age={settings.CLARION_HTTP_MAX_AGE}, "
        f"stale-while-revalidate={settings.CLARION_HTTP_STALE_SECONDS}"
    )
