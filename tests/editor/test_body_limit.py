"""The editor refuses a body longer than a post may hold (clarion.posts.markdown.
MAX_SOURCE_BYTES; tests/posts/test_markdown_cost.py times the worst text at that size)."""

import pytest

from clarion.posts.models import Post

from .conftest import post_form

pytestmark = pytest.mark.django_db

ADD = "/admin/posts/post/add/"
PREVIEW = "/admin/posts/post/preview-markdown/"


@pytest.fixture
def contributor(make_user, signed_in):
    return signed_in(make_user("cora", "Contributor"))


def test_the_editor_refuses_a_body_over_the_limit_with_a_form_error(contributor):
    body = "Words. " * 7_200  # 50.4 KB
    response = contributor.post(ADD, post_form(title="Too long", body=body, _save_draft="Save"))
    assert response.status_code == 200
    assert "a post can be at most 50 KB of Markdown" in response.content.decode()
    assert not Post.objects.filter(title="Too long").exists()


def test_the_preview_refuses_a_body_over_the_limit(contributor):
    response = contributor.post(PREVIEW, {"body": "[" * 50_001})
    assert response.status_code == 413
    assert "a post can be at most 50 KB" in response.content.decode()
