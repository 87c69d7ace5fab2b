import os
import shutil

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

    from clarion.posts import context_processors
    from clarion.web import cache as page_cache

    cache.clear()
    page_cache.forget_near_pages()
    context_processors.forget_sidebar()


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


CHROMIUM = os.environ.get("CLARION_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def browser():
    """Debian's Chromium driven by Playwright (which cannot download browsers here)."""
    if not shutil.which(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's greenlet gives the test a context of its own, and Django's connections
    # are context-local: close them on both sides so none is left open on the test
    # database when it is dropped (PostgreSQL refuses to drop a database in use).
    connections.close_all()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        connections.close_all()
