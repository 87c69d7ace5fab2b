"""The site's settings: the one row an administrator edits, read once per request."""

from __future__ import annotations

import threading
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from clarion.lib.singleton import OneRow

from .terms import Category

# The site settings of the request being served in this thread (set by
# SiteLocaleMiddleware), so rendering a page of posts costs one settings query, not one per post.
_request_local = threading.local()


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name, e.g. Europe/London.")


class SiteSettings(OneRow):
    """The one row of settings an administrator edits in the admin."""

    title = models.CharField(max_length=200, default="Clarion")
    tagline = models.CharField(max_length=300, blank=True, default="Posts and open letters")
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    language = models.CharField(
        max_length=12, default="en-gb", choices=settings.LANGUAGES, help_text="Dates and labels."
    )
    posts_per_page = models.PositiveSmallIntegerField(default=10)
    default_category = models.ForeignKey(
        "Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    x_url = models.URLField("X (Twitter)", blank=True)
    facebook_url = models.URLField("Facebook", blank=True)
    instagram_url = models.URLField("Instagram", blank=True)
    youtube_url = models.URLField("YouTube", blank=True)
    linkedin_url = models.URLField("LinkedIn", blank=True)
    mastodon_url = models.URLField("Mastodon", blank=True)
    bluesky_url = models.URLField("Bluesky", blank=True)
    contact_email = models.EmailField("Email", blank=True)
    show_rss_link = models.BooleanField("Show the RSS link", default=True)
    sidebar_author = models.ForeignKey(
        "Author",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Whose bio the sidebar shows on pages that are not a post.",
    )

    class Meta:
        verbose_name = "site settings"
        verbose_name_plural = "site settings"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _request_local.site = None

    @classmethod
    def load(cls) -> SiteSettings:
        cached = getattr(_request_local, "site", None)
        if cached is not None:
            return cached
        return cls.fetch()

    @classmethod
    def fetch(cls) -> SiteSettings:
        return cls.row(cls.objects.select_related("default_category"))

    @classmethod
    def use_for_this_thread(cls, obj: SiteSettings | None) -> None:
        _request_local.site = obj

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def social_links(self) -> list[tuple[str, str, str]]:
        """(network key, label, url) for each configured network, in a stable order."""
        links = [
            ("x", "X", self.x_url),
            ("facebook", "Facebook", self.facebook_url),
            ("instagram", "Instagram", self.instagram_url),
            ("youtube", "YouTube", self.youtube_url),
            ("linkedin", "LinkedIn", self.linkedin_url),
            ("mastodon", "Mastodon", self.mastodon_url),
            ("bluesky", "Bluesky", self.bluesky_url),
        ]
        out = [(k, label, url) for k, label, url in links if url]
        if self.contact_email:
            out.append(("email", "Email", f"mailto:{self.contact_email}"))
        if self.show_rss_link:
            out.append(("rss", "RSS feed", reverse("posts:feed")))
        return out

    def get_default_category(self) -> Category:
        if self.default_category_id:
            return self.default_category
        category, _ = Category.objects.get_or_create(
            slug="uncategorized", defaults={"name": "Uncategorized"}
        )
        SiteSettings.objects.filter(pk=1).update(default_category=category)
        return category
