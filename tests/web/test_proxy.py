"""Behind the shipped nginx, each reader is throttled by their own address: nginx appends the
address it saw to X-Forwarded-For, and with CLARION_PROXY_COUNT=1 Clarion trusts that one
entry only, so what a client writes in the header itself changes nothing. Real nginx, real
`clarion serve`, clients bound to different loopback addresses (all of 127/8 is loopback)."""

from __future__ import annotations

import http.client
import re
import urllib.parse

import pytest

from tests.nginx import nginx_in_front
from tests.server import clarion_env, serving


class Reader:
    """One browser on its own source address: keeps its CSRF cookie, posts the sign-up form."""

    def __init__(self, port: int, source: str):
        self.port, self.source, self.cookie, self.token = port, source, "", ""

    def _request(
        self, method, path, body=None, headers=None
    ) -> tuple[int, str, http.client.HTTPMessage]:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=15, source_address=(self.source, 0)
        )
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read().decode(), response.msg
        finally:
            conn.close()

    def sign_up(self, email: str, forwarded_for: str | None = None) -> int:
        if not self.token:
            status, page, headers = self._request("GET", "/subscribe/")
            assert status == 200, page
            self.cookie = headers["Set-Cookie"].split(";")[0]
            self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": self.cookie,
            "Referer": f"http://127.0.0.1:{self.port}/subscribe/",
        }
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        body = urllib.parse.urlencode({"email": email, "csrfmiddlewaretoken": self.token})
        status, page, _ = self._request("POST", "/subscribe/", body, headers)
        assert status in (200, 429), (status, page[:500])
        return status


@pytest.fixture(scope="module")
def site_behind_nginx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proxy")
    env = clarion_env(
        tmp / "data",
        CLARION_PROXY_COUNT="1",
        CLARION_THROTTLE_SUBSCRIBE="2/10m",
        CLARION_SITE_URL="http://127.0.0.1",
        CLARION_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    with serving(env=env, log=tmp / "clarion.log") as clarion:
        with nginx_in_front(tmp, upstream_port=clarion.port, media=tmp / "data" / "media") as ngx:
            yield ngx


def test_two_readers_behind_nginx_are_throttled_separately(site_behind_nginx):
    first = Reader(site_behind_nginx.port, "127.0.0.2")
    second = Reader(site_behind_nginx.port, "127.0.0.3")
    assert [first.sign_up(f"a{i}@example.org") for i in range(3)] == [200, 200, 429]
    assert second.sign_up("b0@example.org") == 200


def test_a_reader_cannot_escape_its_bucket_with_its_own_forwarded_for(site_behind_nginx):
    reader = Reader(site_behind_nginx.port, "127.0.0.4")
    assert [reader.sign_up(f"c{i}@example.org") for i in range(3)] == [200, 200, 429]
    for forged in ("198.51.100.7", "198.51.100.8, 198.51.100.9", "unknown"):
        assert reader.sign_up("c9@example.org", forwarded_for=forged) == 429


def test_a_reader_cannot_push_another_into_a_bucket_with_a_forged_forwarded_for(
    site_behind_nginx,
):
    victim = Reader(site_behind_nginx.port, "127.0.0.5")
    attacker = Reader(site_behind_nginx.port, "127.0.0.6")
    statuses = [attacker.sign_up(f"d{i}@example.org", forwarded_for="127.0.0.5") for i in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert victim.sign_up("victim@example.org") == 200
    assert victim.sign_up("victim2@example.org") == 200


def test_a_direct_client_forging_forwarded_for_stays_in_its_bucket(tmp_path):
    # No proxy in front (CLARION_PROXY_COUNT left at 0): the header is never read.
    env = clarion_env(tmp_path / "data", CLARION_THROTTLE_SUBSCRIBE="2/10m")
    with serving(env=env, log=tmp_path / "clarion.log") as clarion:
        reader = Reader(clarion.port, "127.0.0.7")
        other = Reader(clarion.port, "127.0.0.8")
        statuses = [
            reader.sign_up(f"e{i}@example.org", forwarded_for=f"198.51.100.{i}") for i in range(3)
        ]
        assert statuses == [200, 200, 429]
        assert reader.sign_up("e9@example.org", forwarded_for="127.0.0.8") == 429
        assert other.sign_up("f0@example.org") == 200
