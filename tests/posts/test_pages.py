from clarion.posts.models import Page


def test_it_builds_a_page_path_from_its_parent(db):
    about = Page.objects.create(title="About us", status=Page.Status.PUBLISHED)
    team = Page.objects.create(title="The team", parent=about, status=Page.Status.PUBLISHED)
    assert about.path == "/about-us/"
    assert team.path == "/about-us/the-team/"
    assert team.get_absolute_url() == "/about-us/the-team/"


def test_it_serves_a_published_page_at_its_path(db, client):
    Page.objects.create(
        title="Contact", path="/about/contact/", body="Write to **us**.", status="published"
    )
    response = client.get("/about/contact/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<h1 class="post-title">Contact</h1>' in body
    assert "<p>Write to <strong>us</strong>.</p>" in body
    assert client.get("/about/contact").headers["Location"] == "/about/contact/"


def test_it_does_not_serve_a_draft_page(db, client):
    Page.objects.create(title="Soon", path="/soon/", body="Not yet.")
    assert client.get("/soon/").status_code == 404


def test_a_page_never_shadows_a_clarion_address(db, client, make_post):
    make_post("Hello")
    Page.objects.create(title="Feed page", path="/feed/", status="published")
    response = client.get("/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")


def test_it_serves_a_page_with_a_non_ascii_path(db, client):
    Page.objects.create(title="Über uns", path="/über-uns/", status="published")
    assert client.get("/%C3%BCber-uns/").status_code == 200


def test_pages_are_listed_in_the_admin(db, admin_client):
    Page.objects.create(title="About", path="/about/", status="published")
    response = admin_client.get("/admin/posts/page/")
    assert response.status_code == 200
    assert "/about/" in response.content.decode()
    assert admin_client.get("/admin/posts/page/add/").status_code == 200
