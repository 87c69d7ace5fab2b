import html

import feedparser
import pytest
from django.conf import settings
from django.contrib.syndication.views import Feed

from clarion.posts import feeds
from clarion.posts.models import Category, SiteSettings


@pytest.fixture
def posts(demo_site, make_post):
    campaigns = Category.objects.create(name="Campaigns", slug="campaigns")
    other = make_post("Visit to Seoul", body="We met **escapees**.", categories=[campaigns])
    make_post("Unpublished thoughts", status="draft")
    return {"letter": demo_site["letter"], "other": other, "campaigns": campaigns}


def _parse(client, path):
    response = client.get(path)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


def test_the_rss_feed_lists_live_posts_with_absolute_links(client, posts):
    response, feed = _parse(client, "/feed/")
    assert response["Content-Type"].startswith("application/rss+xml")
    assert feed.version == "rss20"
    titles = [e.title for e in feed.entries]
    assert titles[0] == "Visit to Seoul"
    assert "Unpublished thoughts" not in titles
    letter = next(e for e in feed.entries if e.title.startswith("Letter to the Foreign"))
    assert letter.link == "http://127.0.0.1:8000/2021/07/19/letter-to-the-foreign-secretary/"
    assert letter.summary.startswith("In advance of the launch tomorrow")
    assert feed.feed.link == "http://127.0.0.1:8000/"
    assert {t.term for t in letter.tags} == {"Uncategorized"}


def test_the_atom_feed_parses_and_has_authors(client, posts):
    _, feed = _parse(client, "/feed/atom/")
    assert feed.version == "atom10"
    letter = next(e for e in feed.entries if e.title.startswith("Letter to the Foreign"))
    assert letter.author == "Lord David Alton"
    assert letter.link.startswith("http://127.0.0.1:8000/")


def test_a_category_feed_has_only_that_category(client, posts):
    _, feed = _parse(client, "/category/campaigns/feed/")
    assert [e.title for e in feed.entries] == ["Visit to Seoul"]
    assert client.get("/category/nope/feed/").status_code == 404


def test_markup_in_titles_is_escaped_in_feeds(client, make_post):
    make_post("<script>alert(1)</script> & friends")
    response, feed = _parse(client, "/feed/")
    assert b"<script>" not in response.content
    assert feed.entries[0].title == "<script>alert(1)</script> & friends"


class _DjangosFeed:
    """The feeds as Django's own Feed.get_feed builds them, with the links fixed as
    Clarion's feeds fix them: what feeds.py's get_feed replaces. (They did not fix the
    Atom feed's id, which Django takes from the request's host, and gave a category's
    feed the home page as its link: now the public address, and the category's page.)"""

    def get_feed(self, obj, request):
        feed = Feed.get_feed(self, obj, request)
        feed.feed["link"] = settings.SITE_URL + self._get_dynamic_attr("link", obj)
        feed.feed["id"] = feed.feed["link"]
        feed.feed["feed_url"] = settings.SITE_URL + request.path
        for item in feed.items:
            item["link"] = settings.SITE_URL + "/" + item["link"].split("/", 3)[3]
            item["unique_id"] = item["link"]
        return feed


@pytest.mark.parametrize(
    "view, path",
    [
        (feeds.LatestPostsFeed, "/feed/"),
        (feeds.AtomLatestPostsFeed, "/feed/atom/"),
        (feeds.CategoryFeed, "/category/campaigns/feed/"),
    ],
)
def test_a_feed_is_what_djangos_feed_framework_writes(posts, rf, view, path, make_post):
    make_post("No author", author=None, body="Anonymous & <unsigned>.")
    kwargs = {"slug": "campaigns"} if "category" in path else {}
    ours = view()(rf.get(path), **kwargs)
    djangos = type("Djangos", (_DjangosFeed, view), {})()(rf.get(path), **kwargs)
    assert ours.content == djangos.content
    assert ours["Last-Modified"] == djangos["Last-Modified"]
    assert b"<item>" in ours.content or b"<entry>" in ours.content
    assert b"testserver" not in ours.content  # every address is CLARION_SITE_URL's


def test_a_category_feed_links_to_the_categorys_page(client, posts):
    _, feed = _parse(client, "/category/campaigns/feed/")
    assert feed.feed.link == "http://127.0.0.1:8000/category/campaigns/"
    _, feed = _parse(client, "/feed/")
    assert feed.feed.link == "http://127.0.0.1:8000/"


def test_the_default_categorys_feed_lists_what_its_page_lists(client, posts, make_post):
    default = SiteSettings.load().get_default_category()
    gone = Category.objects.create(name="Gone", slug="gone")
    make_post("Filed in no category", categories=[gone])
    gone.delete()  # its posts are now in no category, which shows them in the default one
    make_post("Filed in the default", categories=[default])
    _, feed = _parse(client, f"/category/{default.slug}/feed/")
    listed = [e.title for e in feed.entries]
    assert listed[:2] == ["Filed in the default", "Filed in no category"]
    assert "Visit to Seoul" not in listed
    page = client.get(f"/category/{default.slug}/").content.decode()
    assert all(html.escape(title) in page for title in listed)
