from __future__ import annotations

import functools
import hashlib
import threading
import zoneinfo
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.text import Truncator, slugify

from clarion.lib.prepared import PreparedListing, PreparedQuery
from clarion.lib.singleton import OneRow

from . import markdown

# The site settings of the request being served in this thread (set by
# SiteLocaleMiddleware), so rendering a page of posts costs one settings query, not one per post.
_request_local = threading.local()


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name, e.g. Europe/London.")


class ContentGeneration(models.Model):
    """A single counter bumped in the same transaction as any public content change.

    Every web process reads it once per request (generation.py says how); caches of
    rendered pages and of the site settings are keyed on it, so a change made through one
    process is fresh on all of them at once, with no per-process timers.
    """

    value = models.BigIntegerField(default=0)

    def __str__(self):
        return f"content generation {self.value}"

    @classmethod
    def current(cls) -> int:
        row = cls.objects.filter(pk=1).values_list("value", flat=True).first()
        return row or 0

    @classmethod
    def bump(cls) -> None:
        from .generation import announce_after_commit

        if not cls.objects.filter(pk=1).update(value=F("value") + 1):
            cls.objects.get_or_create(pk=1, defaults={"value": 1})
        announce_after_commit()


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
            return reverse("posts:draft", args=[self.pk])
        return permalink(self.slug, self.published_at)

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


# A post page asks the same five questions of every request: compiled once per process
# (clarion/lib/prepared.py says why). The querysets are still the definitions.
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


def public_path(*parts: str) -> str:
    """``reverse()`` for the public routes in posts/urls.py, built directly.

    A listing page asked for about fifty addresses (each post twice, its categories, the
    recent posts) and ``reverse()`` was a tenth of its render time. Slugs match ``[-\\w]+``,
    so quoting them as ``reverse()`` does (UTF-8, percent-encoded) is the whole job;
    tests/posts/test_urls.py checks that both give the same address.
    """
    return get_script_prefix() + "".join(f"{quote(part, safe='')}/" for part in parts)


# Parsing the body's HTML for its first paragraph was a fifth of a feed's render (twenty
# posts), and a post page asks four times (description, Open Graph, Twitter, JSON-LD). A
# pure function of the body, remembered for the bodies most recently shown.
@functools.lru_cache(maxsize=512)
def _summary_of_body(body_html: str) -> str:
    return Truncator(markdown.first_paragraph_text(body_html)).words(60)


def permalink(slug: str, published_at) -> str:
    # A listing page builds about forty addresses, the same ones on every request: each
    # is a pure function of these four values, remembered (0.2 ms of a home page).
    return _permalink(get_script_prefix(), SiteSettings.load().time_zone, slug, published_at)


@functools.lru_cache(maxsize=8192)
def _permalink(prefix: str, time_zone: str, slug: str, published_at) -> str:
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = timezone.localtime(published_at, zone)
    return public_path(f"{local.year:04d}", f"{local.month:02d}", f"{local.day:02d}", slug)


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
