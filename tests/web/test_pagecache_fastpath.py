"""The WSGI fast path answers page-cache hits exactly as Django's path would."""

import io
import re
import sys

import pytest
from django.test import Client

from clarion.web.csrf import CSRF_SENTINEL

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
# Content-Length: Django leaves it to the server for responses from the page cache.
VARIABLE = {"date", "server", "set-cookie", "etag", "last-modified", "content-length"}
SECURITY = {
    "content-security-policy",
    "permissions-policy",
    "x-content-type-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "x-frame-options",
}


@pytest.fixture
def application():
    """The server's WSGI application, called as a server would. Like Django's test client,
    leave the connection alone between requests: closing it would end the test's
    transaction (PostgreSQL)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from clarion.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call(application, path="/", method="GET", **headers):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = response_headers

    chunks = application(environ, start_response)
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return answer["status"], answer["headers"], body


def _names(headers):
    return sorted(name.lower() for name, _ in headers if name.lower() not in VARIABLE)


@pytest.fixture
def letter(make_post):
    return make_post("An open letter", body="Dear Foreign Secretary,\n\nWe write.")


def test_it_answers_a_hit_with_the_headers_django_sends(
    application, letter, django_assert_num_queries
):
    # A miss goes through Django (and stores the page): the reference headers.
    status, django_headers, _ = call(application)
    assert status == "200 OK"
    assert dict(django_headers)["X-Clarion-Cache"] == "miss"
    with django_assert_num_queries(1):
        status, headers, body = call(application)
    assert status == "200 OK"
    assert _names(headers) == _names(django_headers)
    # The security headers are the render's, stored with the page, nonce and all.
    for name, value in django_headers:
        if name.lower() in SECURITY:
            assert dict(headers)[name] == value
    assert SECURITY <= {name.lower() for name, _ in headers}
    assert len(dict(headers)["X-Request-ID"]) == 32
    assert dict(headers)["X-Clarion-Cache"] == "hit"
    assert dict(headers)["Cache-Control"].startswith("private")
    assert b"An open letter" in body
    assert CSRF_SENTINEL.encode() not in body
    assert int(dict(headers)["Content-Length"]) == len(body)


def test_it_gives_new_readers_a_cookie_and_token_that_django_accepts(application, letter):
    call(application)  # stores the page
    status, headers, body = call(application)
    cookie = next(v for k, v in headers if k == "Set-Cookie")
    secret = re.match(r"csrftoken=([A-Za-z0-9]{32});", cookie).group(1)
    assert "SameSite=Lax" in cookie and "Path=/" in cookie and "Max-Age=31449600" in cookie
    token = TOKEN.search(body).group(1).decode()
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = secret
    assert client.post("/subscribe/", {"csrfmiddlewaretoken": token}).status_code != 403
    client.cookies["csrftoken"] = "x" * 32  # another reader's cookie: refused
    assert client.post("/subscribe/", {"csrfmiddlewaretoken": token}).status_code == 403


def test_it_keeps_a_returning_readers_cookie_and_marks_the_page_public(application, letter):
    call(application)
    secret = "a" * 32
    status, headers, body = call(application, cookie=f"csrftoken={secret}")
    names = [k for k, _ in headers]
    assert "Set-Cookie" not in names
    assert dict(headers)["Cache-Control"].startswith("public")
    assert dict(headers)["Vary"] == "Cookie"
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = secret
    token = TOKEN.search(body).group(1).decode()
    assert client.post("/subscribe/", {"csrfmiddlewaretoken": token}).status_code != 403


def test_it_sees_a_publish_at_once(application, letter, make_post):
    call(application)
    assert dict(call(application)[1])["X-Clarion-Cache"] == "hit"
    make_post("A second letter")
    status, headers, body = call(application)
    assert b"A second letter" in body
    assert dict(headers).get("X-Clarion-Cache") == "miss"


def test_it_leaves_sessions_conditional_requests_and_unknown_hosts_to_django(
    application, letter, client, alice
):
    call(application)
    client.force_login(alice.user)
    session = client.cookies["sessionid"].value
    _, headers, _ = call(application, cookie=f"sessionid={session}")
    assert "X-Clarion-Cache" not in dict(headers)  # staff: rendered by Django, private
    assert "no-store" in dict(headers)["Cache-Control"]
    _, headers, _ = call(application)
    etag = dict(headers)["ETag"]
    assert call(application, if_none_match=etag)[0].startswith("304")
    assert call(application, host="evil.example")[0].startswith("400")


def test_it_reuses_a_well_formed_request_id_from_the_proxy(application, letter):
    call(application)
    _, headers, _ = call(application, x_request_id="proxy-id-1234")
    assert dict(headers)["X-Clarion-Cache"] == "hit"
    assert dict(headers)["X-Request-ID"] == "proxy-id-1234"
    _, headers, _ = call(application, x_request_id="bad id\n")
    assert dict(headers)["X-Request-ID"] != "bad id\n"


def test_it_never_serves_an_http_page_to_https_or_back(application, letter, settings):
    # An https page carries HSTS when it is set (SecurityMiddleware reads that once, at
    # start-up, so it is not switched on here): an entry stored for http must never answer
    # https, nor the other way round.
    call(application)  # stored for http
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    _, miss, _ = call(application, x_forwarded_proto="https")
    assert dict(miss)["X-Clarion-Cache"] == "miss"
    _, hit, _ = call(application, x_forwarded_proto="https")
    assert dict(hit)["X-Clarion-Cache"] == "hit"
    assert _names(hit) == _names(miss)
    _, headers, _ = call(application)  # plain http again: its own entry
    assert dict(headers)["X-Clarion-Cache"] == "hit"


def test_it_answers_head_without_a_body(application, letter):
    call(application)
    status, headers, body = call(application, method="HEAD")
    assert status == "200 OK"
    assert body == b""
    assert dict(headers)["X-Clarion-Cache"] == "hit"
    assert int(dict(headers)["Content-Length"]) > 0


@pytest.mark.django_db(transaction=True)
def test_it_reads_the_generation_outside_a_transaction_and_reconnects(application, make_post):
    # Outside a test transaction the generation is read on the driver's own connection,
    # as in a server process.
    from django.db import connection

    make_post("An open letter")
    call(application)
    assert dict(call(application)[1])["X-Clarion-Cache"] == "hit"
    connection.close()  # a database restart, say: the next request connects again
    assert dict(call(application)[1])["X-Clarion-Cache"] == "hit"
    make_post("A second letter")
    status, headers, body = call(application)
    assert dict(headers)["X-Clarion-Cache"] == "miss"
    assert b"A second letter" in body


def test_it_writes_the_access_log_line_with_the_request_id(application, letter, caplog, settings):
    settings.CLARION_ACCESS_LOG = True
    call(application)
    caplog.clear()
    with caplog.at_level("INFO", logger="clarion.request"):
        _, headers, _ = call(application, x_request_id="proxy-id-5678")
    assert dict(headers)["X-Clarion-Cache"] == "hit"
    lines = [r.getMessage() for r in caplog.records if r.name == "clarion.request"]
    assert len(lines) == 1 and lines[0].startswith("GET / 200 ")
