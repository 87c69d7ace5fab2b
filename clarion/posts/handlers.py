"""Keep derived state in step with content: the content generation (cache freshness)."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from clarion.web.cache import invalidate

from .models import (
    Author,
    Category,
    Page,
    Post,
    Redirect,
    SiteSettings,
    Tag,
)

PUBLIC_MODELS = (Post, Category, Tag, Author, SiteSettings, Redirect, Page)


@receiver(post_save, dispatch_uid="clarion.posts.bump_on_save")
@receiver(post_delete, dispatch_uid="clarion.posts.bump_on_delete")
def bump_generation(sender, **kwargs):
    if sender in PUBLIC_MODELS and not kwargs.get("raw"):
        # Same transaction as the change: a reader sees the new generation exactly when it
        # can see the new content.
        invalidate(f"{sender._meta.label} saved or deleted")


@receiver(m2m_changed, sender=Post.categories.through, dispatch_uid="clarion.posts.bump_cats")
@receiver(m2m_changed, sender=Post.tags.through, dispatch_uid="clarion.posts.bump_tags")
def bump_generation_m2m(sender, action, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"}:
        invalidate("a post's categories or tags changed")
