"""A NUL byte anywhere a reader can put one is a 4xx or an ordinary page, never a 500.

PostgreSQL's text cannot hold one and it refuses a query that compares with one, where
SQLite answers "no such row": so these run on both engines."""

import pytest

GET = [
    "/subscribe/confirm/a%00b/",
    "/subscribe/manage/a%00b/",
    "/unsubscribe/a%00b/",
    "/search/?q=a%00b",
    "/search/suggest/?q=a%00b",
    "/?s=a%00b",
    "/?p=1%00",
    "/?page_id=1%00",
    "/?cat=a%00",
    "/?author=%00",
    "/?tag=%00",
    "/?m=%00",
    "/index.php?p=%00",
    "/share/mastodon/?url=a%00&title=b%00",
    "/feed/?x=%00",
    "/category/uncategorized/feed/?%00=1",
    "/admin/login/?next=%00",
    "/%00/",
    "/page/2/?%00",
]

POST = [
    ("/subscribe/", {"email": "a\x00@example.org"}),
    ("/subscribe/", {"email": "reader@example.org", "name": "\x00"}),
    ("/admin/login/", {"username": "a\x00", "password": "b\x00"}),
    ("/unsubscribe/a%00b/", {}),
    ("/subscribe/manage/a%00b/", {"x": "\x00"}),
]


@pytest.mark.parametrize("path", GET)
def test_a_nul_byte_in_an_address_is_never_a_server_error(client, demo_site, path):
    assert client.get(path).status_code < 500


@pytest.mark.parametrize("path, data", POST)
def test_a_nul_byte_in_a_form_is_never_a_server_error(client, demo_site, path, data):
    assert client.post(path, data).status_code < 500
