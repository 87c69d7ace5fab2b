"""Receivers: a newly published post becomes an Issue; provider webhooks mark addresses."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def issue_on_publish(sender, post, notify, **kwargs):
    """Runs inside the transaction that makes the post live (see posts.signals)."""
    if not notify:
        return
    from . import services, tasks

    issue = services.issue_create(post=post)
    if issue is not None:
        tasks.wake_fan_out(issue.pk)


# Anymail event types that mean "stop mailing this address".
STOPPING_EVENTS = {
    "bounced": "bounced",
    "rejected": "bounced",
    "complained": "complained",
    "unsubscribed": "unsubscribed",
}


def address_on_tracking_event(sender, event, esp_name, **kwargs):
    """Bounce and complaint webhooks (any provider anymail supports) mark the address."""
    kind = STOPPING_EVENTS.get(event.event_type)
    if not kind or not event.recipient:
        return
    # A soft bounce is temporary: providers report those as "deferred", not "bounced";
    # a "rejected" for a reason other than a bad address says nothing about the address.
    if event.event_type == "rejected" and event.reject_reason not in {"invalid", "bounced"}:
        return
    if event.event_type == "bounced" and _soft(event.esp_event):
        return
    from .services import address_mark_failed

    reason = f"{esp_name} {event.event_type}: {event.description or event.reject_reason or ''}"
    if address_mark_failed(email=event.recipient, kind=kind, reason=reason.strip()):
        log.info("%s marked %s by a %s webhook", event.recipient, kind, esp_name)


def _soft(raw) -> bool:
    """Some providers report a soft (temporary) bounce as "bounced": Postmark's
    SoftBounce, Amazon SES's Transient bounces. A later hard bounce still counts."""
    if not isinstance(raw, dict):
        return False
    if raw.get("Type") == "SoftBounce":
        return True
    bounce = raw.get("bounce")
    return isinstance(bounce, dict) and bounce.get("bounceType") == "Transient"
