from datetime import UTC, datetime

from clarion.posts.models import Redirect


def test_it_redirects_a_changed_slug_permanently(client, make_post):
    post = make_post("Original title", published_at=datetime(2024, 3, 5, 12, tzinfo=UTC))
    old = post.get_absolute_url()
    post.slug = "better-title"
    post.save()
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == "/2024/03/05/better-title/"
    assert client.get(response["Location"]).status_code == 200


def test_old_addresses_follow_a_post_through_several_renames(client, make_post):
    post = make_post("First", published_at=datetime(2024, 3, 5, 12, tzinfo=UTC))
    first = post.get_absolute_url()
    post.slug = "second"
    post.save()
    second = post.get_absolute_url()
    post.slug = "third"
    post.save()
    for old in (first, second):
        assert client.get(old)["Location"] == "/2024/03/05/third/"


def test_a_changed_date_redirects_too(client, make_post):
    post = make_post("Dated", published_at=datetime(2024, 3, 5, 12, tzinfo=UTC))
    old = post.get_absolute_url()
    post.published_at = datetime(2024, 4, 1, 12, tzinfo=UTC)
    post.save()
    assert client.get(old)["Location"] == "/2024/04/01/dated/"


def test_reusing_an_old_address_removes_its_redirect(client, make_post):
    post = make_post("Alpha", published_at=datetime(2024, 3, 5, 12, tzinfo=UTC))
    post.slug = "beta"
    post.save()
    post.slug = "alpha"
    post.save()
    assert not Redirect.objects.filter(old_path="/2024/03/05/alpha/").exists()
    assert client.get("/2024/03/05/alpha/").status_code == 200


def test_a_wrong_date_in_the_address_redirects_to_the_canonical_one(client, make_post):
    make_post("Dated", published_at=datetime(2024, 3, 5, 12, tzinfo=UTC))
    response = client.get("/2020/01/01/dated/")
    assert response.status_code == 301
    assert response["Location"] == "/2024/03/05/dated/"


def test_drafts_do_not_leave_redirects(make_post):
    post = make_post("Draft", status="draft")
    post.slug = "renamed-draft"
    post.save()
    assert Redirect.objects.count() == 0


def test_wordpress_query_links_redirect_or_404(client, make_post):
    post = make_post("Imported")
    Redirect.objects.create(old_path="/?p=123", post=post)
    response = client.get("/?p=123")
    assert response.status_code == 301
    assert response["Location"] == post.get_absolute_url()
    assert client.get("/?p=999").status_code == 404


def test_wordpress_search_links_go_to_search(client, db):
    response = client.get("/?s=forced+repatriation")
    assert response.status_code == 302
    assert response["Location"] == "/search/?q=forced+repatriation"


def test_a_redirect_to_a_post_that_is_no_longer_live_is_a_404(client, make_post):
    post = make_post("Gone", published_at=datetime(2024, 3, 5, 12, tzinfo=UTC))
    old = post.get_absolute_url()
    post.slug = "gone-2"
    post.save()
    post.status = "draft"
    post.save()
    assert client.get(old).status_code == 404
