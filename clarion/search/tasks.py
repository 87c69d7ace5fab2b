from django_tasks import task


@task()
def index_posts_task(post_ids: list[int]) -> int:
    """Bring the index in step with these posts (by id; safe to run twice)."""
    from .backends import get_search_backend

    get_search_backend().index_posts(post_ids)
    return len(post_ids)
