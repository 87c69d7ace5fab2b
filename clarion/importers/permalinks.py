"""The addresses a WordPress site answered at, worked out from its export.

Pure functions of the parsed records (no Django). Paths are returned decoded (``/tag/인권/``,
as Django's ``request.path`` gives them) with any query string kept as WordPress wrote it.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from .wordpress import Item, Site

UPLOADS_MARKER = "/wp-content/uploads/"


class OldSite:
    def __init__(self, site: Site):
        self.site = site
        urls = [site.base_blog_url, site.base_site_url, site.link]
        self.hosts = {urlsplit(u).netloc.lower() for u in urls if u}
        # A blog installed under /blog answers at /blog/?p=1, /blog/category/x/, ...
        self.prefix = urlsplit(site.base_blog_url or site.link).path.rstrip("/")
        self.base_url = (site.base_site_url or site.base_blog_url or site.link).rstrip("/")

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        return not parts.netloc or parts.netloc.lower() in self.hosts

    def path_of(self, url: str) -> str | None:
        """The decoded path (and query) of ``url`` when it is an address of the old site."""
        if not url:
            return None
        parts = urlsplit(url.strip())
        if parts.scheme not in ("", "http", "https") or not self.is_local(url):
            return None
        if not parts.netloc and not parts.path.startswith("/"):
            return None
        path = unquote(parts.path) or "/"
        return f"{path}?{parts.query}" if parts.query else path

    def uploads_relative(self, url: str) -> str | None:
        """``2021/07/x.jpg`` for a URL (or bare relative name) of a file in wp-content/uploads."""
        if not url:
            return None
        if "://" not in url and not url.startswith("/"):
            return unquote(url).lstrip("/") or None  # _wp_attached_file's own form
        if not self.is_local(url):
            return None
        path = unquote(urlsplit(url).path)
        if UPLOADS_MARKER not in path:
            return None
        return path.split(UPLOADS_MARKER, 1)[1] or None

    def absolute(self, url: str) -> str:
        return self.base_url + url if url.startswith("/") else url

    def query_path(self, key: str, value) -> str:
        return f"{self.prefix}/?{key}={value}"

    def item_paths(self, item: Item) -> tuple[list[str], list[str]]:
        """(explicit, guessed) old paths of a post, page or attachment.

        Explicit ones appear in the file or are WordPress's own (``?p=ID``); guessed ones
        (``/slug/``, which WordPress redirects to the post) give way to explicit ones.
        """
        explicit: list[str] = []
        for url in (item.link, item.guid):
            path = self.path_of(url)
            if path and UPLOADS_MARKER not in path and path not in explicit:
                explicit.append(path)
        key = {"page": "page_id", "attachment": "attachment_id"}.get(item.post_type, "p")
        explicit.append(self.query_path(key, item.wp_id))
        if key != "p":
            explicit.append(self.query_path("p", item.wp_id))
        link_path = self.path_of(item.link)
        if (
            link_path
            and "?" not in link_path
            and item.slug
            and link_path.endswith(f"/{item.slug}/")
        ):
            stem = link_path[: -len(item.slug) - 1]
            for old_slug in item.meta.get("_wp_old_slug", []):
                old = unquote(old_slug.strip())
                if old and f"{stem}{old}/" not in explicit:
                    explicit.append(f"{stem}{old}/")
        guessed = []
        if item.post_type == "post" and item.slug:
            guess = f"{self.prefix}/{item.slug}/"
            if guess not in explicit:
                guessed.append(guess)
        return explicit, guessed

    def category_path(self, chain: list[str]) -> str:
        return f"{self.prefix}/category/{'/'.join(chain)}/"

    def tag_path(self, slug: str) -> str:
        return f"{self.prefix}/tag/{slug}/"

    def author_path(self, login: str) -> str:
        return f"{self.prefix}/author/{login}/"


def wp_quote(slug: str) -> str:
    """A slug percent-encoded the way WordPress writes it (lower-case hex), for query strings."""
    return quote(slug, safe="-_.~").lower() if any(ord(c) > 127 for c in slug) else slug


FEED_SUFFIXES = ("feed/", "feed/rss2/", "feed/atom/")
SITE_FEEDS = ("feed/", "feed/rss2/", "feed/rss/", "feed/rdf/")
