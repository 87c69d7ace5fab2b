import pytest
from django.utils import timezone

from clarion.posts.models import Category, Post, Tag


@pytest.fixture
def letter_and_neighbours(demo_site, make_post):
    """The reference letter plus posts that mention its words less prominently, indexed."""
    from clarion.search.backends import get_search_backend

    politics = Category.objects.create(name="Politics")
    make_post(
        "Weekly round-up",
        body="Questions in the Lords this week. "
        * 30
        + "A colleague raised detention in Shenyang. Also forced repatriation in passing, "
        "and one escapee's story.",
        categories=[politics],
    )
    make_post(
        "Travel notes from the north-east",
        body="Trains, rivers and a long wait. " * 20 + "We passed Shenyang at night.",
    )
    get_search_backend().rebuild()
    return demo_site["letter"]


@pytest.fixture
def scheduled_post(make_post):
    return make_post(
        "Shenyang embargoed statement",
        body="Not to be read before it is due.",
        status=Post.Status.SCHEDULED,
        published_at=timezone.now() + timezone.timedelta(days=2),
    )


@pytest.fixture
def labels():
    return {
        "category": Category.objects.create(name="Human Rights"),
        "tag": Tag.objects.create(name="Refugees"),
    }
