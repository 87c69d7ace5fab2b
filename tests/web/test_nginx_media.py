"""The shipped nginx site serves media so that no uploaded or imported file runs as a page of
the site: only raster images are inline; HTML, SVG and the rest download, sandboxed, as
Clarion's own media view (clarion/ops/media.py) answers."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.nginx import nginx_in_front
from tests.server import fetch, free_port


@pytest.fixture
def media_nginx(tmp_path):
    media = tmp_path / "media"
    (media / "uploads").mkdir(parents=True)
    (media / "uploads" / "page.html").write_text("<script>alert(document.cookie)</script>")
    (media / "uploads" / "drawing.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(jpeg, "JPEG")
    (media / "uploads" / "photo.jpg").write_bytes(jpeg.getvalue())
    # Media comes from the disk: the upstream is never asked, so no Clarion is needed.
    with nginx_in_front(tmp_path, upstream_port=free_port(), media=media) as nginx:
        yield nginx


@pytest.mark.parametrize("name", ["page.html", "drawing.svg"])
def test_nginx_sends_html_and_svg_in_media_as_sandboxed_attachments(media_nginx, name):
    status, headers, _ = fetch(f"{media_nginx.url}/media/uploads/{name}")
    assert status == 200
    assert headers["Content-Disposition"] == "attachment"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_nginx_sends_a_jpeg_in_media_inline_with_nosniff_and_caching(media_nginx):
    status, headers, _ = fetch_bytes(f"{media_nginx.url}/media/uploads/photo.jpg")
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Disposition"] is None
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=604800" in headers["Cache-Control"]
    assert headers["Expires"]


def test_nginx_sandboxes_a_missing_media_file_too(media_nginx):
    status, headers, _ = fetch_bytes(f"{media_nginx.url}/media/uploads/nothing.html")
    assert status == 404
    assert headers["X-Content-Type-Options"] == "nosniff"


def fetch_bytes(url):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()
