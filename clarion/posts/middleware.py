import re
import time

from django.http import HttpResponsePermanentRedirect
from django.utils import timezone, translation
from django.utils.encoding import escape_uri_path

from clarion.web.generation import current_generation

from .models import Page, Redirect, SiteSettings

# Per process: the site settings as of a content generation. Reloaded when any process
# bumps the generation, so an admin's change shows everywhere on the next request.
_cached_site: tuple[int, SiteSettings] | None = None

# Slashes, backslashes (raw or percent-encoded) and the tabs and newlines browsers drop
# from URLs: a run of them at the start of a path makes a browser read what follows as a
# host (``//evil.example/``, ``/\\evil.example/``, ``/%2F/evil.example/``).
_LEADING_SLASHES = re.compile(r"^(?:[/\\\t\r\n]|%2f|%5c|%09|%0a|%0d)+", re.IGNORECASE)


def local_path(path: str) -> str:
    """``path`` as an address on this site: a leading run that a browser would read as the
    start of another host collapses to one ``/``. Absolute URLs pass unchanged."""
    if not path or not path.startswith(("/", "\\")):
        return path
    return _LEADING_SLASHES.sub("/", path, count=1)


class SiteLocaleMiddleware:
    """Reads the content generation once per request and applies the site's time zone and
    language; exposes ``request.content_generation`` and ``request.site_settings``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        global _cached_site
        # The page cache may have read it already for this request.
        generation = getattr(request, "content_generation", None)
        if generation is None:
            generation = current_generation()
        if _cached_site is None or _cached_site[0] != generation:
            _cached_site = (generation, SiteSettings.fetch())
        site = _cached_site[1]
        request.content_generation = generation
        request.site_settings = site
        request.started_at = time.monotonic()
        SiteSettings.use_for_this_thread(site)
        timezone.activate(site.tzinfo)
        translation.activate(site.language)
        request.LANGUAGE_CODE = translation.get_language()
        try:
            response = self.get_response(request)
        finally:
            SiteSettings.use_for_this_thread(None)
            timezone.deactivate()
        response.headers.setdefault("Content-Language", site.language)
        return response


class RedirectFallbackMiddleware:
    """On a 404, serve the static page at that address, or answer with a permanent redirect
    when the address is a known old one (a changed slug, or a link imported from WordPress
    such as ``/?p=123``).

    Pages are looked up only after every route has missed (like Django's flatpages
    fallback), so post and archive addresses never pay for them and a page can never
    shadow a route another app adds.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 404:
            return response
        if "\x00" in request.path:
            # No page or old address holds one (PostgreSQL's text cannot), and PostgreSQL
            # refuses a query that compares with one: an error instead of this 404.
            return response
        if request.method in ("GET", "HEAD"):
            page_response = self._page(request)
            if page_response is not None:
                return page_response
        candidates = [request.get_full_path(), request.path]
        if not request.path.endswith("/"):
            candidates.append(request.path + "/")
        found = {
            r.old_path: r
            for r in Redirect.objects.filter(old_path__in=candidates).select_related("post")
        }
        # The most specific wins: /blog/?p=3 over /blog/ when both are known.
        redirect = next((found[c] for c in candidates if c in found), None)
        if redirect is None:
            return response
        if redirect.post_id and not redirect.post.is_live:
            return response
        destination = redirect.destination()
        if not destination or destination == request.get_full_path():
            return response
        return HttpResponsePermanentRedirect(local_path(destination))

    def _page(self, request):
        from .views import page_detail

        page = Page.objects.published().filter(path=request.path).first()
        if page is not None:
            return page_detail(request, page)
        if not request.path.endswith("/") and (
            Page.objects.published().filter(path=request.path + "/").exists()
        ):
            return HttpResponsePermanentRedirect(local_path(escape_uri_path(request.path + "/")))
        return None
