"""Every old address in a WordPress export keeps working after the import."""

import re
from urllib.parse import urlsplit

import pytest

from clarion.importers import wordpress
from clarion.posts.models import Page, Post, Redirect
from tests.importers.conftest import EDGE


def old_addresses(path):
    """Each address the export itself names or WordPress answered at, with whether the post
    or page behind it is public."""
    found = list(wordpress.read(path))
    site = found[0]
    prefix = urlsplit(site.base_blog_url).path.rstrip("/")
    items = [r for r in found if isinstance(r, wordpress.Item)]
    by_id = {i.wp_id: i for i in items}
    public = {i.wp_id for i in items if i.status == "publish" and i.post_type in ("post", "page")}
    addresses = []
    for item in items:
        if item.post_type not in ("post", "page", "attachment"):
            continue
        owner = item.parent_id if item.post_type == "attachment" else item.wp_id
        live = owner in public if item.post_type != "attachment" or owner else True
        for url in {item.link, item.guid}:
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if "/wp-content/" not in path:
                addresses.append((path, live))
        key = {"page": "page_id", "attachment": "attachment_id"}.get(item.post_type, "p")
        addresses.append((f"{prefix}/?{key}={item.wp_id}", live))
        if item.post_type == "post" and item.slug:
            addresses.append((f"{prefix}/{item.slug}/", live))
    categories = {
        t.slug: t for t in found if isinstance(t, wordpress.Term) and t.taxonomy == "category"
    }
    for term in (t for t in found if isinstance(t, wordpress.Term)):
        if term.taxonomy == "category":
            chain, current = [term.slug], term
            while current.parent_slug:
                chain.insert(0, current.parent_slug)
                current = categories[current.parent_slug]
            base = f"{prefix}/category/{'/'.join(chain)}/"
        else:
            base = f"{prefix}/tag/{term.slug}/"
        addresses += [(base, True), (base + "feed/", True)]
    for author in (a for a in found if isinstance(a, wordpress.Author)):
        addresses.append((f"{prefix}/author/{author.login}/", True))
    addresses += [(f"{prefix}/", True), (f"{prefix}/feed/", True), (f"{prefix}/feed/rss2/", True)]
    assert by_id  # the export had items
    return sorted(set(addresses))


def follow(client, path):
    """(first status, final status, final path) following at most 3 redirects."""
    response = client.get(path)
    first = response.status_code
    hops = 0
    while response.status_code in (301, 302) and hops < 3:
        path = response.headers["Location"]
        response = client.get(path)
        hops += 1
    return first, response.status_code, path


@pytest.mark.parametrize("export", ["sample", "edge"])
def test_every_old_address_redirects_permanently_to_a_page_that_exists(
    export, run_import, sample_wxr, uploads, client
):
    path = sample_wxr if export == "sample" else EDGE
    run_import(path, "--uploads", uploads)
    checked = 0
    for old, live in old_addresses(path):
        first, final, where = follow(client, old)
        if not live:
            # Never the draft or trashed post itself: a 404, or (under /blog/, which now
            # redirects to the home page) the home page.
            assert final == 404 or where == "/", (old, first, final, where)
            continue
        checked += 1
        assert first in (200, 301), (old, first)
        assert final == 200, (old, first, final, where)
        if first == 301:
            assert where != old
    assert checked >= (40 if export == "sample" else 20)


def test_old_addresses_equal_to_new_ones_get_no_redirect(run_import, sample_wxr, client):
    run_import(sample_wxr)
    letter = Post.objects.get(slug__startswith="letter-to-the-foreign-secretary")
    assert not Redirect.objects.filter(old_path=letter.get_absolute_url()).exists()
    assert not Redirect.objects.filter(
        old_path__in=["/about/", "/category/human-rights/", "/tag/china/", "/feed/"]
    ).exists()
    assert client.get(letter.get_absolute_url()).status_code == 200


def test_wordpress_query_links_redirect_to_the_new_addresses(run_import, sample_wxr, client):
    run_import(sample_wxr)
    letter = Post.objects.get(slug__startswith="letter-to-the-foreign-secretary")
    assert client.get("/?p=5").headers["Location"] == letter.get_absolute_url()
    assert client.get("/?page_id=16").headers["Location"] == "/about/contact/"
    assert client.get("/?cat=3").headers["Location"] == "/category/north-korea/"
    assert client.get("/?author=3").headers["Location"] == "/author/tcho/"
    response = client.get("/category/human-rights/north-korea/feed/")
    assert (response.status_code, response.headers["Location"]) == (
        301,
        "/category/north-korea/feed/",
    )


def test_links_to_drafts_reveal_nothing(run_import, sample_wxr, client):
    run_import(sample_wxr)
    for path in (
        "/?p=12",
        "/?p=14",
        "/private-note-to-the-group/",
        "/scheduled-anniversary-statement/",
    ):
        assert client.get(path).status_code == 404, path


def test_a_blog_under_a_sub_folder_keeps_its_old_links(run_import, uploads, client):
    run_import(EDGE, "--uploads", uploads)
    post = Post.objects.get(slug="shortcodes-and-media")
    for old in (
        "/blog/2022/02/01/shortcodes-and-media/",
        "/blog/?p=33",
        "/blog/2022/02/01/shortcodes-first-draft/",  # WordPress's _wp_old_slug
        "/blog/2022/02/01/shortcodes-and-media/border-photo/",  # the attachment page
    ):
        response = client.get(old)
        assert (response.status_code, response.headers.get("Location")) == (
            301,
            post.get_absolute_url(),
        ), old
    assert client.get("/blog/category/world/asia/日本/").headers["Location"] == (
        "/category/%E6%97%A5%E6%9C%AC/"
    )
    assert client.get("/category/日本/").status_code == 200


def test_the_redirect_table_is_in_the_admin(run_import, sample_wxr, admin_client):
    run_import(sample_wxr)
    response = admin_client.get("/admin/posts/redirect/?q=%3Fp%3D5")
    assert response.status_code == 200
    assert "/?p=5" in response.content.decode()
    response = admin_client.get("/admin/posts/page/")
    assert response.status_code == 200
    assert re.search(r"/about/contact/", response.content.decode())
    assert Page.objects.count() == 2
