import io

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from .models import Post, SiteSettings, category_listing, category_with_slug, latest_listing
from .views import posts_in_order

FEED_ITEMS = 20


class _Buffered:
    """Write the document into memory, then into the response at once.

    Django's feed writes straight into the HttpResponse: about 800 small writes for twenty
    items, each encoded and appended on its own (a tenth of the feed's render time)."""

    def write(self, outfile, encoding):
        buffer = io.StringIO()
        super().write(buffer, encoding)
        outfile.write(buffer.getvalue())


class RssFeed(_Buffered, Rss201rev2Feed):
    pass


class AtomFeed(_Buffered, Atom1Feed):
    pass


class LatestPostsFeed(Feed):
    feed_type = RssFeed

    def title(self):
        return SiteSettings.load().title

    def description(self):
        return SiteSettings.load().tagline

    def link(self):
        return "/"

    def feed_url(self):
        return None

    def items(self):
        return _latest(latest_listing.bind(now=timezone.now()))

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_link(self, item):
        return item.get_absolute_url()

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return item.author.display_name if item.author else None

    def item_author_link(self, item):
        if item.author:
            return settings.SITE_URL + item.author.get_absolute_url()
        return None

    def item_categories(self, item):
        return [c.name for c in item.listed_categories] + [t.name for t in item.listed_tags]

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        # Links use CLARION_SITE_URL, not the Host header: a feed reader behind a proxy
        # must get the public address.
        feed.feed["link"] = settings.SITE_URL + "/"
        feed.feed["feed_url"] = settings.SITE_URL + request.path
        for item in feed.items:
            if item["link"].startswith(("http://", "https://")):
                path = "/" + item["link"].split("/", 3)[3]
                item["link"] = settings.SITE_URL + path
                item["unique_id"] = item["link"]
        return feed


class AtomLatestPostsFeed(LatestPostsFeed):
    feed_type = AtomFeed

    def subtitle(self):
        return SiteSettings.load().tagline


class CategoryFeed(LatestPostsFeed):
    def get_object(self, request, slug):
        category = category_with_slug(slug)
        if category is None:
            raise Http404("No such category")
        return category

    def title(self, obj):
        return f"{SiteSettings.load().title}: {obj.name}"

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return _latest(category_listing.bind(now=timezone.now(), category=obj.pk))


def _latest(listing) -> list[Post]:
    # Ids first, then the rows: sorting whole posts (bodies and all) to keep twenty is slow.
    return posts_in_order(listing[0:FEED_ITEMS], tags=True)
