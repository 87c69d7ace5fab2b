from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Author, Category, Post


class _SiteUrl:
    # Sitemap URLs must be absolute on the public address, whatever Host the request had.
    def get_urls(self, page=1, site=None, protocol=None):
        from django.conf import settings

        class _Site:
            domain = settings.SITE_URL.split("://", 1)[1]
            name = domain

        protocol = settings.SITE_URL.split("://", 1)[0]
        return super().get_urls(page=page, site=_Site(), protocol=protocol)


class PostSitemap(_SiteUrl, Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return Post.objects.live().only("slug", "published_at", "updated_at").order_by("-id")

    def lastmod(self, item):
        return item.updated_at


class CategorySitemap(_SiteUrl, Sitemap):
    changefreq = "weekly"
    priority = 0.4

    def items(self):
        return Category.objects.filter(posts__isnull=False).distinct()


class AuthorSitemap(_SiteUrl, Sitemap):
    changefreq = "weekly"
    priority = 0.3

    def items(self):
        return Author.objects.filter(posts__isnull=False).distinct()


class HomeSitemap(_SiteUrl, Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["posts:home"]

    def location(self, item):
        return reverse(item)


SITEMAPS = {
    "home": HomeSitemap,
    "posts": PostSitemap,
    "categories": CategorySitemap,
    "authors": AuthorSitemap,
}
