"""Keep the index in step with posts: after commit, by id, one task per transaction.

Every change that can alter what a post's search document holds or whether it may be found
lands here: saving or deleting a post, changing its categories or tags, renaming or deleting
a category or tag, and a scheduled post falling due (``publish_due_posts`` uses an UPDATE,
so no post_save fires; it sends ``post_published`` instead).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from clarion.posts.models import Category, Post, Tag
from clarion.posts.signals import post_published

from .tasks import index_posts_task

TASK_BATCH = 500


class _PendingIndex:
    """The on-commit callback of one transaction: the ids of the posts it touched.

    Saving a post in the admin fires post_save, then m2m_changed for categories and tags,
    then post_published; an import touches thousands of posts in one transaction. Collecting
    the ids turns that into one task per transaction (per 500 posts), not one per signal.
    """

    def __init__(self):
        self.ids: set[int] = set()

    def __call__(self):
        ids = sorted(self.ids)
        for start in range(0, len(ids), TASK_BATCH):
            index_posts_task.enqueue(ids[start : start + TASK_BATCH])


def schedule(post_ids: Iterable[int]) -> None:
    ids = {pk for pk in post_ids if pk is not None}
    if not ids:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # Join this transaction's pending callback if it has one. Django drops callbacks
        # with the (savepoint) rollback that discards their changes, so a rolled-back
        # change never reaches the queue.
        for _savepoints, callback, _robust in connection.run_on_commit:
            if isinstance(callback, _PendingIndex):
                callback.ids.update(ids)
                return
    pending = _PendingIndex()
    pending.ids.update(ids)
    transaction.on_commit(pending)


@receiver(post_save, sender=Post, dispatch_uid="clarion.search.post_saved")
@receiver(post_delete, sender=Post, dispatch_uid="clarion.search.post_deleted")
def post_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        schedule([instance.pk])


@receiver(post_published, dispatch_uid="clarion.search.post_published")
def post_went_live(sender, post, **kwargs):
    schedule([post.pk])


@receiver(m2m_changed, sender=Post.categories.through, dispatch_uid="clarion.search.categories")
@receiver(m2m_changed, sender=Post.tags.through, dispatch_uid="clarion.search.tags")
def labels_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:
        if action in {"post_add", "post_remove", "post_clear"}:
            schedule([instance.pk])
        return
    # From the category's or tag's side: pk_set holds post ids, except for a clear.
    if action == "pre_clear":
        instance._search_post_ids = list(instance.posts.values_list("pk", flat=True))
    elif action == "post_clear":
        schedule(getattr(instance, "_search_post_ids", []))
    elif action in {"post_add", "post_remove"}:
        schedule(pk_set or [])


@receiver(post_save, sender=Category, dispatch_uid="clarion.search.category_saved")
@receiver(post_save, sender=Tag, dispatch_uid="clarion.search.tag_saved")
def label_saved(sender, instance, created, raw=False, **kwargs):
    # A new label has no posts yet; a renamed one changes its posts' documents.
    if not created and not raw:
        schedule(instance.posts.values_list("pk", flat=True))


@receiver(pre_delete, sender=Category, dispatch_uid="clarion.search.category_deleting")
@receiver(pre_delete, sender=Tag, dispatch_uid="clarion.search.tag_deleting")
def label_deleting(sender, instance, **kwargs):
    # Deleting a label removes its links without m2m_changed: note its posts now, while
    # they can still be found.
    schedule(list(instance.posts.values_list("pk", flat=True)))
