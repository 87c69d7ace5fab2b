"""What posts are filed under and who wrote them: categories, tags and authors."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.text import slugify

from .paths import public_path


class Category(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, allow_unicode=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name, allow_unicode=True)[:200] or "category"
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return public_path("category", self.slug)


class Tag(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name, allow_unicode=True)[:100] or "tag"
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return public_path("tag", self.slug)


class Author(models.Model):
    """A public author profile; linked to a login when the author writes in the admin."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="author_profile",
    )
    display_name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, allow_unicode=True)
    bio = models.TextField(blank=True, help_text="A short biography, shown beside posts.")
    photo = models.ImageField(upload_to="authors/", blank=True)
    website = models.URLField(blank=True)
    x_url = models.URLField("X (Twitter)", blank=True)
    mastodon_url = models.URLField("Mastodon", blank=True)
    bluesky_url = models.URLField("Bluesky", blank=True)
    linkedin_url = models.URLField("LinkedIn", blank=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.display_name, allow_unicode=True)[:200] or "author"
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return public_path("author", self.slug)

    def links(self) -> list[tuple[str, str, str]]:
        links = [
            ("website", "Website", self.website),
            ("x", "X", self.x_url),
            ("mastodon", "Mastodon", self.mastodon_url),
            ("bluesky", "Bluesky", self.bluesky_url),
            ("linkedin", "LinkedIn", self.linkedin_url),
        ]
        return [link for link in links if link[2]]
