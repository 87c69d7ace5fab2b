"""The index follows posts after each transaction commits (tasks run on ImmediateBackend)."""

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks.signals import task_enqueued

from clarion.posts.models import Category, Post, Tag
from clarion.posts.services import publish_due_posts
from clarion.search.backends import get_search_backend
from clarion.search.models import SearchDocument

pytestmark = pytest.mark.django_db(transaction=True)


def found(text: str) -> list[str]:
    return [hit.post.title for hit in get_search_backend().search(text).hits]


@pytest.fixture
def enqueued():
    calls = []

    def record(sender, task_result, **kwargs):
        # Only the search index's tasks: publishing also wakes the newsletter.
        if task_result.task.module_path.startswith("clarion.search."):
            calls.append(task_result.args)

    task_enqueued.connect(record)
    yield calls
    task_enqueued.disconnect(record)


def test_it_indexes_a_post_when_it_is_published(make_post):
    post = make_post("Letter on Shenyang", body="Detention.")
    assert SearchDocument.objects.filter(pk=post.pk).exists()
    assert found("shenyang") == ["Letter on Shenyang"]


def test_it_waits_for_the_transaction_to_commit(make_post):
    with transaction.atomic():
        post = Post.objects.create(title="Tumen notes", body="Text.", status="published")
        assert not SearchDocument.objects.filter(pk=post.pk).exists()
    assert found("tumen") == ["Tumen notes"]


def test_it_indexes_nothing_when_the_transaction_rolls_back(enqueued):
    with pytest.raises(RuntimeError), transaction.atomic():
        Post.objects.create(title="Tumen notes", body="Text.", status="published")
        raise RuntimeError("abandoned")
    assert enqueued == []
    assert SearchDocument.objects.count() == 0


def test_it_enqueues_one_task_per_transaction(make_post, enqueued):
    tag = Tag.objects.create(name="Refugees")
    make_post("Letter", body="Text.", categories=[Category.objects.create(name="Asia")], tags=[tag])
    # post_save, two m2m changes, the default category and post_published: one task.
    assert len(enqueued) == 1


def test_it_follows_an_edit(make_post):
    post = make_post("Old title", body="About Tumen.")
    post.title = "New title"
    post.body = "About Shenyang."
    post.save()
    assert found("shenyang") == ["New title"]
    assert found("tumen") == []


def test_it_forgets_an_unpublished_post(make_post):
    post = make_post("Shenyang letter", body="Text.")
    post.status = Post.Status.DRAFT
    post.published_at = None
    post.save()
    assert found("shenyang") == []
    assert not SearchDocument.objects.filter(pk=post.pk).exists()


def test_it_forgets_a_deleted_post(make_post):
    post = make_post("Shenyang letter", body="Text.")
    pk = post.pk
    post.delete()
    assert found("shenyang") == []
    assert not SearchDocument.objects.filter(pk=pk).exists()


def test_it_follows_categories_and_tags(make_post):
    post = make_post("A letter", body="Text.")
    category = Category.objects.create(name="Human Rights")
    tag = Tag.objects.create(name="Refugees")
    post.categories.add(category)
    tag.posts.add(post)  # from the tag's side
    assert found("human rights") == found("refugees") == ["A letter"]

    category.name = "Civil Liberties"
    category.save()
    assert found("liberties") == ["A letter"]
    assert found("human rights") == []

    tag.posts.clear()
    assert found("refugees") == []

    category.delete()
    assert found("liberties") == []


def test_it_indexes_a_scheduled_post_when_the_worker_publishes_it(make_post):
    post = make_post(
        "Embargoed statement",
        body="Text.",
        status=Post.Status.SCHEDULED,
        published_at=timezone.now() + timezone.timedelta(days=1),
    )
    assert found("embargoed") == []
    # Time passes (no signal), and the document is lost, so only the publish hook can
    # bring it back.
    Post.objects.filter(pk=post.pk).update(published_at=timezone.now())
    SearchDocument.objects.filter(pk=post.pk).delete()
    assert publish_due_posts() == 1
    assert found("embargoed") == ["Embargoed statement"]


def test_the_demo_letter_is_findable_once_loaded(demo_site):
    assert found("Shenyang") == [demo_site["letter"].title]
