"""Choosing the search backend, after Django's cache framework and Wagtail's search.

``settings.CLARION_SEARCH_BACKEND`` is a dotted path to a module with a ``SearchBackend``
attribute (a class, or a function choosing one) or to such a class itself.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ..vocabulary import Stems
from .base import BaseSearchBackend

DEFAULT_BACKEND = "clarion.search.backends.database"


def import_backend(path: str):
    try:
        return import_module(path).SearchBackend
    except ImportError:
        return import_string(path)


def load_backend(path: str | None = None, **params) -> BaseSearchBackend:
    path = path or getattr(settings, "CLARION_SEARCH_BACKEND", "") or DEFAULT_BACKEND
    return import_backend(path)(params)


@lru_cache(maxsize=1)
def get_search_backend() -> BaseSearchBackend:
    """The configured backend, chosen once per process."""
    return load_backend()


@receiver(setting_changed)
def _reset_backend(*, setting, **kwargs):
    if setting in {"CLARION_SEARCH_BACKEND", "DATABASES"}:
        get_search_backend.cache_clear()


def stemmer(connection) -> Stems | None:
    """The stems of the full-text engine of ``connection``'s database, if it has one (for
    migration 0007, which has no backend). Here rather than in the vocabulary, which the
    backends use: the vocabulary knows no engine."""
    if connection.vendor == "postgresql":
        from . import postgres

        return lambda words: postgres.stems(words, using=connection)
    if connection.vendor == "sqlite":
        from . import sqlite

        if sqlite.fts5_available():
            return lambda words: sqlite.stems(words, using=connection)
    return None
