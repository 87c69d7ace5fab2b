import re

import pytest

from clarion.posts.markdown import to_text
from clarion.posts.models import Post

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


def test_the_preview_page_shows_drafts_to_staff_only(client, make_post, make_user, signed_in):
    post = make_post("Unseen draft", status=Post.Status.DRAFT)
    assert client.get(f"/preview/{post.pk}/").status_code == 302  # to the sign-in page
    page = signed_in(make_user("cora", "Contributor")).get(f"/preview/{post.pk}/")
    assert page.status_code == 200
    assert "Unseen draft" in page.content.decode()
