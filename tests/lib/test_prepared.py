"""A queryset compiled once answers as the queryset itself would, for any values."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clarion.lib.prepared import PreparedCount, PreparedQuery
from clarion.posts.models import (
    Category,
    Post,
    SiteSettings,
    category_listing,
    default_category_listing,
    home_listing,
    live_post,
    neighbours,
    posts_with_ids,
)

PUBLISHED_AT = Post._meta.get_field("published_at")


def older_than(now, when):
    return Post.objects.live(now).filter(published_at__lt=when).order_by("-published_at")


@pytest.fixture
def dated(make_post):
    base = datetime(2024, 3, 1, 12, tzinfo=UTC)
    posts = [
        make_post(f"Post {i}", published_at=base + timedelta(days=i), slug=f"post-{i}")
        for i in range(6)
    ]
    make_post("Draft", status=Post.Status.DRAFT, slug="draft")
    return base, posts


def test_it_answers_as_the_queryset_does_for_every_value(dated):
    base, posts = dated
    prepared = PreparedQuery(Post, older_than, now=PUBLISHED_AT, when=PUBLISHED_AT)
    for now_days in (0, 2, 3.5, 10):
        for when_days in (-1, 0, 1, 2.5, 5, 9):
            now = base + timedelta(days=now_days)
            when = base + timedelta(days=when_days)
            expected = [p.title for p in older_than(now, when)]
            assert [p.title for p in prepared(now=now, when=when)] == expected


def test_it_compiles_once_per_process(dated):
    base, _ = dated
    built = []

    def build(now, when):
        built.append((now, when))
        return older_than(now, when)

    prepared = PreparedQuery(Post, build, now=PUBLISHED_AT, when=PUBLISHED_AT)
    prepared(now=timezone.now(), when=base + timedelta(days=3))
    compiles = len(built)  # the statement, then once more per named value
    assert compiles == 3
    with CaptureQueriesContext(connection) as queries:
        found = prepared(now=timezone.now(), when=base + timedelta(days=3))
    assert len(built) == compiles
    assert [p.title for p in found] == ["Post 2", "Post 1", "Post 0"]
    assert len(queries) == 1


def test_it_refuses_a_value_that_changes_the_statement():
    prepared = PreparedQuery(
        Post,
        lambda pk: Post.objects.filter(pk__in=list(range(pk % 7 + 1))),
        pk=Post._meta.get_field("id"),
    )
    with pytest.raises(ValueError, match="shape"):
        prepared(pk=1)


def test_it_refuses_a_name_the_statement_does_not_use(db):
    prepared = PreparedQuery(
        Post, lambda now, when: Post.objects.live(now), now=PUBLISHED_AT, when=PUBLISHED_AT
    )
    with pytest.raises(ValueError, match="when is not a parameter"):
        prepared(now=timezone.now(), when=timezone.now())


def test_a_post_page_finds_its_post_author_and_neighbours(dated, alice):
    base, posts = dated
    post = live_post("post-3")
    assert post.title == "Post 3" and post.author.display_name == alice.display_name
    older, newer = neighbours(post)
    assert (older.title, newer.title) == ("Post 2", "Post 4")
    # The newest has no newer post; drafts and unknown slugs are not live.
    assert neighbours(live_post("post-5"))[1] is None
    assert live_post("draft") is None and live_post("nope") is None


def test_a_list_value_answers_for_every_length(dated):
    _, posts = dated
    prepared = PreparedQuery(Post, lambda ids: Post.objects.filter(pk__in=ids), ids=[Post._meta.pk])
    for length in (1, 2, 5):
        ids = [p.pk for p in posts[:length]] + [999_999]  # and one that does not exist
        assert sorted(p.pk for p in prepared(ids=ids)) == sorted(ids[:-1])


def test_the_home_page_reads_pinned_then_newest_a_page_at_a_time(dated, make_post):
    _, posts = dated
    pinned = make_post("Pinned", slug="pinned", sticky=True, published_at=posts[0].published_at)
    expected = [pinned.pk] + [p.pk for p in reversed(posts)]
    home = home_listing.bind(now=timezone.now())
    assert home.count() == len(expected)
    assert home[0:4] == expected[:4]
    assert home[4:8] == expected[4:]
    assert home[0:0] == []
    assert [p.title for p in posts_with_ids(expected[:3])] == ["Pinned", "Post 5", "Post 4"]
    assert posts_with_ids([]) == []


def test_a_count_answers_as_the_querysets_count(dated):
    base, _ = dated
    prepared = PreparedCount(None, older_than, now=PUBLISHED_AT, when=PUBLISHED_AT)
    for days in (-1, 0, 2.5, 9):
        now, when = timezone.now(), base + timedelta(days=days)
        assert prepared.count(now=now, when=when) == older_than(now, when).count()


def test_category_listings_answer_as_the_orm_does(dated, make_post):
    base, posts = dated
    default = SiteSettings.load().get_default_category()
    letters = Category.objects.create(name="Letters", slug="letters")
    for post in posts[:3]:
        post.categories.set([letters, default] if post.pk % 2 else [letters])
    now = timezone.now()
    live = Post.objects.live(now)
    cases = [
        (category_listing, letters, live.filter(categories=letters)),
        (default_category_listing, default, live.filter(categories=default)
         | live.filter(categories__isnull=True)),
    ]  # fmt: skip
    for listing, category, queryset in cases:
        expected = list(queryset.order_by("-published_at", "-id").values_list("pk", flat=True))
        bound = listing.bind(now=now, category=category.pk)
        assert bound.count() == len(expected) > 0
        assert bound[0:2] + bound[2:10] == expected
