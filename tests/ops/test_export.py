import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clarion.posts import frontmatter
from clarion.posts.models import Category, Post, Tag


@pytest.fixture
def posts(make_post):
    letters = Category.objects.create(name="Letters", slug="letters")
    urgent = Tag.objects.create(name="Urgent", slug="urgent")
    return [
        make_post("An open letter", body="Dear **Minister**,\n\nYours.", categories=[letters]),
        make_post("Draft thoughts", body="Not yet.", status=Post.Status.DRAFT, tags=[urgent]),
        make_post("Ünïcode – title", body="| a | b |\n|---|---|\n| 1 | 2 |", excerpt="Short."),
    ]


def test_it_writes_every_post_as_a_markdown_file_publish_can_read(posts, tmp_path):
    out = tmp_path / "export"
    call_command("export", str(out))
    files = sorted((out / "posts").glob("*.md"))
    assert len(files) == 3
    for post in posts:
        doc = frontmatter.parse(out / "posts" / f"{post.slug}.md")
        assert (doc.title, doc.slug, doc.body, doc.status) == (
            post.title,
            post.slug,
            post.body,
            post.status,
        )
        assert doc.categories == [c.name for c in post.categories.all()]
        assert doc.tags == [t.name for t in post.tags.all()]
        assert doc.excerpt == post.excerpt
        if post.published_at:
            assert doc.date == post.published_at


def test_it_round_trips_through_clarion_publish(posts, tmp_path):
    out = tmp_path / "export"
    call_command("export", str(out))
    before = {p.slug: (p.title, p.body, p.status, p.published_at) for p in Post.objects.all()}
    Post.objects.all().delete()
    call_command("publish", *sorted(str(f) for f in (out / "posts").glob("*.md")))
    after = {p.slug: (p.title, p.body, p.status, p.published_at) for p in Post.objects.all()}
    assert after == before


def test_it_writes_everything_else_as_json_without_passwords(posts, tmp_path):
    out = tmp_path / "export"
    call_command("export", str(out))
    users = json.loads((out / "data" / "auth.user.json").read_text())
    assert [u["fields"]["username"] for u in users] == ["alice"]
    assert "password" not in users[0]["fields"]
    categories = json.loads((out / "data" / "posts.category.json").read_text())
    assert "Letters" in {c["fields"]["name"] for c in categories}
    summary = json.loads((out / "export.json").read_text())
    assert summary["posts"] == 3 and summary["rows"]["posts.post"] == 3


def test_it_refuses_a_folder_that_is_not_empty(db, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not an empty folder"):
        call_command("export", str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
