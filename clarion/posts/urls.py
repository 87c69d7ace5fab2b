from django.urls import path, re_path

from . import feeds, views

app_name = "posts"


def paged(route, view, name):
    """The route, and the same route with WordPress's /page/N/ suffix."""
    return [
        re_path(rf"^{route}$", view, name=name),
        re_path(rf"^{route}page/(?P<page>[0-9]+)/$", view, name=f"{name}_page"),
    ]


SLUG = r"(?P<slug>[-\w]+)"

urlpatterns = [
    *paged("", views.home, "home"),
    re_path(
        r"^(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/(?P<day>[0-9]{2})/" + SLUG + "/$",
        views.post_detail,
        name="detail",
    ),
    # A post's preview_token (43 URL-safe characters); the old /preview/<id>/ matches nothing.
    re_path(r"^preview/(?P<token>[-A-Za-z0-9_]{32,64})/$", views.draft_preview, name="draft"),
    *paged(rf"category/{SLUG}/", views.category, "category"),
    re_path(rf"^category/{SLUG}/feed/$", feeds.CategoryFeed(), name="category_feed"),
    *paged(rf"tag/{SLUG}/", views.tag, "tag"),
    *paged(rf"author/{SLUG}/", views.author, "author"),
    *paged(r"(?P<year>[0-9]{4})/", views.year_archive, "year"),
    *paged(r"(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/", views.month_archive, "month"),
    path("feed/", feeds.LatestPostsFeed(), name="feed"),
    path("feed/atom/", feeds.AtomLatestPostsFeed(), name="feed_atom"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("share/mastodon/", views.share_mastodon, name="share_mastodon"),
]
