"""The page cache: rendered public pages, served to anonymous readers from the shared cache.

Two ways in, with the same rules: ``PageCacheMiddleware`` inside Django, and ``FastPath``, a
WSGI wrapper that answers the plainest hits before Django builds a request. What is stored
and when it goes stale is cache.py's; the readers' CSRF tokens are csrf.py's.
"""

from __future__ import annotations

import logging
import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.utils.cache import get_conditional_response, patch_cache_control

from .cache import (
    SERVED,
    STORED,
    cache_key,
    cacheable_path,
    hit_headers,
    hit_settings,
    keep,
    make_entry,
    page_key,
    read,
)
from .csrf import (
    SENTINEL_BYTES,
    WELL_FORMED_SECRET,
    csrf_cookie,
    csrf_token,
    masked,
    random_csrf_string,
)
from .generation import current_generation
from .logs import request_id
from .middleware import choose_request_id, log_request

log = logging.getLogger(__name__)


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
            entry = read(key)
        except Exception:
            # A cache that is down (Redis restarting) costs renders, never an error page.
            log.warning("page cache unavailable; rendering %s", request.path, exc_info=True)
            return self._render_uncached(request)
        state = SERVED
        if entry is None:
            response = self._render_with_sentinel(request)
            if not self._storable(request, response):
                # A 404 page, say: it has the form too, and a sentinel must never reach a
                # reader.
                if getattr(response, "content", None) and SENTINEL_BYTES in response.content:
                    response.content = response.content.replace(
                        SENTINEL_BYTES, get_token(request).encode()
                    )
                    self.csrf.process_response(request, response)
                return response
            entry = make_entry(
                response.content, response.headers.items(), SENTINEL_BYTES in response.content
            )
            try:
                cache.set(key, entry, settings.CLARION_PAGE_CACHE_SECONDS)
            except Exception:
                log.warning("page cache unavailable; not storing %s", request.path, exc_info=True)
            else:
                keep(key, entry)
            state = STORED
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
            body = body.replace(SENTINEL_BYTES, csrf_token(request).encode())
            if had_cookie:
                request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
            else:
                sets_cookie = True
        response = HttpResponse(body)
        for name, value in hit_headers(entry, sets_cookie, state):
            response.headers[name] = value
        if "HTTP_IF_NONE_MATCH" in request.META or "HTTP_IF_MODIFIED_SINCE" in request.META:
            response = get_conditional_response(
                request, etag=etag, last_modified=stored_at, response=response
            )
        if sets_cookie:
            self.csrf.process_response(request, response)
        return response


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
        conf = hit_settings()
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
        conf = hit_settings()
        if conf.SECURE_PROXY_SSL_HEADER:
            header, secure_value = conf.SECURE_PROXY_SSL_HEADER
            if header in environ:
                value = environ[header].split(",", 1)[0].strip()
                return "https" if value == secure_value else "http"
        return environ.get("wsgi.url_scheme", "http")

    def _hit(self, environ):
        conf = hit_settings()
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
        if secret is not None and not WELL_FORMED_SECRET.fullmatch(secret):
            return None  # a legacy or damaged cookie: Django replaces it
        host = environ.get("HTTP_HOST")
        if not host:
            return None
        query = environ.get("QUERY_STRING", "")
        entry = read(page_key(current_generation(), self._scheme(environ), host, path, query))
        if entry is None:
            return None

        body, has_token = entry[0], entry[4]
        new_reader = False
        if has_token:
            new_reader = secret is None
            if new_reader:
                secret = random_csrf_string()
            body = body.replace(SENTINEL_BYTES, masked(secret).encode())
        headers = hit_headers(entry, new_reader, SERVED)
        headers.append(("Content-Length", str(len(body))))
        if new_reader:
            headers.append(("Set-Cookie", csrf_cookie(secret)))
        return headers, b"" if method == "HEAD" else body, path


_CONDITIONAL = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
)
