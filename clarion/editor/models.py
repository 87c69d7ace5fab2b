"""The authoring side's own tables: revisions, uploaded images and failed sign-ins."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from clarion.posts.models import Post


class Editorial(models.Model):
    """Holds the editorial permissions that no model's default add/change/delete covers.

    No table: it exists so that ``editor.publish_post`` and ``editor.edit_any_post`` are real
    Permission rows that groups can be given.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("publish_post", "Can publish and schedule posts"),
            ("edit_any_post", "Can edit and publish other people's posts"),
        ]

    def __str__(self):
        return "editorial permissions"


class RevisionQuerySet(models.QuerySet):
    def for_post(self, post: Post):
        return self.filter(post=post).select_related("user").order_by("-created_at", "-id")


class Revision(models.Model):
    """The content of a post as one save left it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    excerpt = models.TextField(blank=True)
    status = models.CharField(max_length=10, blank=True)
    note = models.CharField(max_length=200, blank=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.post_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def record(cls, *, post: Post, user=None, note: str = "") -> Revision:
        return cls.objects.create(
            post=post,
            user=user if user is not None and user.is_authenticated else None,
            title=post.title,
            body=post.body,
            excerpt=post.excerpt,
            status=post.status,
            note=note,
        )

    def status_label(self) -> str:
        try:
            return Post.Status(self.status).label
        except ValueError:
            return ""

    def who(self) -> str:
        if self.user is None:
            return "someone"
        return self.user.get_full_name() or self.user.get_username()


class MediaItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.is_superuser or user.has_perm("editor.edit_any_post"):
            return self
        return self.filter(uploaded_by=user)


class MediaItem(models.Model):
    """An uploaded image, stored without its EXIF data, with resized renditions."""

    file = models.FileField(max_length=300, editable=False)
    alt_text = models.CharField(
        max_length=300, blank=True, help_text="Describe the image for people who cannot see it."
    )
    original_name = models.CharField(max_length=255, editable=False)
    format = models.CharField(max_length=10, editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    size_bytes = models.PositiveIntegerField(editable=False)
    # [[width, storage name], ...] smallest first; the last is the one posts link to.
    renditions = models.JSONField(default=list, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = MediaItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "image"
        verbose_name_plural = "media library"

    def __str__(self):
        return self.alt_text or self.original_name

    @property
    def url(self) -> str:
        """The address a post links to: the largest rendition (or the file itself)."""
        name = self.renditions[-1][1] if self.renditions else self.file.name
        return default_storage.url(name)

    def srcset(self) -> str:
        return ", ".join(f"{default_storage.url(name)} {w}w" for w, name in self.renditions)

    def markdown(self, alt: str | None = None) -> str:
        return f"![{markdown_alt(self.alt_text if alt is None else alt)}]({self.url})"

    def stored_names(self) -> list[str]:
        return [self.file.name, *(name for _, name in self.renditions)]


def markdown_alt(text: str) -> str:
    """Alt text safe inside ``![…]``: one line, brackets and backslashes escaped."""
    text = " ".join(text.split())
    for char in "\\[]":
        text = text.replace(char, "\\" + char)
    return text


class LoginFailureQuerySet(models.QuerySet):
    def recent(self, window: timedelta, now=None):
        return self.filter(created_at__gte=(now or timezone.now()) - window)


class LoginFailure(models.Model):
    """One failed sign-in, counted per account and per client address (see throttle.py)."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = LoginFailureQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.username} from {self.address} at {self.created_at:%Y-%m-%d %H:%M:%S}"
