"""SQLite reads the home page's newest posts through the index built for that order."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from clarion.ops.jobs import refresh_planner_statistics
from clarion.posts.models import Post

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL's autovacuum keeps its own statistics"
)


def home_plan() -> str:
    queryset = Post.objects.live().order_by("-sticky", "-published_at", "-id")
    return queryset.values_list("pk", flat=True)[:10].explain()


@pytest.mark.django_db
def test_the_home_page_walks_its_index_once_statistics_are_refreshed(alice):
    now = timezone.now()
    Post.objects.bulk_create(
        Post(
            title=f"Post {n}",
            slug=f"post-{n}",
            status=Post.Status.PUBLISHED if n % 10 else Post.Status.DRAFT,
            published_at=now - timedelta(hours=n),
            sticky=n == 7,
            author=alice,
        )
        for n in range(1, 400)
    )
    # Without statistics SQLite prefers the status index and sorts every live post.
    assert "TEMP B-TREE" in home_plan()
    refresh_planner_statistics(force=True)
    plan = home_plan()
    assert "post_home_order" in plan
    assert "TEMP B-TREE" not in plan  # no sort of every live post
    # Hourly from the worker's tick, not on every tick.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sqlite_stat1")
    refresh_planner_statistics()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1")
        assert cursor.fetchone()[0] == 0
