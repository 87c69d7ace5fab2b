"""How many subscribers publishing a post would email, without importing the newsletter.

The editor asks ``subscriber_count()`` before publishing. It calls the function named by the
CLARION_SUBSCRIBER_COUNT setting (a dotted path to a callable taking no arguments and
returning an int, or None when there is no newsletter). The default, below, counts
``newsletter.Subscriber.objects.confirmed()``; see docs/authoring.md for the contract.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.module_loading import import_string

DEFAULT = "clarion.editor.subscribers.confirmed_subscribers"


def subscriber_count() -> int | None:
    path = getattr(settings, "CLARION_SUBSCRIBER_COUNT", DEFAULT)
    if not path:
        return None
    return import_string(path)()


def confirmed_subscribers() -> int | None:
    """Confirmed subscribers of the newsletter app, or None if it has no Subscriber model."""
    try:
        model = apps.get_model("newsletter", "Subscriber")
    except LookupError:
        return None
    queryset = model._default_manager.all()
    if hasattr(queryset, "confirmed"):
        queryset = queryset.confirmed()
    elif any(f.name == "status" for f in model._meta.get_fields()):
        queryset = queryset.filter(status="confirmed")
    else:
        return None
    try:
        # A savepoint: on PostgreSQL a failed query (table not migrated yet) would otherwise
        # spoil the admin's transaction.
        with transaction.atomic():
            return queryset.count()
    except DatabaseError:
        return None
