import re

import pytest

from clarion.posts.markdown import to_text
from clarion.posts.models import Author, Post

PREVIEW = "/admin/posts/post/preview-markdown/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def contributor(make_user, signed_in):
    return signed_in(make_user("cora", "Contributor"))


def test_it_renders_markdown_like_the_public_page(contributor, make_post):
    source = (
        "## Heading\n\nSome *words* and a [link](https://example.org).\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |"
    )
    response = contributor.post(PREVIEW, {"body": source})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert html == make_post("Same", body=source).body_html
    assert "<em>words</em>" in html and "<table>" in html
    assert response["X-Word-Count"] == str(len(to_text(html).split()))


@pytest.mark.parametrize(
    "source,bad",
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ("![x](data:text/html;base64,PHNjcmlwdD4=)", "data:"),
        ('<p style="background:url(javascript:alert(1))">x</p>', "style="),
        ('<svg onload="alert(1)"></svg>', "onload"),
    ],
)
def test_it_makes_scripts_inert(contributor, source, bad):
    html = contributor.post(PREVIEW, {"body": source}).content.decode().lower()
    tags = re.findall(r"<[a-z][^>]*>", html)
    # What is left as visible text is harmless; no tag or attribute may carry it.
    assert not [tag for tag in tags if bad in tag]
    assert "<script" not in html and "<iframe" not in html


def test_it_limits_the_size(contributor):
    response = contributor.post(PREVIEW, {"body": "a" * 50_001})
    assert response.status_code == 413
    assert "a post can be at most 50 KB" in response.content.decode()


def test_it_needs_post_and_csrf(make_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("cora", "Contributor"))
    assert client.get(PREVIEW).status_code == 405
    assert client.post(PREVIEW, {"body": "x"}).status_code == 403


def test_staff_without_post_permissions_are_refused(make_user, signed_in):
    assert signed_in(make_user("visitor")).post(PREVIEW, {"body": "x"}).status_code == 403


# -- the draft preview page: /preview/<token>/ ---------------------------------------------


def signed_in_as(user):
    """A client of its own, signed in through the real sign-in form."""
    from django.test import Client

    from .conftest import PASSWORD

    client = Client()
    response = client.post(
        "/admin/login/", {"username": user.username, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    return client


@pytest.fixture
def people(make_user):
    """One signed-in client per role, plus a second contributor who owns the drafts."""
    return {
        "owner": make_user("bram", "Contributor"),
        "contributor": signed_in_as(make_user("cora", "Contributor")),
        "author": signed_in_as(make_user("ada", "Author")),
        "editor": signed_in_as(make_user("eddie", "Editor")),
        "administrator": signed_in_as(make_user("root", "Administrator", superuser=True)),
        "staff without a role": signed_in_as(make_user("visitor")),
    }


@pytest.fixture
def bram_draft(people, make_post):
    return make_post(
        "Bram's unseen draft",
        status=Post.Status.DRAFT,
        author=Author.objects.get(user=people["owner"]),
    )


def test_the_preview_address_is_an_unguessable_token(bram_draft, make_post):
    other = make_post("Another draft", status=Post.Status.DRAFT)
    assert bram_draft.get_absolute_url() == f"/preview/{bram_draft.preview_token}/"
    assert len(bram_draft.preview_token) >= 43  # 256 random bits
    assert other.preview_token != bram_draft.preview_token


def test_a_contributor_cannot_preview_another_contributors_draft(people, bram_draft):
    contributor = people["contributor"]
    by_token = contributor.get(f"/preview/{bram_draft.preview_token}/")
    by_id = contributor.get(f"/preview/{bram_draft.pk}/")
    guessed = contributor.get("/preview/" + "A" * 43 + "/")
    # The same 404 as for nothing at all: the answer does not say a post is there.
    assert [by_token.status_code, by_id.status_code, guessed.status_code] == [404, 404, 404]
    for response in (by_token, by_id, guessed):
        assert "unseen draft" not in response.content.decode()
    # Per-request values (CSRF token, CSP nonce) aside, the pages are identical.
    same = [re.sub(r'(value|nonce)="[^"]*"', "", r.content.decode()) for r in (by_token, guessed)]
    assert same[0] == same[1]


def test_a_contributor_cannot_preview_another_authors_embargoed_post(people, make_post):
    from django.utils import timezone

    embargoed = make_post(
        "Embargoed until Friday",
        status=Post.Status.SCHEDULED,
        published_at=timezone.now() + timezone.timedelta(days=3),
        author=Author.objects.get(user=people["owner"]),
    )
    assert not embargoed.is_live
    response = people["contributor"].get(embargoed.get_preview_url())
    assert response.status_code == 404
    assert people["editor"].get(embargoed.get_preview_url()).status_code == 200


@pytest.mark.parametrize(
    "role,status",
    [
        ("contributor", 404),
        ("author", 404),  # an author sees their own posts, not everyone's
        ("staff without a role", 404),
        ("editor", 200),
        ("administrator", 200),
    ],
)
def test_only_editors_preview_other_peoples_drafts(people, bram_draft, role, status):
    response = people[role].get(bram_draft.get_preview_url())
    assert response.status_code == status
    assert ("unseen draft" in response.content.decode()) is (status == 200)
    if status == 200:
        assert response["X-Robots-Tag"] == "noindex"


def test_the_author_previews_their_own_draft(people, bram_draft):
    owner = signed_in_as(people["owner"])
    response = owner.get(bram_draft.get_preview_url())
    assert response.status_code == 200
    assert "unseen draft" in response.content.decode()
    # Their own old id address is gone too.
    assert owner.get(f"/preview/{bram_draft.pk}/").status_code == 404


def test_visitors_are_sent_to_sign_in(client, bram_draft):
    response = client.get(bram_draft.get_preview_url())
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get(f"/preview/{bram_draft.pk}/").status_code == 404


def test_the_preview_link_in_the_editor_opens_the_draft(people, bram_draft):
    owner = signed_in_as(people["owner"])
    form = owner.get(f"/admin/posts/post/{bram_draft.pk}/change/").content.decode()
    [href] = re.findall(r'<a href="(/preview/[^"]+)"[^>]*>Preview</a>', form)
    assert href == f"/preview/{bram_draft.preview_token}/"
    page = owner.get(href)
    assert page.status_code == 200
    assert "unseen draft" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_upgrading_gives_every_existing_post_its_own_preview_token():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("posts", "0005_contentgeneration_to_web")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("posts", "Post")
    for n in range(3):
        old.objects.create(title=f"Old {n}", slug=f"old-{n}", status="draft")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    tokens = list(Post.objects.values_list("preview_token", flat=True))
    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert all(len(token) == 43 for token in tokens)


def test_the_admins_view_on_site_redirect_does_not_open_someone_elses_draft(people, bram_draft):
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Post)
    contributor = people["contributor"]
    # Django's shortcut view hands any staff member the address; the token alone is not
    # enough to read the draft.
    response = contributor.get(f"/admin/r/{content_type.pk}/{bram_draft.pk}/", follow=True)
    assert response.redirect_chain[-1][0].endswith(bram_draft.get_preview_url())
    assert response.status_code == 404
    assert "unseen draft" not in response.content.decode()
