from .models import Author, Post, SiteSettings

RECENT_POSTS = 5


def site(request):
    """What every page's header, sidebar and footer need: a fixed number of queries."""
    settings_obj = getattr(request, "site_settings", None) or SiteSettings.load()

    def recent_posts():
        return list(Post.objects.live().only("title", "slug", "published_at")[:RECENT_POSTS])

    def default_author():
        if settings_obj.sidebar_author_id:
            return Author.objects.filter(pk=settings_obj.sidebar_author_id).first()
        return Author.objects.order_by("pk").first()

    return {
        "site": settings_obj,
        "recent_posts": recent_posts,
        "site_author": default_author,
    }
