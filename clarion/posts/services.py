"""Publishing workflows that several interfaces (admin, CLI, worker) share."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from clarion.web.cache import invalidate

from .models import Category, Post, SiteSettings
from .signals import post_published

log = logging.getLogger(__name__)


def post_saved(*, post: Post, was_live: bool) -> None:
    """Finish saving ``post`` (its categories already set): give it the default category
    if it has none, and announce it when this save made it live for the first time."""
    if not post.categories.exists():
        post.categories.add(SiteSettings.load().get_default_category())
    if post.status == Post.Status.PUBLISHED and not was_live and post.is_live:
        post_published.send(sender=Post, post=post, notify=post.notify_subscribers)


def normalise_status(post: Post, now=None) -> None:
    """A post marked published with a date in the future is scheduled; a scheduled post
    whose date has passed is published."""
    now = now or timezone.now()
    if post.status == Post.Status.PUBLISHED and post.published_at and post.published_at > now:
        post.status = Post.Status.SCHEDULED
    elif post.status == Post.Status.SCHEDULED and post.published_at and post.published_at <= now:
        post.status = Post.Status.PUBLISHED


def publish_due_posts(now=None) -> int:
    """Mark scheduled posts whose time has come as published, and announce each once.

    Safe with several workers: each post is claimed by a conditional UPDATE.
    """
    published = 0
    for pk in list(Post.objects.due(now).values_list("pk", flat=True)[:100]):
        with transaction.atomic():
            claimed = Post.objects.filter(pk=pk, status=Post.Status.SCHEDULED).update(
                status=Post.Status.PUBLISHED
            )
            if claimed != 1:
                continue  # another worker got there first
            invalidate("a scheduled post was published")
            post = Post.objects.get(pk=pk)
            post_published.send(sender=Post, post=post, notify=post.notify_subscribers)
            published += 1
            log.info("published scheduled post id=%s", pk)
    return published


def upsert_document(doc, *, now=None) -> tuple[Post, str]:
    """Create or update (by slug) the post described by a front-matter ``Document``.

    Returns (post, outcome): "created", "updated", or "unchanged" when the file says what
    the post already holds (then nothing is saved). The caller owns the transaction;
    announcing a newly live post happens here, inside it, exactly as when publishing in the
    admin.
    """
    from django.utils.text import slugify

    from .models import Author, Category, Tag

    now = now or timezone.now()
    post = Post.objects.filter(slug=doc.slug).first()
    created = post is None
    was_live = bool(post and post.status == Post.Status.PUBLISHED and post.is_live)
    before = None if post is None else _contents(post)
    if post is None:
        post = Post(slug=doc.slug)
    post.title = doc.title
    post.body = doc.body
    post.excerpt = doc.excerpt
    post.notify_subscribers = doc.notify
    post.status = doc.status
    if doc.date is not None:
        post.published_at = doc.date
    elif doc.status == Post.Status.PUBLISHED and post.published_at is None:
        post.published_at = now
    if doc.author:
        key = slugify(doc.author, allow_unicode=True)
        author = (
            Author.objects.filter(slug=key).first()
            or Author.objects.filter(display_name__iexact=doc.author).first()
            or Author.objects.filter(user__username=doc.author).first()
        )
        if author is None:
            author = Author.objects.create(display_name=doc.author, slug=key or "author")
        post.author = author
    normalise_status(post, now)
    categories = [_named(Category, name) for name in doc.categories]
    tags = [_named(Tag, name) for name in doc.tags]
    if not created and before == _contents(post, categories, tags):
        return post, "unchanged"
    post.save()
    post.categories.set(categories)
    post.tags.set(tags)
    post_saved(post=post, was_live=was_live)
    return post, "created" if created else "updated"


def _contents(post: Post, categories=None, tags=None) -> tuple:
    """What a front-matter file sets on a post (its categories and tags as stored, unless
    given)."""
    categories = list(post.categories.all()) if categories is None else categories
    tags = list(post.tags.all()) if tags is None else tags
    category_ids = sorted({c.pk for c in categories})
    site = SiteSettings.load()
    # post_saved() gives the default category to a post whose file names none. Looked up,
    # not made: get_default_category() would create it.
    default = site.default_category_id or (
        Category.objects.filter(slug="uncategorized").values_list("pk", flat=True).first()
    )
    if category_ids == [default]:
        category_ids = []
    return (
        post.title,
        post.body,
        post.excerpt,
        post.notify_subscribers,
        post.status,
        post.published_at,
        post.author_id,
        category_ids,
        sorted({t.pk for t in tags}),
    )


def _named(model, name: str):
    from django.utils.text import slugify

    slug = slugify(name, allow_unicode=True)[: model._meta.get_field("slug").max_length]
    obj = model.objects.filter(name__iexact=name).first() or model.objects.filter(slug=slug).first()
    if obj is None:
        obj = model.objects.create(name=name, slug=slug or None)
    return obj
