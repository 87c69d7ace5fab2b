"""From a post to the text the index holds."""

from __future__ import annotations

from collections.abc import Iterable

from clarion.posts.models import Post

from .models import SearchDocument

# Backends mark matched words with these (Unicode private-use characters, removed from
# every indexed text), then the text is HTML-escaped and the markers become <mark>: the
# engines' highlighters never produce HTML from a post's text.
MARK_START = "\ue000"
MARK_END = "\ue001"
_NO_MARKERS = str.maketrans({MARK_START: " ", MARK_END: " "})


def indexable_posts():
    """Posts worth indexing: published or scheduled. Visibility is enforced again at query
    time, so a scheduled post is indexed ahead and found the moment it falls due."""
    return Post.objects.exclude(status=Post.Status.DRAFT).exclude(published_at__isnull=True)


def plain(text: str) -> str:
    return text.translate(_NO_MARKERS)


def build(post: Post) -> SearchDocument:
    names = [c.name for c in post.categories.all()] + [t.name for t in post.tags.all()]
    return SearchDocument(
        post_id=post.pk,
        title=plain(post.title),
        excerpt=plain(post.summary),
        body=plain(post.text),
        terms=plain(" · ".join(names)),
    )


def build_many(post_ids: Iterable[int]) -> list[SearchDocument]:
    posts = indexable_posts().filter(pk__in=list(post_ids)).prefetch_related("categories", "tags")
    return [build(post) for post in posts]
