"""What /healthz reports: cheap reads only (an index lookup or an aggregate each)."""

from __future__ import annotations

import logging

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Min
from django.utils import timezone

log = logging.getLogger(__name__)


def check() -> dict:
    """The health report; ``ok`` is False when the database is unreachable or no worker has
    been seen within CLARION_HEALTH_WORKER_MAX_AGE seconds (or email waits too long, when
    CLARION_HEALTH_EMAIL_MAX_AGE is set)."""
    report: dict = {
        "ok": False,
        "database": False,
        "worker_seen_seconds_ago": None,
        "queue_depth": None,
        "oldest_undelivered_email_seconds": None,
    }
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = True
        now = timezone.now()
        report["worker_seen_seconds_ago"] = _worker_age(now)
        report["queue_depth"] = _queue_depth()
        report["oldest_undelivered_email_seconds"] = _oldest_undelivered_email(now)
    except DatabaseError as exc:
        log.warning("health check: database error: %s", exc.__class__.__name__)
        connection.close_if_unusable_or_obsolete()
        return report
    problems = []
    worker_age = report["worker_seen_seconds_ago"]
    if worker_age is None or worker_age > settings.CLARION_HEALTH_WORKER_MAX_AGE:
        problems.append("worker")
    email_limit = settings.CLARION_HEALTH_EMAIL_MAX_AGE
    email_age = report["oldest_undelivered_email_seconds"]
    if email_limit and email_age is not None and email_age > email_limit:
        problems.append("email")
    report["problems"] = problems
    report["ok"] = not problems
    return report


def _worker_age(now) -> int | None:
    from .models import WorkerHeartbeat

    latest = WorkerHeartbeat.objects.latest_seen()
    return None if latest is None else max(0, int((now - latest).total_seconds()))


def _queue_depth() -> int | None:
    try:
        model = apps.get_model("django_tasks_database", "DBTaskResult")
    except LookupError:
        return None
    return model.objects.filter(status="READY").count()


def _oldest_undelivered_email(now) -> int | None:
    """The newsletter's hook, used when that app provides it.

    Contract: ``newsletter.Delivery`` has a ``created_at`` field and its manager has
    ``pending()``, the deliveries not yet sent (nor permanently failed).
    """
    try:
        model = apps.get_model("newsletter", "Delivery")
    except LookupError:
        return None
    pending = getattr(model.objects, "pending", None)
    if pending is None:
        return None
    oldest = pending().aggregate(oldest=Min("created_at"))["oldest"]
    return None if oldest is None else max(0, int((now - oldest).total_seconds()))
