import xml.etree.ElementTree as ET

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def test_the_sitemap_lists_live_posts_archives_and_home_absolutely(client, demo_site, make_post):
    draft = make_post("Secret draft", status="draft")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    locs = [el.text for el in root.findall("s:url/s:loc", NS)]
    assert "http://127.0.0.1:8000/" in locs
    assert "http://127.0.0.1:8000/2021/07/19/letter-to-the-foreign-secretary/" in locs
    assert "http://127.0.0.1:8000/category/uncategorized/" in locs
    assert "http://127.0.0.1:8000/author/david-alton/" in locs
    assert not any(draft.slug in loc for loc in locs)


def test_robots_txt_points_at_the_sitemap_and_hides_private_areas(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in body
    assert "Disallow: /admin/" in body
