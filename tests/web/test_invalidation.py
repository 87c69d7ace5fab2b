"""Whatever changes public content, in whichever app, makes the cached pages fresh at once:
each such change calls ``clarion.web.cache.invalidate``. (tests/web/test_pagecache.py covers a
post published, edited and deleted, and the site settings changed.)"""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from clarion.posts import services
from clarion.posts.models import Category, Post, Tag
from clarion.web.cache import invalidate

SAMPLE = Path("/work/shared/fixtures/wordpress-sample.xml")


def cached(client, path) -> str:
    """The page at ``path``, once it is served from the cache."""
    client.get(path)
    response = client.get(path)
    assert response["X-Clarion-Cache"] == "hit"
    return response.content.decode()


def test_filing_a_post_under_a_category_or_tag_shows_on_their_cached_pages(client, make_post):
    Category.objects.create(name="Letters", slug="letters")
    Tag.objects.create(name="Refugees", slug="refugees")
    # Its summary is what the listings show (the sidebar shows every recent post's title).
    post = make_post("An open letter", body="Dear Foreign Secretary, we write.")
    assert "Dear Foreign Secretary" not in cached(client, "/category/letters/")
    assert "Dear Foreign Secretary" not in cached(client, "/tag/refugees/")
    # Only the post's categories and tags change: the post itself is not saved again.
    post.categories.add(Category.objects.get(slug="letters"))
    post.tags.add(Tag.objects.get(slug="refugees"))
    assert "Dear Foreign Secretary" in client.get("/category/letters/").content.decode()
    assert "Dear Foreign Secretary" in client.get("/tag/refugees/").content.decode()


def test_an_authors_new_name_shows_on_their_cached_posts(client, make_post, alice):
    post = make_post("An open letter")
    assert "Alice Author" in cached(client, post.get_absolute_url())
    alice.display_name = "Alice Writer"
    alice.save()
    assert "Alice Writer" in client.get(post.get_absolute_url()).content.decode()


def test_the_worker_publishing_a_due_post_shows_it_on_the_cached_home_page(client, make_post):
    make_post("An open letter")
    due = make_post(
        "A scheduled letter",
        status=Post.Status.SCHEDULED,
        published_at=timezone.now() + timedelta(hours=1),
    )
    assert "A scheduled letter" not in cached(client, "/")
    # Its time comes (moved without a signal, as the clock moves): nothing has told the
    # cache, so the stored page is still served...
    Post.objects.filter(pk=due.pk).update(published_at=timezone.now() - timedelta(minutes=1))
    assert "A scheduled letter" not in cached(client, "/")
    # ...until the worker marks it published.
    assert services.publish_due_posts() == 1
    response = client.get("/")
    assert response["X-Clarion-Cache"] == "miss"
    assert "A scheduled letter" in response.content.decode()


def test_a_wordpress_import_shows_on_the_cached_home_page(client, make_post, settings, tmp_path):
    if not SAMPLE.is_file():
        pytest.fail(f"{SAMPLE} is missing: the shared WordPress fixture is required")
    settings.MEDIA_ROOT = tmp_path / "media"
    make_post("An open letter")
    assert "Letter to the Foreign Secretary" not in cached(client, "/")
    call_command("import_wordpress", str(SAMPLE), stdout=io.StringIO())
    response = client.get("/")
    assert response["X-Clarion-Cache"] == "miss"
    assert "Letter to the Foreign Secretary" in response.content.decode()


def test_a_change_that_is_rolled_back_leaves_cached_pages_as_they_were(client, make_post):
    make_post("An open letter")
    cached(client, "/")
    with pytest.raises(RuntimeError), transaction.atomic():
        invalidate("a change that is then rolled back")
        raise RuntimeError
    assert client.get("/")["X-Clarion-Cache"] == "hit"
    invalidate("a change that commits")
    assert client.get("/")["X-Clarion-Cache"] == "miss"
