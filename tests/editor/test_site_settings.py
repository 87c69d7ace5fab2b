import pytest

from clarion.posts.models import Author, SiteSettings
from clarion.web.models import ContentGeneration

pytestmark = pytest.mark.django_db


def settings_form(site, **changes):
    data = {
        "title": site.title,
        "tagline": site.tagline,
        "time_zone": site.time_zone,
        "language": site.language,
        "posts_per_page": site.posts_per_page,
        "sidebar_author": site.sidebar_author_id or "",
        "default_category": site.default_category_id or "",
        "show_rss_link": "on",
    }
    for field in ("x_url", "facebook_url", "instagram_url", "youtube_url", "linkedin_url",
                  "mastodon_url", "bluesky_url", "contact_email"):  # fmt: skip
        data[field] = getattr(site, field)
    data.update(changes)
    return data


@pytest.fixture
def admin_client_(make_user, signed_in):
    return signed_in(make_user("root", "Administrator"))


def test_a_site_settings_change_shows_on_the_next_page(client, admin_client_, make_post):
    make_post("Something to list")
    site = SiteSettings.load()
    assert site.title in client.get("/").content.decode()  # warms every cache there is
    before = ContentGeneration.current()
    response = admin_client_.post(
        f"/admin/posts/sitesettings/{site.pk}/change/",
        settings_form(site, title="The Alton Letters", mastodon_url="https://mastodon.example/@a"),
    )
    assert response.status_code == 302
    assert ContentGeneration.current() > before
    page = client.get("/").content.decode()
    assert "The Alton Letters" in page
    assert "https://mastodon.example/@a" in page


def test_an_author_profile_change_shows_at_once(client, make_user, signed_in, make_post):
    user = make_user("arthur", "Author")
    profile = Author.objects.get(user=user)
    post = make_post("By Arthur", author=profile)
    assert "Writes about trade." not in client.get(post.get_absolute_url()).content.decode()
    response = signed_in(user).post(
        f"/admin/posts/author/{profile.pk}/change/",
        {
            "display_name": "Arthur Dent",
            "slug": "arthur",
            "bio": "Writes about trade.",
            "website": "",
            "x_url": "",
            "mastodon_url": "",
            "bluesky_url": "https://bsky.app/profile/arthur",
            "linkedin_url": "",
        },
    )
    assert response.status_code == 302
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Writes about trade." in page and "Arthur Dent" in page
