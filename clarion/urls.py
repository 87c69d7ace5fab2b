from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path

from clarion.newsletter import views as newsletter_views
from clarion.ops.media import serve_media
from clarion.posts.sitemaps import SITEMAPS

handler404 = "clarion.theme.views.page_not_found"
handler500 = "clarion.theme.views.server_error"

urlpatterns = [
    # Password reset by email (clarion.editor), ahead of the admin's catch-all.
    path("admin/", include("clarion.editor.urls")),
    path("admin/", admin.site.urls),
    path(
        "sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="django.contrib.sitemaps.views.sitemap"
    ),
    path("search/", include("clarion.search.urls")),
    # The subscribe form posts to the un-namespaced name "subscribe" (theme templates).
    path("subscribe/", newsletter_views.subscribe, name="subscribe"),
    path("", include("clarion.newsletter.urls")),
    # Uploaded media, never run as a page (clarion.ops.media). Behind nginx, serve MEDIA_ROOT
    # directly with the same headers instead (docs/operating.md).
    re_path(
        r"^media/(?P<path>.*)$",
        serve_media,
        {"document_root": settings.MEDIA_ROOT},
    ),
    path("", include("clarion.posts.urls")),
]
