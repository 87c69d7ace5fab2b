import pytest
from django.utils import timezone

from clarion.posts.models import Category, Post, Tag


@pytest.fixture
def letter_and_neighbours(demo_site, make_post):
    """The reference letter plus posts that mention its words less prominently, indexed."""
    from clarion.search.backends import get_search_backend

    politics = Category.objects.create(name="Politics")
    # Posts of the letter's length that mention its words once, in the body only.
    filler = (
        "Questions in the Lords this week covered housing, energy prices and the courts. "
        "Members asked about trade with Asia and about the work of select committees. "
    ) * 30
    make_post(
        "Weekly round-up",
        body=filler + "A colleague raised detention in Shenyang. Also forced repatriation in "
        "passing, and one escapee's story.\n\n" + filler,
        categories=[politics],
    )
    make_post(
        "Travel notes from the north-east",
        body=filler + "We passed Shenyang at night; an escapee had come this way once.",
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
