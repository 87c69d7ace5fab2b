"""Addresses of the public pages, built without ``reverse()`` (it was too slow for listings)."""

from __future__ import annotations

import functools
import zoneinfo
from urllib.parse import quote

from django.urls import get_script_prefix
from django.utils import timezone


def public_path(*parts: str) -> str:
    """``reverse()`` for the public routes in posts/urls.py, built directly.

    A listing page asked for about fifty addresses (each post twice, its categories, the
    recent posts) and ``reverse()`` was a tenth of its render time. Slugs match ``[-\\w]+``,
    so quoting them as ``reverse()`` does (UTF-8, percent-encoded) is the whole job;
    tests/posts/test_urls.py checks that both give the same address.
    """
    return get_script_prefix() + "".join(f"{quote(part, safe='')}/" for part in parts)


# A listing page builds about forty addresses, the same ones on every request: each is a
# pure function of these four values, remembered (0.2 ms of a home page).
@functools.lru_cache(maxsize=8192)
def dated_path(prefix: str, time_zone: str, slug: str, published_at) -> str:
    """A post's address under ``prefix``: its publication date, in ``time_zone``, and slug."""
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = timezone.localtime(published_at, zone)
    return public_path(f"{local.year:04d}", f"{local.month:02d}", f"{local.day:02d}", slug)
