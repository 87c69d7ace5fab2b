"""No import makes Clarion send a reader to another host: a page link such as
``https://old.test//evil.example/`` must not become a page path, or a redirect, that a
browser reads as ``//evil.example/``."""

import pytest

from clarion.posts.middleware import local_path
from clarion.posts.models import Page, Redirect

WXR = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Old</title><link>https://old.test</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>https://old.test</wp:base_site_url>
  <wp:base_blog_url>https://old.test</wp:base_blog_url>
  <item>
    <title>Crafted</title>
    <link>https://old.test{link}</link>
    <guid isPermaLink="false">https://old.test/?page_id=301</guid>
    <dc:creator>ed</dc:creator>
    <content:encoded><![CDATA[<p>Hello</p>]]></content:encoded>
    <excerpt:encoded><![CDATA[]]></excerpt:encoded>
    <wp:post_id>301</wp:post_id>
    <wp:post_date>2022-01-01 10:00:00</wp:post_date>
    <wp:post_date_gmt>2022-01-01 10:00:00</wp:post_date_gmt>
    <wp:post_name>crafted</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_parent>0</wp:post_parent>
    <wp:post_type>page</wp:post_type>
  </item>
</channel>
</rss>
"""

HOSTILE = ["//evil.example/", "/\\evil.example/", "/%2F/evil.example/", "/%5Cevil.example/"]


@pytest.mark.parametrize("path", HOSTILE + ["///evil.example/", "/\t/evil.example/"])
def test_a_leading_run_of_slashes_collapses_to_one(path):
    assert local_path(path) == "/evil.example/"


def test_local_and_absolute_addresses_pass_unchanged():
    assert local_path("/blog/a//b/") == "/blog/a//b/"
    assert local_path("https://cdn.test/x.png") == "https://cdn.test/x.png"


@pytest.mark.django_db
@pytest.mark.parametrize("link", HOSTILE)
def test_an_imported_page_link_never_redirects_off_the_site(link, tmp_path, run_import, client):
    wxr = tmp_path / "crafted.xml"
    wxr.write_text(WXR.format(link=link.replace("\\", "%5C")), encoding="utf-8")
    run_import(wxr)
    page = Page.objects.get()
    assert not page.path.startswith(("//", "/\\"))
    for old in ("/?page_id=301", "/?p=301"):
        response = client.get(old)
        if response.status_code == 404:
            continue
        assert response.status_code == 301, old
        location = response["Location"]
        assert not location.startswith(("//", "/\\")), (old, location)
        assert "evil.example" not in location.split("/")[2:3], (old, location)


@pytest.mark.django_db
def test_a_stored_redirect_to_a_protocol_relative_target_stays_on_the_site(client):
    Redirect.objects.create(old_path="/old/", target="//evil.example/")
    response = client.get("/old/")
    assert response.status_code == 301
    assert response["Location"] == "/evil.example/"
