import datetime as dt
import sqlite3
import time

import pytest
from django.utils import timezone

from clarion.posts import services
from clarion.posts.models import Post
from clarion.posts.signals import post_published
from clarion.web.models import ContentGeneration
from tests.helpers import run_clarion


@pytest.fixture
def announced():
    seen = []

    def receiver(sender, post, notify, **kwargs):
        seen.append((post.pk, notify))

    post_published.connect(receiver, dispatch_uid="test-announced")
    yield seen
    post_published.disconnect(dispatch_uid="test-announced")


def test_a_scheduled_post_goes_live_once_when_due(make_post, announced):
    post = make_post(
        "Later", status=Post.Status.SCHEDULED, published_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert services.publish_due_posts() == 0
    assert announced == []
    later = timezone.now() + dt.timedelta(hours=2)
    generation = ContentGeneration.current()
    assert services.publish_due_posts(now=later) == 1
    assert services.publish_due_posts(now=later) == 0
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED
    assert announced == [(post.pk, True)]
    assert ContentGeneration.current() > generation


def test_publishing_without_email_is_remembered_until_the_scheduled_time(make_post, announced):
    make_post(
        "Quiet",
        status=Post.Status.SCHEDULED,
        published_at=timezone.now() + dt.timedelta(minutes=5),
        notify_subscribers=False,
    )
    services.publish_due_posts(now=timezone.now() + dt.timedelta(minutes=10))
    assert [notify for _, notify in announced] == [False]


def test_a_due_scheduled_post_is_visible_before_the_worker_runs(client, make_post):
    post = make_post(
        "Due", status=Post.Status.SCHEDULED, published_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(post.get_absolute_url()).status_code == 200


def test_publishing_a_post_announces_it_once_and_editing_does_not(make_post, announced):
    post = make_post("Now")
    assert announced == [(post.pk, True)]
    post.title = "Now, edited"
    post.save()
    services.post_saved(post=post, was_live=True)
    assert len(announced) == 1


@pytest.mark.slow
def test_the_worker_process_publishes_scheduled_posts_without_anyone_logged_in(tmp_path):
    assert run_clarion(tmp_path, "manage", "migrate", "-v0").returncode == 0
    due = timezone.now() + dt.timedelta(seconds=8)  # later than a slow `clarion publish` start
    when = due.isoformat()
    (tmp_path / "later.md").write_text(
        f"---\ntitle: Later\nstatus: scheduled\ndate: {when}\n---\nSoon.\n"
    )
    result = run_clarion(tmp_path, "publish", "later.md")
    assert result.returncode == 0, result.stderr
    assert "created scheduled post" in result.stdout
    time.sleep(max(0, (due - timezone.now()).total_seconds()) + 0.2)
    result = run_clarion(tmp_path, "worker", "--batch")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "clarion.sqlite3") as db:
        assert db.execute("SELECT status FROM posts_post").fetchall() == [("published",)]
