"""Rendering a page costs a fixed number of queries, however many posts it lists."""

import pytest
from django.utils import timezone

from clarion.posts.models import Category, SiteSettings, Tag


@pytest.fixture(autouse=True)
def _render_every_time(settings):
    settings.CLARION_PAGE_CACHE = False


def _site_with(n, make_post):
    home_cat = Category.objects.create(name="Letters", slug="letters")
    other = Category.objects.create(name="Campaigns", slug="campaigns")
    tag = Tag.objects.create(name="Asia", slug="asia")
    posts = [
        make_post(f"Letter {i}", categories=[home_cat, other] if i % 2 else [home_cat], tags=[tag])
        for i in range(n)
    ]
    site = SiteSettings.load()
    site.posts_per_page = 50
    site.save()
    return posts


def _warm(client, url):
    # Twice, as a busy server has it: the first archive request creates the default
    # category, which bumps the generation and so reloads the site settings once.
    client.get(url)
    client.get(url)


@pytest.mark.parametrize("n", [3, 30])
def test_it_renders_the_home_page_in_a_fixed_number_of_queries(
    n, client, make_post, django_assert_num_queries
):
    _site_with(n, make_post)
    _warm(client, "/")
    with django_assert_num_queries(HOME_QUERIES):
        assert f"Letter {n - 1}" in client.get("/").content.decode()


@pytest.mark.parametrize("n", [3, 30])
def test_it_renders_a_category_archive_in_a_fixed_number_of_queries(
    n, client, make_post, django_assert_num_queries
):
    _site_with(n, make_post)
    _warm(client, "/category/letters/")
    with django_assert_num_queries(CATEGORY_QUERIES):
        assert f"Letter {n - 1}" in client.get("/category/letters/").content.decode()


# generation; the tag or author; count; ids; posts; their authors; their categories. A year
# or a month has no row of its own to read.
@pytest.mark.parametrize(
    "url, queries",
    [("/tag/asia/", 7), ("/author/alice/", 7), ("/{year}/", 6), ("/{year}/{month}/", 6)],
)
@pytest.mark.parametrize("n", [3, 30])
def test_it_renders_the_other_archives_in_a_fixed_number_of_queries(
    n, url, queries, client, make_post, django_assert_num_queries
):
    posts = _site_with(n, make_post)
    when = timezone.localtime(posts[-1].published_at)
    url = url.format(year=when.year, month=f"{when.month:02d}")
    _warm(client, url)
    with django_assert_num_queries(queries):
        assert f"Letter {n - 1}" in client.get(url).content.decode()


@pytest.mark.parametrize("n", [3, 30])
def test_it_renders_a_post_page_in_a_fixed_number_of_queries(
    n, client, make_post, django_assert_num_queries
):
    posts = _site_with(n, make_post)
    url = posts[n // 2].get_absolute_url()
    _warm(client, url)
    with django_assert_num_queries(POST_QUERIES):
        page = client.get(url).content.decode()
    assert 'class="widget author-box"' in page and "Alice Author" in page


def test_it_renders_a_search_page_in_the_same_number_of_queries_for_3_or_10_hits(client, make_post):
    # Counted rather than fixed: each engine asks in its own number of steps.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clarion.search.backends import get_search_backend

    def queries_for_search(hits: int) -> int:
        get_search_backend().rebuild()
        _warm(client, "/search/?q=letter")
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/search/?q=letter").content.decode()
        assert page.count('class="post-card search-hit"') == hits
        assert 'rel="category tag">Letters</a>' in page
        return len(queries)

    _site_with(3, make_post)
    few = queries_for_search(3)
    _site_with_more(27, make_post)
    assert queries_for_search(10) == few


def _site_with_more(n, make_post):
    letters = Category.objects.get(slug="letters")
    for i in range(n):
        make_post(f"Another letter {i}", categories=[letters])


# The sidebar's recent posts and site author are remembered per content generation
# (clarion/posts/context_processors.py), so a warm process asks for neither.
# generation; count; the page's ids; its posts; their authors; their categories
HOME_QUERIES = 6
# generation; category; count; ids; posts; their authors; their categories
CATEGORY_QUERIES = 7
# generation; post; its author; its categories; its tags; previous; next
POST_QUERIES = 7
