import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the Django ORM then
# refuses to run unless told this is deliberate (see ../shared/NOTES.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the test database is rolled back between
    tests, so content generations repeat, and a page cached by one test must not be
    served in another."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def site(db):
    from clarion.posts.models import SiteSettings

    return SiteSettings.load()


@pytest.fixture
def alice(db):
    """An author with a login: the persona who writes posts."""
    from django.contrib.auth import get_user_model

    from clarion.posts.models import Author

    user = get_user_model().objects.create_user(
        "alice", "alice@example.org", "correct horse battery staple", is_staff=True
    )
    return Author.objects.create(
        user=user, display_name="Alice Author", slug="alice", bio="Alice writes letters."
    )


@pytest.fixture
def make_post(db, alice):
    """Create a post through the same service the admin and CLI use."""
    from django.db import transaction
    from django.utils import timezone

    from clarion.posts import services
    from clarion.posts.models import Post

    def make(title="A post", *, body="Some words.", status=Post.Status.PUBLISHED, **fields):
        categories = fields.pop("categories", [])
        tags = fields.pop("tags", [])
        fields.setdefault("author", alice)
        if status != Post.Status.DRAFT:
            fields.setdefault("published_at", timezone.now() - timezone.timedelta(hours=1))
        with transaction.atomic():
            post = Post.objects.create(title=title, body=body, status=status, **fields)
            post.categories.set(categories)
            post.tags.set(tags)
            services.post_saved(post=post, was_live=False)
        return post

    return make


@pytest.fixture
def demo_site(db):
    """The demo site: the reference letter, its author and the admin account."""
    from clarion.posts.demo import load_demo
    from clarion.posts.models import Post

    password = load_demo()
    return {
        "password": password,
        "letter": Post.objects.get(slug="letter-to-the-foreign-secretary"),
    }
