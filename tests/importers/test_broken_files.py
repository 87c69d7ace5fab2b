"""A file that is not a readable export fails with a message naming where, and changes
nothing; so does an item that cannot be stored."""

import pytest
from django.core.management.base import CommandError

from clarion.importers.models import WordPressObject
from clarion.posts.models import Author, Category, Page, Post, Redirect, Tag
from tests.importers.conftest import EDGE


def snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Post, Page, Category, Tag, Author, Redirect, WordPressObject)
    } | {"updated": sorted(Post.objects.values_list("updated_at", flat=True))}


@pytest.fixture
def imported(run_import, sample_wxr):
    run_import(sample_wxr)
    return snapshot()


def test_it_refuses_a_file_that_is_not_wxr(run_import, imported, tmp_path):
    page = tmp_path / "page.xml"
    page.write_text("<?xml version='1.0'?>\n<html><body><p>Not an export</p></body></html>")
    with pytest.raises(CommandError) as caught:
        run_import(page)
    assert str(caught.value) == (
        f"{page}: line 2: not a WordPress export (WXR): the document is <html>, not <rss>. "
        "Nothing was imported."
    )
    assert snapshot() == imported


@pytest.mark.parametrize(
    "text", ["email,name\nsam@example.org,Sam\n", "<!doctype html>\n<html><p>Hi</html>"]
)
def test_it_refuses_a_file_that_is_not_xml_at_all(run_import, imported, tmp_path, text):
    other = tmp_path / "other.xml"
    other.write_text(text)
    with pytest.raises(CommandError) as caught:
        run_import(other)
    assert str(caught.value).startswith(f"{other}: line 1, column ")
    assert "not well-formed XML (" in str(caught.value)
    assert snapshot() == imported


def test_it_refuses_an_empty_file(run_import, imported, tmp_path):
    (tmp_path / "empty.xml").write_text("")
    with pytest.raises(CommandError, match="empty.xml: the file is empty, not a WordPress export"):
        run_import(tmp_path / "empty.xml")
    assert snapshot() == imported


def test_it_refuses_a_truncated_file_naming_the_line_and_item(
    run_import, imported, sample_wxr, tmp_path
):
    text = sample_wxr.read_text(encoding="utf-8")
    truncated = tmp_path / "truncated.xml"
    truncated.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run_import(truncated)
    message = str(caught.value)
    assert message.startswith(f"{truncated}: line ")
    assert " in item " in message and "(which starts at line " in message
    assert snapshot() == imported


def test_it_refuses_a_malformed_item_anywhere_in_the_file(
    run_import, imported, sample_wxr, tmp_path
):
    # The bad item is the last one: nothing before it may be written either.
    text = sample_wxr.read_text(encoding="utf-8").replace(
        "<wp:post_id>16</wp:post_id>", "<wp:post_id>16b</wp:post_id>"
    )
    (tmp_path / "bad.xml").write_text(text, encoding="utf-8")
    with pytest.raises(
        CommandError, match=r"item 13 \(line 684, “Contact”\): <wp:post_id> is not a number"
    ):
        run_import(tmp_path / "bad.xml")
    assert snapshot() == imported


def test_a_failure_while_storing_rolls_everything_back(run_import, settings, tmp_path, uploads):
    """Post 32 is stored before post 33's image cannot be: post 32 must not remain."""
    (uploads / "2022/02/border.png").unlink()  # so the first copy happens inside post 33
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker / "media"
    before = snapshot()
    with pytest.raises(CommandError) as caught:
        run_import(EDGE, "--uploads", uploads)
    assert "item 4 (ID 33 “Shortcodes and media”, line 92): NotADirectoryError" in str(caught.value)
    assert snapshot() == before
    assert Post.objects.count() == 0


def test_it_names_a_missing_file_or_folder(run_import, tmp_path):
    with pytest.raises(CommandError, match="nowhere.xml: no such file"):
        run_import(tmp_path / "nowhere.xml")
    with pytest.raises(CommandError, match="--uploads .*/nope: no such folder"):
        run_import(EDGE, "--uploads", tmp_path / "nope")
