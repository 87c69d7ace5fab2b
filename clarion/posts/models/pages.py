"""Static pages (About, Contact), served at their own paths."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify

from .. import markdown


class PageQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Page.Status.PUBLISHED)


class Page(models.Model):
    """A static page (About, Contact) served at its own path, outside the post archives."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=200, allow_unicode=True)
    path = models.CharField(
        max_length=500,
        unique=True,
        blank=True,
        help_text="The page's address, such as /about/ or /about/team/. Leave empty to "
        "build it from the parent's address and the slug.",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    body = models.TextField("Body (Markdown)", blank=True)
    body_html = models.TextField(editable=False, default="")
    body_html_key = models.CharField(max_length=64, editable=False, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["path"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.title, allow_unicode=True)[:200] or "page"
        if not self.path:
            base = self.parent.path if self.parent_id else "/"
            self.path = f"{base}{self.slug}/"
        self.render()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return self.path

    def clean(self):
        if self.path and not (self.path.startswith("/") and self.path.endswith("/")):
            raise ValidationError({"path": "An address starts and ends with “/”, e.g. /about/."})

    def render(self) -> None:
        # Same cache key as Post.render: re-rendered only when the body or renderer changes.
        key = hashlib.sha256(f"{markdown.RENDERER_VERSION}:{self.body}".encode()).hexdigest()
        if key != self.body_html_key:
            self.body_html = markdown.render(self.body)
            self.body_html_key = key
