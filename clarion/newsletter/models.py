"""Subscribers, their consent records, and the durable state of every newsletter send."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from clarion.lib.singleton import OneRow
from clarion.posts.models import Category, Post


def normalise_email(address: str) -> str:
    """The form of an address used for uniqueness: trimmed and lower-cased.

    The local part is case-sensitive in theory (RFC 5321 §2.4) but no mail system a
    subscriber is likely to use treats it so, and two rows for one mailbox would mean two
    emails per post.
    """
    return address.strip().lower()


class NewsletterSettings(OneRow):
    """The one row of newsletter settings an administrator edits in the admin."""

    class Content(models.TextChoices):
        FULL = "full", "The full post"
        EXCERPT = "excerpt", "The excerpt and a link"

    content = models.CharField(
        "What emails contain", max_length=10, choices=Content.choices, default=Content.FULL
    )
    from_name = models.CharField(
        max_length=200, blank=True, help_text="Leave empty to use the site's title."
    )
    from_email = models.EmailField(
        blank=True, help_text="Leave empty to use CLARION_FROM_EMAIL (noreply@ the site's domain)."
    )
    reply_to = models.EmailField(blank=True)
    confirmation_interval_minutes = models.PositiveIntegerField(
        "Minimum minutes between two confirmation emails to one address",
        default=60,
    )
    confirmation_valid_days = models.PositiveIntegerField(
        "Days a confirmation link stays valid", default=7
    )

    class Meta:
        verbose_name = "newsletter settings"
        verbose_name_plural = "newsletter settings"

    @classmethod
    def load(cls) -> NewsletterSettings:
        return cls.row()

    def sender(self) -> str:
        from email.utils import formataddr, parseaddr

        from clarion.posts.models import SiteSettings

        default_name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        name = self.from_name or SiteSettings.load().title or default_name
        return formataddr((name, self.from_email or default_address))


class SubscriberQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(status=Subscriber.Status.CONFIRMED)

    def wanting(self, category_ids, *, confirmed_by):
        """Confirmed subscribers (confirmed no later than ``confirmed_by``) who chose one of
        ``category_ids``, or chose none (which means all)."""
        through = Subscriber.categories.through
        chose_any = Exists(through.objects.filter(subscriber_id=OuterRef("pk")))
        chose_one = Exists(
            through.objects.filter(subscriber_id=OuterRef("pk"), category_id__in=category_ids)
        )
        return (
            self.confirmed().filter(confirmed_at__lte=confirmed_by).filter(~chose_any | chose_one)
        )


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"

    class Source(models.TextChoices):
        FORM = "form", "Subscribe form"
        IMPORT = "import", "Import"
        ADMIN = "admin", "Added by an administrator"

    email = models.EmailField(max_length=254, unique=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.FORM)
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="subscribers",
        help_text="Posts in these categories only; none chosen means every post.",
    )
    requested_categories = models.JSONField(
        default=list, blank=True, help_text="Category ids asked for, applied on confirmation."
    )
    subscribed_at = models.DateTimeField(
        default=timezone.now, help_text="When the subscription was first asked for."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-subscribed_at", "-id"]

    def __str__(self):
        return self.email

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.CONFIRMED

    def confirmation_state(self) -> str:
        """What a confirmation link is valid for: this address and its open request.

        Confirming, unsubscribing, a bounce and a newer confirmation email each change it,
        so a link confirms only the request it was sent for, and only once; a link from
        before an unsubscribe cannot subscribe the address again (issue 20).
        """
        stamps = (self.confirmation_sent_at, self.confirmed_at, self.unsubscribed_at)
        return "|".join(
            [
                self.email,
                self.status,
                *(stamp.astimezone(UTC).isoformat() if stamp else "" for stamp in stamps),
            ]
        )

    def category_slugs(self) -> list[str]:
        return sorted(c.slug for c in self.categories.all())


class ConsentEvent(models.Model):
    """One entry in a subscriber's consent record: what they (or an operator) did, when,
    and the evidence a data-protection authority asks for."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", "Asked to subscribe"
        CONFIRMED = "confirmed", "Confirmed by email"
        CATEGORIES = "categories", "Changed categories"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        IMPORTED = "imported", "Imported"
        BOUNCED = "bounced", "Address bounced"
        COMPLAINED = "complained", "Marked an email as spam"

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="consent_events"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    page = models.CharField("page URL", max_length=500, blank=True)
    wording = models.TextField("form wording shown", blank=True)
    categories = models.JSONField(default=list, blank=True, help_text="Category slugs.")
    ip_hash = models.CharField("client address (keyed hash)", max_length=64, blank=True)
    user_agent_hash = models.CharField("user agent (keyed hash)", max_length=64, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["subscriber", "at"])]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "at": self.at.isoformat(),
            "page": self.page,
            "wording": self.wording,
            "categories": self.categories,
            "ip_hash": self.ip_hash,
            "user_agent_hash": self.user_agent_hash,
            "detail": self.detail,
        }


def new_issue_key() -> str:
    return secrets.token_hex(8)


class Issue(models.Model):
    """The email about one post: created in the transaction that publishes the post."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="newsletter_issue")
    key = models.CharField(max_length=32, default=new_issue_key, editable=False)
    created_at = models.DateTimeField(
        default=timezone.now, help_text="Subscribers confirmed by this moment receive it."
    )
    subject = models.CharField(max_length=500, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        default=timezone.now,
        help_text="Last time a worker claimed or queued work for it.",
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Email for “{self.post}”"

    def message_id(self, subscriber_id: int) -> str:
        """Stable across retries, so a mail client can recognise a repeat."""
        return f"<{self.key}.{subscriber_id}@{settings.SITE_DOMAIN}>"


class DeliveryQuerySet(models.QuerySet):
    def due(self, now=None):
        now = now or timezone.now()
        return self.filter(status=Delivery.Status.QUEUED, next_attempt_at__lte=now)

    def pending(self):
        """Not sent yet, and not given up on (the contract clarion.ops.health reads)."""
        return self.filter(status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING])

    def expired_leases(self, now=None):
        now = now or timezone.now()
        return self.filter(status=Delivery.Status.SENDING, lease_until__lt=now)


class Delivery(models.Model):
    """One email of one issue to one subscriber: the unit of exactly-once sending."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no longer subscribed)"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_token = models.CharField(max_length=32, blank=True, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True, help_text="Who last claimed it.")
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="one_delivery_per_issue")
        ]
        indexes = [
            models.Index(fields=["issue", "status", "next_attempt_at"]),
            models.Index(fields=["status", "lease_until"]),
        ]

    def __str__(self):
        return f"{self.issue_id}→{self.subscriber_id}: {self.status}"

    @property
    def message_id(self) -> str:
        return self.issue.message_id(self.subscriber_id)


def keyed_hash(value: str) -> str:
    """A keyed hash of personal data: comparable within this site, not reversible by a
    dictionary of all IPv4 addresses as a plain hash would be."""
    from django.utils.crypto import salted_hmac

    if not value:
        return ""
    return salted_hmac("clarion.newsletter.consent", value, algorithm="sha256").hexdigest()


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]
