"""Posts, their addresses and the redirects that keep old addresses working."""

from __future__ import annotations

import functools
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.text import Truncator, slugify

from .. import markdown
from .paths import dated_path
from .site import SiteSettings
from .terms import Author, Category, Tag


class PostQuerySet(models.QuerySet):
    def live(self, now=None):
        """Posts a reader may see: published, or scheduled and due, dated in the past."""
        now = now or timezone.now()
        return self.filter(
            status__in=[Post.Status.PUBLISHED, Post.Status.SCHEDULED], published_at__lte=now
        )

    def due(self, now=None):
        """Scheduled posts whose time has come but which are not yet marked published."""
        now = now or timezone.now()
        return self.filter(status=Post.Status.SCHEDULED, published_at__lte=now)

    def for_listing(self):
        """Posts for a listing: their authors joined; ``attach_terms`` adds the rest."""
        return self.select_related("author")

    def in_category(self, category: Category):
        return self.filter(categories=category)


def new_preview_token() -> str:
    """The secret part of a post's preview address: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=200, unique=True, allow_unicode=True)
    excerpt = models.TextField(
        blank=True,
        help_text="Shown on the home page, in feeds and emails. Leave empty to use "
        "the first paragraph.",
    )
    body = models.TextField("Body (Markdown)", blank=True)
    body_html = models.TextField(editable=False, default="")
    body_html_key = models.CharField(max_length=64, editable=False, default="")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField("publication date", null=True, blank=True, db_index=True)
    author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    categories = models.ManyToManyField(Category, blank=True, related_name="posts")
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    featured_image = models.ImageField(upload_to="featured/%Y/%m/", blank=True)
    featured_image_alt = models.CharField(max_length=300, blank=True)
    sticky = models.BooleanField(default=False, help_text="Keep at the top of the home page.")
    notify_subscribers = models.BooleanField(
        "Email subscribers when published",
        default=True,
        help_text="Untick to publish without emailing anyone.",
    )
    # Preview addresses are /preview/<token>/, not the post's id: ids can be counted.
    preview_token = models.CharField(
        max_length=64, unique=True, editable=False, default=new_preview_token
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["status", "published_at"]),
            # The home page's order and the newest-first listings, read from an index
            # instead of sorting every live post (3 ms of a 1,000-post home page on SQLite).
            models.Index(fields=["-sticky", "-published_at", "-id"], name="post_home_order"),
            models.Index(fields=["-published_at", "-id"], name="post_newest_first"),
            # Is this id live? answered from the index alone. SQLite keeps a post's columns
            # after its body on overflow pages, so checking thousands of search matches
            # against the posts table read megabytes (clarion/search/backends/sqlite.py).
            models.Index(fields=["id", "status", "published_at"], name="post_live_lookup"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="post_published_has_date",
            )
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.title, allow_unicode=True)[:200] or "post"
        if self.status != self.Status.DRAFT and self.published_at is None:
            self.published_at = timezone.now()
        self.render()
        with transaction.atomic():
            old_path = self._stored_path()
            super().save(*args, **kwargs)
            new_path = self.get_absolute_url()
            if old_path and old_path != new_path:
                # A published post's address changed (slug or date): keep the old one
                # working forever by a permanent redirect to wherever the post now lives.
                Redirect.objects.update_or_create(
                    old_path=old_path, defaults={"post": self, "target": ""}
                )
            Redirect.objects.filter(old_path=new_path).delete()

    def get_absolute_url(self):
        if self.published_at is None:
            return self.get_preview_url()
        return permalink(self.slug, self.published_at)

    def get_preview_url(self):
        return reverse("posts:draft", args=[self.preview_token])

    def _stored_path(self) -> str | None:
        if self.pk is None:
            return None
        old = Post.objects.filter(pk=self.pk).values("slug", "published_at", "status").first()
        if not old or old["status"] == self.Status.DRAFT or old["published_at"] is None:
            return None
        return permalink(old["slug"], old["published_at"])

    def render(self) -> None:
        key = hashlib.sha256(f"{markdown.RENDERER_VERSION}:{self.body}".encode()).hexdigest()
        if key != self.body_html_key:
            self.body_html = markdown.render(self.body)
            self.body_html_key = key

    @property
    def is_live(self) -> bool:
        return (
            self.status in (self.Status.PUBLISHED, self.Status.SCHEDULED)
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def summary(self) -> str:
        """The author's excerpt, or the first paragraph of the body."""
        excerpt = self.excerpt.strip()
        return excerpt or _summary_of_body(self.body_html)

    @property
    def text(self) -> str:
        return markdown.to_text(self.body_html)

    def word_count(self) -> int:
        return len(self.text.split())


# Parsing the body's HTML for its first paragraph was a fifth of a feed's render (twenty
# posts), and a post page asks four times (description, Open Graph, Twitter, JSON-LD). A
# pure function of the body, remembered for the bodies most recently shown.
@functools.lru_cache(maxsize=512)
def _summary_of_body(body_html: str) -> str:
    return Truncator(markdown.first_paragraph_text(body_html)).words(60)


def permalink(slug: str, published_at) -> str:
    """A published post's address, in the site's time zone (remembered: paths.py)."""
    return dated_path(get_script_prefix(), SiteSettings.load().time_zone, slug, published_at)


class Redirect(models.Model):
    """An old address that answers with a permanent redirect.

    Points at a post (so it follows the post if its address changes again) or at a path.
    """

    old_path = models.CharField(max_length=500, unique=True)
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE)
    target = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["old_path"]

    def __str__(self):
        return f"{self.old_path} → {self.destination()}"

    def clean(self):
        if not self.post_id and not self.target:
            raise ValidationError("Choose a post or enter a target address.")

    def destination(self) -> str:
        if self.post_id:
            return self.post.get_absolute_url()
        return self.target
