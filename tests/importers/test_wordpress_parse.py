from datetime import UTC, datetime

import pytest

from clarion.importers import wordpress
from tests.importers.conftest import EDGE


def records(path):
    return list(wordpress.read(path))


def test_it_reads_the_site_authors_terms_and_items(sample_wxr):
    found = records(sample_wxr)
    site = found[0]
    assert isinstance(site, wordpress.Site)
    assert site.base_blog_url == "https://wxr-sample.test"
    assert site.wxr_version == "1.2"
    authors = [r for r in found if isinstance(r, wordpress.Author)]
    assert [(a.login, a.name) for a in authors] == [
        ("dalton", "David Alton"),
        ("tcho", "Timothy Cho"),
    ]
    terms = {(t.taxonomy, t.slug) for t in found if isinstance(t, wordpress.Term)}
    assert ("category", "north-korea") in terms and ("post_tag", "인권") in terms
    items = {i.wp_id: i for i in found if isinstance(i, wordpress.Item)}
    assert sorted(items) == list(range(4, 17))
    letter = items[5]
    assert letter.post_type == "post" and letter.status == "publish"
    assert letter.date_gmt == datetime(2021, 7, 19, 13, 5, tzinfo=UTC)
    assert letter.date_local == datetime(2021, 7, 19, 14, 5)
    assert {(t.taxonomy, t.slug) for t in letter.terms} == {
        ("category", "china"),
        ("category", "north-korea"),
        ("post_tag", "china"),
        ("post_tag", "dominic-raab"),
        ("post_tag", "refugees"),
    }
    assert items[11].sticky is True and items[5].sticky is False
    assert items[12].date_gmt is None  # a draft: WordPress writes zeros
    assert items[16].parent_id == 15


def test_it_decodes_percent_encoded_slugs(sample_wxr):
    items = {r.wp_id: r for r in records(sample_wxr) if isinstance(r, wordpress.Item)}
    assert items[9].slug == "declaration-commune-북한-인권"


def test_it_keeps_only_useful_post_meta_and_counts_comments():
    items = {r.wp_id: r for r in records(EDGE) if isinstance(r, wordpress.Item)}
    assert items[33].meta == {
        "_thumbnail_id": ["30"],
        "_wp_old_slug": ["shortcodes-first-draft"],
    }
    assert items[33].comments == 1


def write(tmp_path, text, name="export.xml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_it_rejects_a_document_that_is_not_rss(tmp_path):
    path = write(tmp_path, "<html><body><p>Hello</p></body></html>")
    with pytest.raises(wordpress.WXRError, match=r"line 1: not a WordPress export.*<html>"):
        records(path)


def test_it_rejects_an_rss_feed_that_is_not_a_wordpress_export(tmp_path):
    path = write(
        tmp_path,
        "<rss version='2.0'><channel><title>A feed</title>\n"
        "<item><title>Post</title></item></channel></rss>",
    )
    with pytest.raises(wordpress.WXRError, match=r"line 2: .*no <wp:wxr_version>"):
        records(path)


def test_it_names_the_line_and_item_of_a_truncated_file(tmp_path, sample_wxr):
    text = sample_wxr.read_text(encoding="utf-8")
    cut = text[: text.index("Pictures taken by a researcher")]
    path = write(tmp_path, cut)
    with pytest.raises(wordpress.WXRError) as caught:
        records(path)
    message = str(caught.value)
    assert message.startswith(f"line {cut.count(chr(10)) + 1}, column")
    assert "in item 4 (which starts at line 381)" in message


def test_it_names_a_malformed_item(tmp_path, sample_wxr):
    text = sample_wxr.read_text(encoding="utf-8")
    text = text.replace("<wp:post_id>8</wp:post_id>", "<wp:post_id>eight</wp:post_id>")
    path = write(tmp_path, text)
    with pytest.raises(wordpress.WXRError) as caught:
        records(path)
    assert str(caught.value) == (
        "item 5 (line 416, “Speech in the House of Lords”): <wp:post_id> is not a number: 'eight'"
    )


def test_it_names_an_item_with_an_impossible_date(tmp_path, sample_wxr):
    text = sample_wxr.read_text(encoding="utf-8")
    text = text.replace(
        "2021-05-11 11:00:00]]></wp:post_date_gmt>", "2021-13-45 99:00:00]]></wp:post_date_gmt>"
    )
    path = write(tmp_path, text)
    with pytest.raises(
        wordpress.WXRError, match=r"item 5 \(ID 8, line 416.*<wp:post_date_gmt> is not a date"
    ):
        records(path)
