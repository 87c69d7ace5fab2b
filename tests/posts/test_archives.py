import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone as djtz

from clarion.posts.models import Category, Post, SiteSettings, Tag, attach_terms


@pytest.fixture
def filed(make_post):
    campaigns = Category.objects.create(name="Campaigns", slug="campaigns")
    china = Tag.objects.create(name="China", slug="china")
    a = make_post(
        "Campaign post",
        categories=[campaigns],
        tags=[china],
        published_at=datetime(2023, 5, 31, 23, 30, tzinfo=UTC),  # 1 June in London
    )
    b = make_post("Plain post", published_at=datetime(2023, 7, 1, 9, tzinfo=UTC))
    return {"campaigns": campaigns, "china": china, "a": a, "b": b}


def titles(response):
    """The posts a reader sees listed on the page, in order (the cards' headings)."""
    assert response.status_code == 200
    cards = re.findall(r'<h2 class="post-title"><a href="[^"]*">([^<]*)</a>', response.text)
    return [html.unescape(title) for title in cards]


def test_category_archive_lists_its_posts(client, filed):
    assert titles(client.get("/category/campaigns/")) == ["Campaign post"]


def test_a_post_without_category_is_in_the_default_category(client, filed):
    assert attach_terms([filed["b"]])[0].listed_categories[0].slug == "uncategorized"
    assert titles(client.get("/category/uncategorized/")) == ["Plain post"]
    # Shown there on its own page and in listings, as WordPress does.
    assert (
        'rel="category tag">Uncategorized</a>'
        in client.get(filed["b"].get_absolute_url()).content.decode()
    )
    assert 'rel="category tag">Uncategorized</a>' in client.get("/").content.decode()


def test_a_post_in_several_categories_is_listed_once_in_each(client, filed, make_post):
    default = SiteSettings.load().get_default_category()
    letters = Category.objects.create(name="Letters", slug="letters")
    make_post("Filed twice", categories=[filed["campaigns"], letters, default])
    assert titles(client.get("/category/campaigns/")) == ["Filed twice", "Campaign post"]
    assert titles(client.get("/category/letters/")) == ["Filed twice"]
    # The default category also lists posts with no category at all.
    assert titles(client.get("/category/uncategorized/")) == ["Filed twice", "Plain post"]


def test_tag_and_author_archives(client, filed, alice):
    assert titles(client.get("/tag/china/")) == ["Campaign post"]
    html = client.get("/author/alice/")
    assert titles(html) == ["Plain post", "Campaign post"]
    assert "Alice writes letters." in html.content.decode()


def test_date_archives_use_the_site_time_zone(client, filed):
    assert titles(client.get("/2023/06/")) == ["Campaign post"]
    assert titles(client.get("/2023/05/")) == []
    assert titles(client.get("/2023/")) == ["Plain post", "Campaign post"]
    assert filed["a"].get_absolute_url() == "/2023/06/01/campaign-post/"


def test_unknown_archives_are_404s_in_the_theme(client, filed):
    for path in ("/category/nope/", "/tag/nope/", "/author/nope/", "/2023/13/", "/0000/"):
        response = client.get(path)
        assert response.status_code == 404, path
    assert "Page not found" in client.get("/category/nope/").content.decode()


def test_home_paginates_and_a_page_past_the_end_is_404(client, make_post, site):
    site.posts_per_page = 2
    site.save()
    for i in range(5):
        make_post(f"Post {i}", published_at=djtz.now() - timedelta(days=i + 1))
    assert titles(client.get("/")) == ["Post 0", "Post 1"]
    page3 = client.get("/page/3/")
    assert titles(page3) == ["Post 4"]
    assert 'rel="prev" href="/page/2/"' in page3.content.decode()
    assert client.get("/page/4/").status_code == 404
    assert client.get("/page/0/").status_code == 404


def test_sticky_posts_lead_the_home_page(client, make_post):
    make_post("Newest", published_at=djtz.now() - timedelta(hours=1))
    make_post("Pinned", sticky=True, published_at=djtz.now() - timedelta(days=30))
    assert titles(client.get("/"))[:2] == ["Pinned", "Newest"]


def test_drafts_and_future_posts_are_hidden(client, make_post):
    draft = make_post("Draft post", status=Post.Status.DRAFT)
    future = make_post(
        "Future post",
        status=Post.Status.SCHEDULED,
        published_at=djtz.now() + timedelta(days=1),
    )
    assert titles(client.get("/")) == []
    assert client.get(future.get_absolute_url()).status_code == 404
    assert client.get(draft.get_preview_url()).status_code == 302  # to the login page


def test_the_author_can_preview_their_draft(client, make_post, alice):
    from django.contrib.auth.models import Group

    alice.user.groups.add(Group.objects.get(name="Author"))
    draft = make_post("Draft post", status=Post.Status.DRAFT, body="Work in progress")
    client.force_login(alice.user)
    response = client.get(draft.get_preview_url())
    assert response.status_code == 200
    assert "Work in progress" in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex"


def test_site_settings_changes_show_at_once(client, make_post):
    make_post("Anything")
    assert "Clarion" in client.get("/").content.decode()
    site = SiteSettings.load()
    site.title = "All-Party Group on North Korea"
    site.save()
    assert "All-Party Group on North Korea" in client.get("/").content.decode()


def test_mastodon_share_asks_for_a_server_then_hands_over(client, db):
    url = "http://127.0.0.1:8000/2021/07/19/x/"
    page = client.get("/share/mastodon/", {"url": url, "text": "A letter"})
    assert page.status_code == 200
    assert 'name="server"' in page.content.decode()
    response = client.post(
        "/share/mastodon/", {"url": url, "text": "A letter", "server": "@me@mastodon.social"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("https://mastodon.social/share?text=A+letter+http")
    bad = client.post("/share/mastodon/", {"url": url, "text": "x", "server": "not a server"})
    assert bad.status_code == 400
    other_site = client.post(
        "/share/mastodon/", {"url": "https://evil.example/", "text": "x", "server": "a.social"}
    )
    assert other_site.status_code == 400


def test_a_listing_shows_the_edited_bodys_first_paragraph(client, make_post):
    # The summary is remembered per body (models._summary_of_body): an edit shows at once.
    post = make_post("Edited", body="The first version.\n\nMore.")
    assert '<p class="excerpt">The first version.</p>' in client.get("/").text
    post.body = "The second version.\n\nMore."
    post.save()
    assert '<p class="excerpt">The second version.</p>' in client.get("/").text
    post.excerpt = "An excerpt wins."
    post.save()
    assert '<p class="excerpt">An excerpt wins.</p>' in client.get("/").text


@pytest.mark.parametrize("kind", ["category", "tag", "author"])
@pytest.mark.parametrize(
    "slug", ["%00", "nul%00byte", "a" * 5000, "%C3%A9" * 300, "page", "..", "%F0%9F%92%A5"]
)
def test_a_hostile_archive_address_is_not_found(client, filed, kind, slug):
    assert client.get(f"/{kind}/{slug}/").status_code == 404
    assert client.get(f"/{kind}/{slug}/page/2/").status_code == 404


def test_an_address_with_a_nul_byte_is_not_found(client, filed):
    for path in ["/%00", "/about%00/", "/?p=1%00", "/2023/07/01/plain-post%00/"]:
        assert client.get(path).status_code == 404
