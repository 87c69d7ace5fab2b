"""Subscriber workflows shared by the web views, the CLI and the admin.

Every function that changes a subscription also writes a ConsentEvent in the same
transaction, so the consent record can never disagree with the subscription. None queues a
task: the tasks call these functions, so a workflow returns what is to be sent and its
caller wakes it with ``clarion.newsletter.tasks`` (which would otherwise be an import circle).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clarion.lib import tokens
from clarion.posts.models import Category, Post

from . import messages
from .models import (
    ConsentEvent,
    Issue,
    NewsletterSettings,
    Subscriber,
    keyed_hash,
    normalise_email,
)

log = logging.getLogger(__name__)

# Links in newsletters must keep working for as long as people keep old emails.
UNSUBSCRIBE_MAX_AGE = 2 * 365 * 24 * 3600


@dataclass(frozen=True)
class Evidence:
    """Where and how a request was made: the facts a consent record keeps."""

    page: str = ""
    wording: str = ""
    ip: str = ""
    user_agent: str = ""
    detail: str = ""

    def event(self, subscriber: Subscriber, kind: str, **fields) -> ConsentEvent:
        return ConsentEvent.objects.create(
            subscriber=subscriber,
            kind=kind,
            page=self.page[:500],
            wording=self.wording,
            ip_hash=keyed_hash(self.ip),
            user_agent_hash=keyed_hash(self.user_agent),
            detail=fields.pop("detail", self.detail),
            **fields,
        )


def _slugs(category_ids) -> list[str]:
    return sorted(Category.objects.filter(pk__in=category_ids).values_list("slug", flat=True))


# Links (made by .links, read back here) ------------------------------------------------


def _state(purpose: str, subscriber: Subscriber) -> str:
    # A confirmation is for one request (Subscriber.confirmation_state); the other links
    # stay valid for as long as the address is the subscriber's.
    return subscriber.confirmation_state() if purpose == "confirm" else subscriber.email


def subscriber_from_token(purpose: str, token: str) -> Subscriber | None:
    if purpose == "confirm":
        max_age = NewsletterSettings.load().confirmation_valid_days * 24 * 3600
    else:
        max_age = UNSUBSCRIBE_MAX_AGE
    found = tokens.read(f"newsletter.{purpose}", token, max_age_seconds=max_age)
    if found is None:
        return None
    pk, state = found
    subscriber = Subscriber.objects.filter(pk=pk).first()
    if subscriber is None or not tokens.matches(state, _state(purpose, subscriber)):
        return None
    return subscriber


def subscriber_confirm_link(*, token: str, evidence: Evidence) -> Subscriber | None:
    """Confirm the request a confirmation link was sent for; None when the link is not
    (or no longer) valid: forged, expired, used, replaced by a newer one, or from before
    an unsubscribe. Checked again under the row lock, so two presses confirm once."""
    subscriber = subscriber_from_token("confirm", token)
    if subscriber is None:
        return None
    expected = subscriber.confirmation_state()
    if not subscriber_confirm(subscriber=subscriber, evidence=evidence, expected_state=expected):
        return None
    return subscriber


# Subscribing ---------------------------------------------------------------------------


def subscribe_request(
    *, email: str, category_ids: list[int], evidence: Evidence
) -> tuple[int, str] | None:
    """Record a request to subscribe; return (subscriber id, kind of email) when an email is
    due, at most once per interval, for the caller to send (``tasks.wake_subscriber_email``).

    Says nothing about what it found: the caller answers every request the same way, so the
    form cannot be used to learn who subscribes. A confirmed address gets a note with a
    link to manage the subscription instead of a second confirmation; a bounced address
    gets nothing (mail to it fails, and retrying hurts the site's sending reputation).
    """
    email = normalise_email(email)
    now = timezone.now()
    interval = timedelta(minutes=NewsletterSettings.load().confirmation_interval_minutes)
    with transaction.atomic():
        subscriber, _ = Subscriber.objects.get_or_create(
            email=email, defaults={"subscribed_at": now, "source": Subscriber.Source.FORM}
        )
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        evidence.event(subscriber, ConsentEvent.Kind.REQUESTED, categories=_slugs(category_ids))
        if subscriber.status == Subscriber.Status.BOUNCED:
            return None
        if subscriber.status != Subscriber.Status.CONFIRMED:
            Subscriber.objects.filter(pk=subscriber.pk).update(
                requested_categories=sorted(category_ids)
            )
            kind = "confirm"
        else:
            kind = "already"
        # The conditional update is the guard: of two simultaneous requests, one sends.
        due = Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lte=now - interval)
        if Subscriber.objects.filter(due, pk=subscriber.pk).update(confirmation_sent_at=now):
            return subscriber.pk, kind
    return None


def subscriber_email_send(*, subscriber_id: int, kind: str) -> bool:
    """Send the confirmation (``confirm``) or "you are already subscribed" (``already``)."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return False
    if kind == "confirm":
        message = messages.confirmation(subscriber)
    else:
        message = messages.already_subscribed(subscriber)
    message.send()
    return True


def subscriber_confirm(
    *, subscriber: Subscriber, evidence: Evidence, expected_state: str | None = None
) -> bool:
    """Make a pending subscription active. Returns False if it already was, or if
    ``expected_state`` is given and the locked row's confirmation state differs from it."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status == Subscriber.Status.CONFIRMED:
            return False
        if expected_state is not None and subscriber.confirmation_state() != expected_state:
            return False
        category_ids = list(
            Category.objects.filter(pk__in=subscriber.requested_categories).values_list(
                "pk", flat=True
            )
        )
        subscriber.status = Subscriber.Status.CONFIRMED
        subscriber.confirmed_at = timezone.now()
        subscriber.unsubscribed_at = None
        subscriber.bounce_reason = ""
        subscriber.save()
        subscriber.categories.set(category_ids)
        evidence.event(subscriber, ConsentEvent.Kind.CONFIRMED, categories=_slugs(category_ids))
    return True


def subscriber_unsubscribe(*, subscriber: Subscriber, evidence: Evidence) -> bool:
    """Stop all email to the subscriber. Returns False if nothing changed."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status in (Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.BOUNCED):
            return False
        subscriber.status = Subscriber.Status.UNSUBSCRIBED
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=["status", "unsubscribed_at", "updated_at"])
        evidence.event(subscriber, ConsentEvent.Kind.UNSUBSCRIBED)
    return True


def subscriber_set_categories(
    *, subscriber: Subscriber, category_ids: list[int], evidence: Evidence
) -> None:
    with transaction.atomic():
        subscriber.categories.set(category_ids)
        Subscriber.objects.filter(pk=subscriber.pk).update(updated_at=timezone.now())
        evidence.event(subscriber, ConsentEvent.Kind.CATEGORIES, categories=_slugs(category_ids))


def address_mark_failed(*, email: str, kind: str, reason: str) -> bool:
    """Stop mail to an address that hard-bounced or complained (from SMTP or a webhook)."""
    status = {
        ConsentEvent.Kind.BOUNCED: Subscriber.Status.BOUNCED,
        ConsentEvent.Kind.COMPLAINED: Subscriber.Status.COMPLAINED,
        ConsentEvent.Kind.UNSUBSCRIBED: Subscriber.Status.UNSUBSCRIBED,
    }[kind]
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update().filter(email=normalise_email(email)).first()
        )
        if subscriber is None or subscriber.status == status:
            return False
        subscriber.status = status
        subscriber.bounce_reason = reason[:500]
        if status == Subscriber.Status.UNSUBSCRIBED:
            subscriber.unsubscribed_at = timezone.now()
        subscriber.save()
        Evidence(detail=reason[:2000]).event(subscriber, kind)
    return True


# Sending -------------------------------------------------------------------------------


def issue_create(*, post: Post) -> Issue | None:
    """Create the post's durable send record, in the caller's transaction (the one that
    publishes the post); returns it, for the caller to wake the fan-out, or None.

    A post gets one Issue ever: editing or re-publishing it finds the existing one.
    """
    issue, created = Issue.objects.get_or_create(post=post)
    return issue if created else None


def consent_record(subscriber: Subscriber) -> dict:
    """Everything kept about one subscriber, for export or a subject access request."""
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "source": subscriber.source,
        "subscribed_at": subscriber.subscribed_at.isoformat(),
        "confirmed_at": subscriber.confirmed_at.isoformat() if subscriber.confirmed_at else "",
        "unsubscribed_at": (
            subscriber.unsubscribed_at.isoformat() if subscriber.unsubscribed_at else ""
        ),
        "categories": subscriber.category_slugs(),
        "bounce_reason": subscriber.bounce_reason,
        "consent": [event.as_dict() for event in subscriber.consent_events.all()],
    }


# Import ---------------------------------------------------------------------------------

IMPORT_CHUNK = 2000


def subscribers_import(
    *, parsed, confirmed: bool, on_progress=None
) -> tuple[dict[str, int], list[int]]:
    """Add the parsed rows that are not subscribers yet, with a consent record each, in the
    caller's transaction. Addresses already known are left as they are. Returns the counts
    and the ids of the new pending subscribers.

    Without ``confirmed``, new addresses are pending, and the caller sends each a
    confirmation (``tasks.wake_subscriber_emails``); with it they are active at once, and
    their consent record says the operator vouched for their earlier opt-in.
    """
    now = timezone.now()
    addresses = [r.email for r in parsed.rows]
    known: set[str] = set()
    for i in range(0, len(addresses), 900):  # under every backend's parameter limit
        known.update(
            Subscriber.objects.filter(email__in=addresses[i : i + 900]).values_list(
                "email", flat=True
            )
        )
    rows = [r for r in parsed.rows if r.email not in known]
    counts = {"added": 0, "known": len(parsed.rows) - len(rows), "stopped": 0, "to_confirm": 0}
    how = "confirmed by the operator (--confirmed)" if confirmed else "confirmation email sent"
    pending_ids: list[int] = []
    for start in range(0, len(rows), IMPORT_CHUNK):
        chunk = rows[start : start + IMPORT_CHUNK]
        subscribers = []
        for row in chunk:
            when = row.subscribed_at or now
            if row.stopped:
                status = row.stopped
            elif confirmed:
                status = Subscriber.Status.CONFIRMED
            else:
                status = Subscriber.Status.PENDING
            subscribers.append(
                Subscriber(
                    email=row.email,
                    status=status,
                    source=Subscriber.Source.IMPORT,
                    subscribed_at=when,
                    confirmed_at=when if status == Subscriber.Status.CONFIRMED else None,
                    unsubscribed_at=now if row.stopped == "unsubscribed" else None,
                    confirmation_sent_at=now if status == Subscriber.Status.PENDING else None,
                )
            )
        created = Subscriber.objects.bulk_create(subscribers)
        if any(s.pk is None for s in created):  # a backend that returns no ids
            by_email = dict(
                Subscriber.objects.filter(email__in=[s.email for s in created]).values_list(
                    "email", "pk"
                )
            )
            for s in created:
                s.pk = by_email[s.email]

        def origin(row) -> str:
            when = row.subscribed_at.isoformat() if row.subscribed_at else "an unknown date"
            return (
                f"imported from {parsed.path} line {row.line} ({parsed.format} format); "
                f"subscribed at the source on {when}; "
                + (f"{row.stopped} at the source" if row.stopped else how)
            )

        ConsentEvent.objects.bulk_create(
            ConsentEvent(
                subscriber=s,
                kind=ConsentEvent.Kind.IMPORTED,
                at=now,
                page=f"file {parsed.path}",
                detail=origin(row),
            )
            for s, row in zip(created, chunk, strict=True)
        )
        for s in created:
            if s.status == Subscriber.Status.PENDING:
                pending_ids.append(s.pk)
            elif s.status != Subscriber.Status.CONFIRMED:
                counts["stopped"] += 1
        counts["added"] += len(created)
        if on_progress:
            on_progress(len(chunk))
    counts["to_confirm"] = len(pending_ids)
    return counts, pending_ids
