from datetime import UTC, datetime

from django.utils import timezone

from .models import Author, Post, SiteSettings

RECENT_POSTS = 5

# Per process: the sidebar's recent posts and default author as of a content generation
# (every publish, edit, delete or settings change bumps it, on every process at once) and
# until the next scheduled post falls due, since a due post is live before the worker
# marks it published. Every page showed them and they cost two queries, about a tenth of
# an uncached page; the page cache stores whole pages, this serves the renders it misses.
_sidebar: tuple | None = None
_NEVER = datetime.max.replace(tzinfo=UTC)


def forget_sidebar() -> None:
    """Drop the remembered sidebar (tests roll the database back, so generations repeat)."""
    global _sidebar
    _sidebar = None


def _recent_posts() -> list[Post]:
    return list(Post.objects.live().only("title", "slug", "published_at")[:RECENT_POSTS])


def _default_author(settings_obj: SiteSettings) -> Author | None:
    if settings_obj.sidebar_author_id:
        return Author.objects.filter(pk=settings_obj.sidebar_author_id).first()
    return Author.objects.order_by("pk").first()


def _sidebar_for(generation: int | None, settings_obj: SiteSettings) -> tuple:
    global _sidebar
    now = timezone.now()
    key = (generation, settings_obj.sidebar_author_id)
    memo = _sidebar
    if generation is not None and memo is not None and memo[0] == key and now < memo[1]:
        return memo[2], memo[3]
    next_due = (
        Post.objects.filter(status=Post.Status.SCHEDULED, published_at__gt=now)
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    recent, author = _recent_posts(), _default_author(settings_obj)
    if generation is not None:
        _sidebar = (key, next_due or _NEVER, recent, author)
    return recent, author


def site(request):
    """What every page's header, sidebar and footer need: a fixed number of queries, and
    none for the sidebar while the content generation stays the same."""
    settings_obj = getattr(request, "site_settings", None) or SiteSettings.load()
    generation = getattr(request, "content_generation", None)

    def recent_posts():
        return _sidebar_for(generation, settings_obj)[0]

    def site_author():
        return _sidebar_for(generation, settings_obj)[1]

    return {
        "site": settings_obj,
        "recent_posts": recent_posts,
        "site_author": site_author,
    }
