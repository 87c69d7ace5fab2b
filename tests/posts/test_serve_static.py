"""A real `clarion serve`: hashed, compressed static files and cacheable pages."""

import gzip
import re
import shutil
import urllib.request
from pathlib import Path

import brotli
import pytest

from tests.server import clarion_env, fetch, free_port, serving

pytestmark = pytest.mark.slow

SOURCE_CSS = Path(__file__).resolve().parents[2] / "clarion/theme/static/clarion/site.css"


@pytest.fixture(scope="module")
def server(tmp_path_factory, collected_static):
    tmp_path = tmp_path_factory.mktemp("serve")
    data_dir = tmp_path / "data"
    shutil.copytree(collected_static, data_dir / "static")
    port = free_port()
    log = tmp_path / "serve.log"
    env = clarion_env(data_dir, CLARION_SITE_URL=f"http://127.0.0.1:{port}")
    with serving("--demo", "--no-worker", "--workers", "1", port=port, env=env, log=log) as served:
        yield served.url
    assert served.returncode == 0, log.read_text()


def test_it_serves_hashed_static_files_compressed_with_far_future_headers(server):
    status, _, home = fetch(server + "/")
    assert status == 200
    css_url = re.search(r'href="(/static/clarion/site\.[0-9a-f]{12}\.css)"', home).group(1)
    expected = SOURCE_CSS.read_bytes()

    for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        request = urllib.request.Request(server + css_url, headers={"Accept-Encoding": encoding})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Encoding"] == encoding
            assert "immutable" in response.headers["Cache-Control"]
            assert "max-age=315360000" in response.headers["Cache-Control"]
            assert decode(response.read()) == expected

    # The unhashed name still works but is not cached for long.
    status, headers, _ = fetch(server + "/static/clarion/site.css")
    assert status == 200
    assert "immutable" not in headers["Cache-Control"]


def test_it_serves_pages_from_the_page_cache_through_the_real_server(server):
    fetch(server + "/")
    status, headers, body = fetch(server + "/")
    assert status == 200
    assert headers["X-Clarion-Cache"] == "hit"
    assert headers["Cache-Control"].startswith("private")  # a new reader gets a cookie
    assert "Letter to the Foreign Secretary" in body
    status, headers, _ = fetch(server + "/", headers={"If-None-Match": headers["ETag"]})
    assert status == 304
