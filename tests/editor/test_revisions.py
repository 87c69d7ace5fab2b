import pytest

from clarion.editor.models import Revision
from clarion.posts.models import Post

from .conftest import post_form

pytestmark = pytest.mark.django_db

ADD = "/admin/posts/post/add/"


@pytest.fixture
def author(make_user, signed_in):
    user = make_user("ada", "Author")
    return signed_in(user), user


@pytest.fixture
def edited_post(author):
    """A post saved three times, with different words each time."""
    c, _ = author
    c.post(ADD, post_form(title="First title", body="Line one\nLine two", _save_draft="1"))
    post = Post.objects.get(title="First title")
    url = f"/admin/posts/post/{post.pk}/change/"
    c.post(
        url, post_form(title="Second title", body="Line one\nLine 2 <b>bold</b>", _save_draft="1")
    )
    c.post(
        url,
        post_form(
            title="Second title",
            body="Line one\nLine 2 <b>bold</b>\nLine three",
            excerpt="Now with an excerpt",
            _publish="1",
        ),
    )
    post.refresh_from_db()
    return post


def test_every_save_keeps_a_revision(edited_post, author):
    _, user = author
    revisions = list(Revision.objects.for_post(edited_post))
    assert [r.title for r in revisions] == ["Second title", "Second title", "First title"]
    assert revisions[-1].body == "Line one\nLine two"
    assert revisions[0].excerpt == "Now with an excerpt"
    assert all(r.user == user for r in revisions)
    assert revisions[0].status == "published"


def test_it_shows_the_difference_between_two_revisions(edited_post, author):
    c, _ = author
    newest, middle, first = Revision.objects.for_post(edited_post)
    url = f"/admin/posts/post/{edited_post.pk}/revisions/"
    page = c.get(url, {"from": first.pk, "to": middle.pk}).content.decode()
    assert '<span class="diff-remove">- Line two</span>' in page
    # The revision's own HTML is shown as text, never interpreted.
    assert '<span class="diff-add">+ Line 2 &lt;b&gt;bold&lt;/b&gt;</span>' in page
    assert '<span class="diff-remove">- First title</span>' in page
    assert "<b>bold</b>" not in page
    # By default: the latest two.
    page = c.get(url).content.decode()
    assert '<span class="diff-add">+ Line three</span>' in page
    assert '<span class="diff-add">+ Now with an excerpt</span>' in page


def test_it_restores_a_revision_as_a_new_one(edited_post, author):
    c, user = author
    first = Revision.objects.for_post(edited_post).last()
    response = c.post(f"/admin/posts/post/{edited_post.pk}/revisions/{first.pk}/restore/")
    assert response.status_code == 302
    edited_post.refresh_from_db()
    assert edited_post.title == "First title"
    assert edited_post.body == "Line one\nLine two"
    assert edited_post.excerpt == ""
    assert edited_post.status == Post.Status.PUBLISHED  # words restored, not the status
    assert "Line two" in edited_post.body_html
    newest = Revision.objects.for_post(edited_post).first()
    assert Revision.objects.for_post(edited_post).count() == 4
    assert (newest.title, newest.body, newest.user) == ("First title", "Line one\nLine two", user)
    assert newest.note.startswith("Restored the version of")


def test_restoring_needs_post_and_change_permission(edited_post, make_user, signed_in, author):
    c, _ = author
    first = Revision.objects.for_post(edited_post).last()
    url = f"/admin/posts/post/{edited_post.pk}/revisions/{first.pk}/restore/"
    assert c.get(url).status_code == 405
    other = signed_in(make_user("bob", "Author"))
    assert other.post(url).status_code in (403, 404)
    assert other.get(f"/admin/posts/post/{edited_post.pk}/revisions/").status_code in (403, 404)
    edited_post.refresh_from_db()
    assert edited_post.title == "Second title"


def test_the_editor_links_to_the_revisions(edited_post, author):
    c, _ = author
    page = c.get(f"/admin/posts/post/{edited_post.pk}/change/").content.decode()
    assert f"/admin/posts/post/{edited_post.pk}/revisions/" in page
    assert "Revisions (3)" in page
