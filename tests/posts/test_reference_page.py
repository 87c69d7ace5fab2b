"""Every element of the reference WordPress page, as the demo site serves it."""

import html
import json
import re
from datetime import UTC

import pytest

LETTER = "/2021/07/19/letter-to-the-foreign-secretary/"


@pytest.fixture
def page(client, demo_site):
    response = client.get(LETTER)
    assert response.status_code == 200
    return response.content.decode()


def test_it_puts_the_letter_on_the_home_page_with_its_lede(client, demo_site):
    html = client.get("/").content.decode()
    assert "Letter to the Foreign Secretary" in html
    assert "In advance of the launch tomorrow of a new report" in html
    assert f'href="{LETTER}"' in html


def test_it_shows_the_meta_line_with_local_date_and_default_category(page):
    meta = re.search(r'<p class="post-meta">(.*?)</p>', page, re.S).group(1)
    assert 'datetime="2021-07-19T12:00:00+01:00"' in meta
    assert "19 Jul 2021" in meta
    assert '<a href="/category/uncategorized/" rel="category tag">Uncategorized</a>' in meta


def test_it_keeps_the_address_block_line_breaks(page):
    assert (
        "The Rt Hon Dominic Raab MP<br>\nSecretary of State<br>\n"
        "Foreign, Commonwealth and Development Office<br>\nKing Charles Street<br>\n"
        "London SW1A 2AH</p>"
    ) in page


def test_it_keeps_the_body_sign_off_and_signatories(page):
    assert "<p>Dear Foreign Secretary,</p>" in page
    assert "holding these individuals in a Shenyang detention centre" in page
    assert "<p>Yours sincerely,</p>" in page
    for name in ("Lord Alton of Liverpool", "Timothy Cho", "Benedict Rogers"):
        assert name in page


def test_it_shows_the_author_bio_in_the_sidebar_and_after_the_post(page):
    bio = "For 18 years David Alton was a Member of the House of Commons"
    assert page.count(bio) == 2
    assert 'href="/author/david-alton/"' in page


def test_it_lists_social_links_as_labelled_icon_links(page):
    widget = re.search(r'<h2 id="social-title">Social Media</h2>(.*?)</section>', page, re.S)
    html = widget.group(1)
    for label in ("X", "Facebook", "YouTube", "Email", "RSS feed"):
        assert f'<span class="visually-hidden">{label}</span>' in html
    assert 'href="https://x.com/DavidAltonHL"' in html
    assert 'aria-hidden="true"' in html


def test_it_has_a_subscribe_form_with_the_reference_wording(page):
    assert "Subscribe to Blog" in page
    assert (
        "Enter your email address to subscribe to this blog and receive notifications of new "
        "posts by email."
    ) in page
    assert re.search(r'<input id="subscribe-email" type="email" name="email"', page)
    assert '<label for="subscribe-email">' in page


def test_it_has_a_search_box_and_recent_posts(page):
    assert "Site Search" in page
    assert 'role="search" action="/search/"' in page
    assert '<label for="sidebar-search"' in page
    recent = re.search(r'<ul class="recent-posts">(.*?)</ul>', page, re.S).group(1)
    assert LETTER in recent


def test_it_offers_share_links_for_every_network_without_scripts(page):
    share = re.search(r'<section class="share".*?</section>', page, re.S).group(0)
    for host in (
        "https://x.com/intent/post?",
        "https://www.facebook.com/sharer/sharer.php?u=",
        "https://www.linkedin.com/sharing/share-offsite/?url=",
        "https://wa.me/?text=",
        "https://t.me/share/url?",
        "https://bsky.app/intent/compose?text=",
        "/share/mastodon/?url=",
        "mailto:?subject=",
    ):
        assert host in share, host
    absolute = "http%3A%2F%2F127.0.0.1%3A8000%2F2021%2F07%2F19%2Fletter-to-the-foreign-secretary%2F"
    assert absolute in share
    assert 'value="http://127.0.0.1:8000/2021/07/19/letter-to-the-foreign-secretary/"' in share
    # No third-party script anywhere on the page.
    for src in re.findall(r"<script[^>]*src=\"([^\"]+)\"", page):
        assert src.startswith("/static/")


def test_it_describes_the_post_for_machines(page):
    assert f'<link rel="canonical" href="http://127.0.0.1:8000{LETTER}">' in page
    assert '<meta property="og:type" content="article">' in page
    assert '<meta property="og:description" content="In advance of the launch' in page
    assert '<meta name="twitter:card" content="summary">' in page
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    )
    assert data["@type"] == "BlogPosting"
    assert data["author"]["name"] == "Lord David Alton"
    assert data["datePublished"].startswith("2021-07-19T11:00:00")


def test_it_is_accessible_by_construction(page):
    assert '<a class="skip-link" href="#content">' in page
    assert '<main id="content"' in page
    assert '<aside class="sidebar" aria-label="Sidebar">' in page
    assert '<html lang="en-gb">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_it_links_previous_and_next_posts(client, demo_site, make_post):
    from datetime import datetime

    newer = make_post("A newer post", published_at=datetime(2022, 1, 1, tzinfo=UTC))
    html = client.get(LETTER).content.decode()
    assert f'rel="next" href="{newer.get_absolute_url()}"' in html
    html = client.get(newer.get_absolute_url()).content.decode()
    assert f'rel="prev" href="{LETTER}"' in html


def test_the_description_follows_an_edited_summary_and_stays_escaped(client, make_post):
    # The shortened description is remembered per process: its text must be the key.
    post = make_post("Long", excerpt="<b>Bold</b> claim, " + "word " * 100)
    page = client.get(post.get_absolute_url()).content.decode()
    description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)
    assert (
        description.startswith("&lt;b&gt;Bold&lt;/b&gt; claim, word")
        and len(html.unescape(description)) == 300
    )
    assert description.endswith("…")
    post.excerpt = "A new <i>short</i> summary."
    post.save()
    page = client.get(post.get_absolute_url()).content.decode()
    assert '<meta name="description" content="A new &lt;i&gt;short&lt;/i&gt; summary.">' in page
    assert 'content="A new &lt;i&gt;short&lt;/i&gt; summary."' in page.split("og:description")[1]
