"""The questions the public pages ask of every request, compiled once per process.

clarion/lib/prepared.py says why; the querysets are still the definitions.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from clarion.lib.prepared import PreparedListing, PreparedQuery

from .post import Post
from .site import SiteSettings
from .terms import Author, Category, Tag

_published_at = Post._meta.get_field("published_at")
_live_by_slug = PreparedQuery(
    Post,
    lambda now, slug: Post.objects.live(now).filter(slug=slug),
    now=_published_at,
    slug=Post._meta.get_field("slug"),
)
_author = PreparedQuery(
    Author, lambda pk: Author.objects.filter(pk=pk), pk=Author._meta.get_field("id")
)


def _neighbour(lookup: str, order: str) -> PreparedQuery:
    """The live post just before or after a date: title and address only."""
    return PreparedQuery(
        Post,
        lambda now, when: (
            Post.objects.live(now)
            .filter(**{f"published_at__{lookup}": when})
            .order_by(order)
            .only("title", "slug", "published_at")[:1]
        ),
        now=_published_at,
        when=_published_at,
    )


_older = _neighbour("lt", "-published_at")
_newer = _neighbour("gt", "published_at")
_post_categories = PreparedQuery(
    Category, lambda pk: Category.objects.filter(posts=pk), pk=Post._meta.get_field("id")
)
_post_tags = PreparedQuery(
    Tag, lambda pk: Tag.objects.filter(posts=pk), pk=Post._meta.get_field("id")
)


_POST_IDS = [Post._meta.pk]
_listing_posts = PreparedQuery(Post, lambda ids: Post.objects.filter(pk__in=ids), ids=_POST_IDS)
_authors = PreparedQuery(
    Author, lambda ids: Author.objects.filter(pk__in=ids), ids=[Author._meta.pk]
)
_listed_terms = {
    model: PreparedQuery(
        model,
        lambda ids, model=model: model.objects.filter(posts__in=ids).annotate(_post=F("posts")),
        ids=_POST_IDS,
    )
    for model in (Category, Tag)
}
# Listings read a count, then a page of ids (views._listing), each compiled once.
home_listing = PreparedListing(
    lambda now: Post.objects.live(now).order_by("-sticky", "-published_at", "-id"),
    now=_published_at,
)
# Newest first: the feeds.
latest_listing = PreparedListing(
    lambda now: Post.objects.live(now).order_by("-published_at", "-id"), now=_published_at
)
_CATEGORY = Category._meta.pk
category_listing = PreparedListing(
    lambda now, category: (
        Post.objects.live(now).filter(categories=category).order_by("-published_at", "-id")
    ),
    now=_published_at,
    category=_CATEGORY,
)
# The default category also lists the posts that have none (one LEFT JOIN: each post once).
default_category_listing = PreparedListing(
    lambda now, category: (
        Post.objects.live(now).filter(categories=category)
        | Post.objects.live(now).filter(categories__isnull=True)
    ).order_by("-published_at", "-id"),
    now=_published_at,
    category=_CATEGORY,
)
tag_listing = PreparedListing(
    lambda now, tag: Post.objects.live(now).filter(tags=tag).order_by("-published_at", "-id"),
    now=_published_at,
    tag=Tag._meta.pk,
)
author_listing = PreparedListing(
    lambda now, author: (
        Post.objects.live(now).filter(author=author).order_by("-published_at", "-id")
    ),
    now=_published_at,
    author=Author._meta.pk,
)
# The year and month archives: live posts published in [start, end).
period_listing = PreparedListing(
    lambda now, start, end: (
        Post.objects.live(now)
        .filter(published_at__gte=start, published_at__lt=end)
        .order_by("-published_at", "-id")
    ),
    now=_published_at,
    start=_published_at,
    end=_published_at,
)
_category_by_slug = PreparedQuery(
    Category, lambda slug: Category.objects.filter(slug=slug), slug=Category._meta.get_field("slug")
)


def category_with_slug(slug: str) -> Category | None:
    found = _category_by_slug(slug=slug)
    return found[0] if found else None


_tag_by_slug = PreparedQuery(
    Tag, lambda slug: Tag.objects.filter(slug=slug), slug=Tag._meta.get_field("slug")
)
_author_by_slug = PreparedQuery(
    Author, lambda slug: Author.objects.filter(slug=slug), slug=Author._meta.get_field("slug")
)


def tag_with_slug(slug: str) -> Tag | None:
    found = _tag_by_slug(slug=slug)
    return found[0] if found else None


def author_with_slug(slug: str) -> Author | None:
    found = _author_by_slug(slug=slug)
    return found[0] if found else None


def posts_with_ids(ids: list[int]) -> list[Post]:
    """These posts, in this order, with their authors: what a listing shows of each."""
    if not ids:
        return []
    found = {post.pk: post for post in _listing_posts(ids=ids)}
    author_ids = sorted({post.author_id for post in found.values() if post.author_id})
    authors = {a.pk: a for a in _authors(ids=author_ids)} if author_ids else {}
    posts = []
    for pk in ids:
        if pk in found:
            post = found[pk]
            post.author = authors.get(post.author_id)
            posts.append(post)
    return posts


def live_post(slug: str) -> Post | None:
    """The live post with this slug and its author, or None: what a post page shows."""
    found = _live_by_slug(now=timezone.now(), slug=slug)
    if not found:
        return None
    post = found[0]
    if post.author_id is not None:
        authors = _author(pk=post.author_id)
        post.author = authors[0] if authors else None
    return post


def neighbours(post: Post) -> tuple[Post | None, Post | None]:
    """The live posts just older and just newer than this one (title and address only)."""
    if not post.published_at:
        return None, None
    now = timezone.now()
    older = _older(now=now, when=post.published_at)
    newer = _newer(now=now, when=post.published_at)
    return (older[0] if older else None), (newer[0] if newer else None)


def attach_terms(posts: list[Post], *, tags: bool = False) -> list[Post]:
    """Give each post ``listed_categories`` (its categories, or the site's default one
    when it has none, as on its own page) and, with ``tags``, ``listed_tags``: plain
    lists, one query per kind for the whole listing.

    ``prefetch_related`` does the same in as many queries, but each ``post.categories``
    builds a new related manager: twenty feed items cost 80 of them, a third of the feed's
    time.
    """
    if len(posts) == 1:  # a post's own page: statements compiled once
        post = posts[0]
        post.listed_categories = _post_categories(pk=post.pk)
        if tags:
            post.listed_tags = _post_tags(pk=post.pk)
        if not post.listed_categories:
            post.listed_categories = [SiteSettings.load().get_default_category()]
        return posts
    ids = [post.pk for post in posts]
    kinds = [("listed_categories", Category)] + ([("listed_tags", Tag)] if tags else [])
    for attribute, model in kinds:
        found: dict[int, list] = {pk: [] for pk in ids}
        if ids:
            for term in _listed_terms[model](ids=ids):
                found[term._post].append(term)
        for post in posts:
            setattr(post, attribute, found[post.pk])
    default = None
    for post in posts:
        if not post.listed_categories:
            default = default or SiteSettings.load().get_default_category()
            post.listed_categories = [default]
    return posts
