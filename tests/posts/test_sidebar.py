"""The sidebar (recent posts, the site's author) is remembered per content generation but
is never stale: publishing, editing and settings changes show at once, and a scheduled post
shows in Recent Posts as soon as it falls due, before the worker marks it published."""

import time

import pytest
from django.utils import timezone

from clarion.posts.models import Author, Post, SiteSettings


@pytest.fixture(autouse=True)
def _render_every_time(settings):
    settings.CLARION_PAGE_CACHE = False


def _recent_posts(client) -> str:
    page = client.get("/").content.decode()
    return page.split('<ul class="recent-posts">', 1)[1].split("</ul>", 1)[0]


def test_a_new_post_shows_in_recent_posts_at_once(client, make_post):
    make_post("First letter")
    assert "First letter" in _recent_posts(client)
    make_post("Second letter")
    assert "Second letter" in _recent_posts(client)


def test_an_edited_title_shows_in_recent_posts_at_once(client, make_post):
    post = make_post("Draft title")
    assert "Draft title" in _recent_posts(client)
    post.title = "Final title"
    post.save()
    sidebar = _recent_posts(client)
    assert "Final title" in sidebar and "Draft title" not in sidebar


def test_a_scheduled_post_shows_once_it_falls_due(client, make_post):
    due = timezone.now() + timezone.timedelta(seconds=1.5)
    make_post("Visible now")
    make_post("Embargoed letter", status=Post.Status.SCHEDULED, published_at=due)
    assert "Embargoed letter" not in _recent_posts(client)
    # Nothing bumps the generation when the time comes: the worker has not run.
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.1)
    assert "Embargoed letter" in _recent_posts(client)


def test_changing_the_sidebar_author_shows_at_once(client, make_post, alice):
    make_post("A letter")
    other = Author.objects.create(display_name="Bob Campaigner", slug="bob")
    assert "Alice" in client.get("/").content.decode()
    site = SiteSettings.load()
    site.sidebar_author = other
    site.save()
    assert "Bob Campaigner" in client.get("/").content.decode()
