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
import operator
import re
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from importlib import import_module
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.http.cookie import SimpleCookie, parse_cookie
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CsrfViewMiddleware,
    get_token,
)
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from clarion.lib.randomness import token_bytes
from clarion.ops.logs import request_id
from clarion.ops.middleware import choose_request_id, log_request
from clarion.posts.generation import current_generation

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

# Response headers that are not part of the stored page: per request or per reader, or set
# when serving. Everything else (the security middleware's, the CSP with the nonce the page's
# scripts carry, Permissions-Policy, X-Frame-Options, Content-Language) is stored with it.
_SKIPPED_HEADERS = frozenset(
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


def _read(key: str):
    """The entry stored under ``key``: this process's copy, else the shared cache's."""
    with _near_lock:
        entry = _near.get(key)
        if entry is not None:
            if entry[3] + _conf().CLARION_PAGE_CACHE_SECONDS > time.time():
                _near.move_to_end(key)
                return entry
            del _near[key]
    entry = cache.get(key)
    if entry is not None:
        _keep(key, entry)
    return entry


def _keep(key: str, entry: tuple) -> None:
    with _near_lock:
        _near[key] = entry
        _near.move_to_end(key)
        while len(_near) > NEAR_PAGES:
            _near.popitem(last=False)


_STORED = "miss"
_SERVED = "hit"


_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {c: i for i, c in enumerate(_CHARS)}
# Random bytes at or above this would favour the first characters: they are dropped.
_UNBIASED = 256 - 256 % len(_CHARS)
# Byte b becomes character b % 62 and bytes from _UNBIASED up are deleted, in one C call.
_TO_CHARS = bytes(ord(_CHARS[b % len(_CHARS)]) for b in range(256))
_BIASED = bytes(range(_UNBIASED, 256))


def _random_csrf_string() -> str:
    """What ``django.middleware.csrf._get_new_csrf_string`` returns (32 of the 62 allowed
    characters, uniformly from the OS's CSPRNG), from 48 random bytes instead of 64
    ``SystemRandom.choice`` calls: that was a third of a cache hit's time. The bytes come
    from clarion.lib.randomness, which reads the CSPRNG in blocks."""
    chars = b""
    while len(chars) < CSRF_SECRET_LENGTH:
        chars += token_bytes(48).translate(_TO_CHARS, _BIASED)
    return chars[:CSRF_SECRET_LENGTH].decode("ascii")


def csrf_token(request) -> str:
    """``django.middleware.csrf.get_token`` for a request CsrfViewMiddleware has read:
    the same masked format (mask + secret ciphered by it), checked by the same middleware
    (the tests post forms with these tokens); a new reader gets a new secret and cookie."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = _random_csrf_string()
        request.META["CSRF_COOKIE"] = secret
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    return _masked(secret)


# ``_mask_cipher_secret`` adds each secret character's index in the alphabet to the mask
# character's, modulo 62. Done here on bytes: two translations to indexes, one C-level map
# of additions, one translation back (a third of the time of a dict lookup per character).
_TO_INDEX = bytes(_INDEX.get(chr(b), 0) for b in range(256))
_FROM_SUM = bytes(ord(_CHARS[s % len(_CHARS)]) for s in range(2 * len(_CHARS))).ljust(256, b"?")


def _masked(secret: str) -> str:
    """A masked token for this secret, as ``django.middleware.csrf._mask_cipher_secret``."""
    mask = _random_csrf_string()
    sums = map(
        operator.add,
        secret.encode("ascii").translate(_TO_INDEX),
        mask.encode("ascii").translate(_TO_INDEX),
    )
    return mask + bytes(sums).translate(_FROM_SUM).decode("ascii")


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
def _conf():
    """The settings a hit reads, as plain attributes: each read through Django's lazy
    ``settings`` object costs about a microsecond, and a hit made a dozen of them."""
    return SimpleNamespace(**{name: getattr(settings, name) for name in _SETTINGS_READ_PER_HIT})


@receiver(setting_changed)
def _forget_resolved_paths(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        cacheable_path.cache_clear()
    _conf.cache_clear()


def csrf_sentinel(request):
    """Context processor: while a page is being rendered for the cache, ``{% csrf_token %}``
    writes the sentinel (listed after Django's built-in csrf processor, so it wins)."""
    if getattr(request, "_page_cache_rendering", False):
        return {"csrf_token": CSRF_SENTINEL}
    return {}


def cache_key(request, generation: int) -> str:
    return _key(
        generation,
        request.scheme,
        request.get_host(),
        request.path_info,
        request.META.get("QUERY_STRING", ""),
    )


def _key(generation: int, scheme: str, host: str, path: str, query: str) -> str:
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


class PageCacheMiddleware:
    """Serve public pages to anonymous readers from the cache; mark staff pages private.

    Placed second, right after the request id, so a hit costs one query (the content
    generation) and skips every other middleware, URL dispatch, the view and the templates.
    The headers every other middleware added to the page when it was rendered (security
    headers, the CSP, X-Frame-Options, Content-Language, …) are stored with it and replayed:
    a hit carries exactly the headers of the render. The CSRF cookie is handled here,
    through ``CsrfViewMiddleware``'s own hooks. Most hits never get here: ``FastPath``
    answers them before Django builds a request.
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
            entry = _read(key)
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
            else:
                _keep(key, entry)
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
        for name, value in _hit_headers(entry, sets_cookie, state):
            response.headers[name] = value
        if "HTTP_IF_NONE_MATCH" in request.META or "HTTP_IF_MODIFIED_SINCE" in request.META:
            response = get_conditional_response(
                request, etag=etag, last_modified=stored_at, response=response
            )
        if sets_cookie:
            self.csrf.process_response(request, response)
        return response


def _hit_headers(entry: tuple, sets_cookie: bool, state: str) -> list[tuple[str, str]]:
    """The headers of a page served from the cache, but for the CSRF cookie and the
    request id: the same on both paths (Django's and ``FastPath``)."""
    conf = _conf()
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


class FastPath:
    """A WSGI wrapper that answers page-cache hits before Django builds a request.

    Django's request handling (``WSGIRequest``, the request_started/finished signals, the
    middleware chain) cost about two thirds of a hit's time (docs/benchmarks.md). This takes
    only the plainest case: GET or HEAD, no session or message cookie, no conditional
    headers, a CSRF cookie that is absent or a well-formed secret, and a page already stored
    for this generation, scheme and Host (so Django validated the Host, and any HTTPS
    redirect, when the page was stored). Anything else, and any error, goes to Django
    unchanged, where ``PageCacheMiddleware`` applies the same rules in full. The answer
    carries the headers Django would send: those stored with the page (the render's
    security headers and CSP among them), the same cache headers, a request id and an
    access-log line as ``RequestIdMiddleware`` writes, and the CSRF cookie as
    ``CsrfViewMiddleware`` sets it.
    """

    def __init__(self, application):
        self.application = application
        # Tokens kept in the session cannot be handed out without loading it.
        self.enabled = not settings.CSRF_USE_SESSIONS and not settings.USE_X_FORWARDED_HOST

    def __call__(self, environ, start_response):
        conf = _conf()
        if self.enabled and conf.CLARION_PAGE_CACHE:
            started = time.monotonic()
            try:
                answer = self._hit(environ)
            except Exception:
                log.debug("page cache fast path declined", exc_info=True)
                answer = None
            if answer is not None:
                headers, body, path = answer
                rid = choose_request_id(environ.get("HTTP_X_REQUEST_ID", ""))
                headers.append(("X-Request-ID", rid))
                start_response("200 OK", headers)
                token = request_id.set(rid)
                log_request(environ["REQUEST_METHOD"], path, 200, started)
                request_id.reset(token)
                return [body]
        return self.application(environ, start_response)

    @staticmethod
    def _scheme(environ) -> str:
        conf = _conf()
        if conf.SECURE_PROXY_SSL_HEADER:
            header, secure_value = conf.SECURE_PROXY_SSL_HEADER
            if header in environ:
                value = environ[header].split(",", 1)[0].strip()
                return "https" if value == secure_value else "http"
        return environ.get("wsgi.url_scheme", "http")

    def _hit(self, environ):
        conf = _conf()
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return None
        for header in _CONDITIONAL:  # four lookups; isdisjoint(environ) walked all of it
            if header in environ:
                return None
        # PEP 3333: PATH_INFO is bytes decoded as latin-1; Django decodes it as UTF-8.
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8")
        if not cacheable_path(path):
            return None
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        if conf.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
            return None
        secret = cookies.get(conf.CSRF_COOKIE_NAME)
        if secret is not None and not _WELL_FORMED_SECRET.fullmatch(secret):
            return None  # a legacy or damaged cookie: Django replaces it
        host = environ.get("HTTP_HOST")
        if not host:
            return None
        query = environ.get("QUERY_STRING", "")
        entry = _read(_key(current_generation(), self._scheme(environ), host, path, query))
        if entry is None:
            return None

        body, has_token = entry[0], entry[4]
        new_reader = False
        if has_token:
            new_reader = secret is None
            if new_reader:
                secret = _random_csrf_string()
            body = body.replace(_SENTINEL_BYTES, _masked(secret).encode())
        headers = _hit_headers(entry, new_reader, _SERVED)
        headers.append(("Content-Length", str(len(body))))
        if new_reader:
            headers.append(("Set-Cookie", _csrf_cookie(secret)))
        return headers, b"" if method == "HEAD" else body, path


_CONDITIONAL = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
)
_WELL_FORMED_SECRET = re.compile(f"[{re.escape(CSRF_ALLOWED_CHARS)}]{{{CSRF_SECRET_LENGTH}}}")


_cookie_template: tuple[tuple, str] = ((), "")


def _csrf_cookie(secret: str) -> str:
    """The Set-Cookie value CsrfViewMiddleware would send (HttpResponse.set_cookie's).

    Built with SimpleCookie once a second (its expiry date moves) and then reused with each
    reader's secret put in: SimpleCookie and http_date cost more than the rest of a hit."""
    conf = _conf()
    global _cookie_template
    now = int(time.time())
    key = (now, id(conf))
    if _cookie_template[0] != key:
        _cookie_template = (key, _build_csrf_cookie(CSRF_SENTINEL[:CSRF_SECRET_LENGTH], now))
    return _cookie_template[1].replace(CSRF_SENTINEL[:CSRF_SECRET_LENGTH], secret, 1)


def _build_csrf_cookie(secret: str, now: float) -> str:
    conf = _conf()
    cookie = SimpleCookie()
    cookie[conf.CSRF_COOKIE_NAME] = secret
    morsel = cookie[conf.CSRF_COOKIE_NAME]
    morsel["max-age"] = conf.CSRF_COOKIE_AGE
    morsel["expires"] = http_date(now + conf.CSRF_COOKIE_AGE)
    morsel["path"] = conf.CSRF_COOKIE_PATH
    if conf.CSRF_COOKIE_DOMAIN:
        morsel["domain"] = conf.CSRF_COOKIE_DOMAIN
    if conf.CSRF_COOKIE_SECURE:
        morsel["secure"] = True
    if conf.CSRF_COOKIE_HTTPONLY:
        morsel["httponly"] = True
    if conf.CSRF_COOKIE_SAMESITE:
        morsel["samesite"] = conf.CSRF_COOKIE_SAMESITE
    return morsel.OutputString()


def _public_control() -> str:
    conf = _conf()
    return (
        f"public, max-age={conf.CLARION_HTTP_MAX_AGE}, "
        f"stale-while-revalidate={conf.CLARION_HTTP_STALE_SECONDS}"
    )
