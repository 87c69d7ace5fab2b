import re
import time

import pytest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from clarion.posts.models import Post, SiteSettings
from clarion.web.csrf import CSRF_SENTINEL, masked

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _token(response) -> str:
    found = TOKEN.findall(response.content.decode())
    assert found, "the page has no subscribe form token"
    assert len(set(found)) == 1
    return found[0]


@pytest.fixture
def letter(make_post):
    return make_post("An open letter", body="Dear Foreign Secretary,\n\nWe write.")


def test_it_serves_the_second_anonymous_request_from_the_cache(
    client, letter, django_assert_num_queries
):
    first = client.get("/")
    assert first["X-Clarion-Cache"] == "miss"
    # A hit costs the one query that reads the content generation, nothing else.
    with django_assert_num_queries(1):
        second = client.get("/")
    assert second.status_code == 200
    assert second["X-Clarion-Cache"] == "hit"
    assert "An open letter" in second.content.decode()
    # Headers that the middleware inside the cache added when the page was rendered.
    assert second["X-Frame-Options"] == "DENY"
    assert second["Content-Language"] == "en-gb"
    assert second["X-Content-Type-Options"] == "nosniff"


def test_it_shows_a_new_post_on_the_cached_home_page_at_once(client, letter, make_post):
    assert client.get("/")["X-Clarion-Cache"] == "miss"
    assert client.get("/")["X-Clarion-Cache"] == "hit"
    make_post("A second letter")
    response = client.get("/")
    assert response["X-Clarion-Cache"] == "miss"
    assert "A second letter" in response.content.decode()


def test_it_shows_an_edit_and_a_deletion_at_once(client, letter):
    url = letter.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Clarion-Cache"] == "hit"
    letter.title = "A corrected letter"
    letter.save()
    assert "A corrected letter" in client.get(url).content.decode()
    assert "A corrected letter" in client.get("/category/uncategorized/").content.decode()
    letter.delete()
    assert client.get(url).status_code == 404


def test_it_shows_a_site_settings_change_at_once(client, letter):
    client.get("/feed/")
    assert client.get("/feed/")["X-Clarion-Cache"] == "hit"
    site = SiteSettings.load()
    site.title = "The Renamed Site"
    site.save()
    assert "The Renamed Site" in client.get("/feed/").content.decode()


def test_it_gives_each_reader_their_own_csrf_token(letter):
    pages = []
    for _ in range(3):
        reader = Client(enforce_csrf_checks=True)
        response = reader.get("/")
        pages.append((reader, response))
    assert [r["X-Clarion-Cache"] for _, r in pages] == ["miss", "hit", "hit"]
    tokens = [_token(r) for _, r in pages]
    assert len(set(tokens)) == 3
    assert all(CSRF_SENTINEL not in r.content.decode() for _, r in pages)
    # Each reader's form posts with its own cookie and token; another reader's fails.
    first_reader, _ = pages[0]
    second_reader, _ = pages[1]
    ok = first_reader.post(
        "/subscribe/", {"email": "a@example.org", "csrfmiddlewaretoken": tokens[0]}
    )
    assert ok.status_code != 403
    stolen_cookie = Client(enforce_csrf_checks=True)
    refused = stolen_cookie.post(
        "/subscribe/", {"email": "b@example.org", "csrfmiddlewaretoken": tokens[1]}
    )
    assert refused.status_code == 403


def test_it_sets_the_csrf_cookie_for_a_new_reader_and_keeps_the_page_private(letter):
    reader = Client(enforce_csrf_checks=True)
    first = reader.get("/")
    assert "csrftoken" in first.cookies
    assert first["Cache-Control"].startswith("private")
    # With the cookie, the page can be shared by caches that key on it.
    second = reader.get("/")
    assert "csrftoken" not in second.cookies
    assert second["X-Clarion-Cache"] == "hit"
    assert second["Cache-Control"] == "public, max-age=60, stale-while-revalidate=60"
    assert second["Vary"] == "Cookie"
    assert reader.post("/subscribe/", {"csrfmiddlewaretoken": _token(second)}).status_code != 403


def test_it_marks_feeds_public_without_varying_on_cookies(client, letter):
    response = client.get("/feed/")
    assert response["Content-Type"].startswith("application/rss+xml")
    assert response["Cache-Control"] == "public, max-age=60, stale-while-revalidate=60"
    assert "Cookie" not in response.get("Vary", "")
    assert "csrftoken" not in response.cookies


def test_it_answers_304_to_a_matching_etag_or_date(client, letter):
    url = letter.get_absolute_url()
    first = client.get(url)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('W/"')
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    assert client.get(url, headers={"if-modified-since": modified}).status_code == 304
    letter.title = "Changed"
    letter.save()
    changed = client.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_it_never_caches_pages_for_signed_in_staff(client, letter, alice):
    client.get("/")  # an anonymous reader fills the cache
    client.force_login(alice.user)
    response = client.get("/")
    assert "X-Clarion-Cache" not in response
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_it_treats_a_reader_with_a_session_but_no_login_as_anonymous(client, letter):
    session = client.session
    session["seen"] = True
    session.save()
    client.get("/")
    assert client.get("/")["X-Clarion-Cache"] == "hit"


def test_it_does_not_cache_dynamic_pages_or_posts(client, letter):
    for url in ("/admin/login/", "/subscribe/", "/share/mastodon/?url=x", "/no-such-page/"):
        response = client.get(url)
        assert "X-Clarion-Cache" not in response, url
        assert CSRF_SENTINEL not in response.content.decode(), url
    response = client.post("/share/mastodon/", {"server": "x"})
    assert "X-Clarion-Cache" not in response


def test_it_shares_one_entry_across_tracking_parameters(client, letter):
    url = letter.get_absolute_url()
    assert client.get(url + "?utm_source=press&fbclid=abc")["X-Clarion-Cache"] == "miss"
    assert client.get(url + "?fbclid=xyz")["X-Clarion-Cache"] == "hit"
    assert client.get(url)["X-Clarion-Cache"] == "hit"


def test_it_drops_a_page_after_its_max_age_so_clock_scheduled_posts_appear(
    client, letter, make_post, settings
):
    settings.CLARION_PAGE_CACHE_SECONDS = 1
    later = make_post(
        "Scheduled letter",
        status=Post.Status.SCHEDULED,
        published_at=timezone.now() + timezone.timedelta(days=1),
    )
    assert "Scheduled letter" not in client.get("/").content.decode()
    # Its time comes without anything bumping the generation (no worker tick yet).
    Post.objects.filter(pk=later.pk).update(published_at=timezone.now())
    assert client.get("/")["X-Clarion-Cache"] == "hit"
    time.sleep(1.1)
    assert "Scheduled letter" in client.get("/").content.decode()


def test_it_serves_every_request_fresh_when_turned_off(client, letter, settings):
    settings.CLARION_PAGE_CACHE = False
    client.get("/")
    response = client.get("/")
    assert "X-Clarion-Cache" not in response
    assert CSRF_SENTINEL not in response.content.decode()


def test_it_renders_pages_when_the_cache_is_down(client, letter, settings):
    # Nothing listens on this port (within the range these tests may use).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:8599/0",
        }
    }
    response = client.get("/")
    assert response.status_code == 200
    assert "An open letter" in response.content.decode()
    assert "X-Clarion-Cache" not in response
    assert CSRF_SENTINEL not in response.content.decode()


def test_it_gives_a_404_page_a_real_token(client, letter):
    response = client.get("/2020/01/01/no-such-letter/")
    assert response.status_code == 404
    assert CSRF_SENTINEL not in response.content.decode()
    assert len(_token(response)) == 64


def test_each_process_keeps_a_copy_of_what_it_served_until_the_generation_changes(
    client, letter, make_post, settings
):
    assert client.get("/")["X-Clarion-Cache"] == "miss"
    # The shared cache goes away: the process still has the page it just stored...
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:8599/0",
        }
    }
    assert client.get("/")["X-Clarion-Cache"] == "hit"
    # ...but never past a publish: the new generation's page is rendered (here uncached).
    make_post("A second letter")
    response = client.get("/")
    assert "X-Clarion-Cache" not in response
    assert "A second letter" in response.content.decode()


def test_the_copies_are_bounded_to_the_most_recently_read_pages(client, letter, monkeypatch):
    from clarion.web import cache

    monkeypatch.setattr(cache, "NEAR_PAGES", 2)
    for path in ("/", letter.get_absolute_url(), "/feed/"):
        assert client.get(path)["X-Clarion-Cache"] == "miss"
    assert len(cache._near) == 2
    assert client.get("/")["X-Clarion-Cache"] == "hit"  # from the shared cache again


@given(st.text(alphabet=CSRF_ALLOWED_CHARS, min_size=32, max_size=32))
def test_a_masked_token_unmasks_to_its_secret_as_django_reads_it(secret):
    token = masked(secret)
    assert len(token) == 64 and set(token) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == secret
    assert token[:32] != masked(secret)[:32]  # a fresh mask each time
