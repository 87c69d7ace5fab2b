"""A request with a Host header the site does not serve is answered 400 and logged as one
line at WARNING: Django logs it at ERROR with its traceback, kilobytes that any stranger
could make a server write as fast as they could send requests."""

import http.client

from tests.posts import conftest as posts
from tests.server import clarion_env, run_clarion, serving, wait_until

# A data folder with the static files collected once per session (tests/posts/conftest.py).
collected_static, data_dir = posts.collected_static, posts.data_dir


def _get(port: int, host: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/", headers={"Host": host})
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_bad_host_header_is_one_warning_line_without_a_traceback(tmp_path, data_dir):
    env = clarion_env(data_dir)
    run_clarion("manage", "migrate", "-v", "0", env=env)
    log = tmp_path / "serve.log"
    with serving("--no-worker", env=env, log=log) as server:
        before = log.read_text()
        for _ in range(3):
            assert _get(server.port, "evil.example:6666") == 400

        def logged():
            return log.read_text()[len(before) :].count("DisallowedHost") >= 3

        wait_until(logged, timeout=10, what="three DisallowedHost lines in the log")
        written = log.read_text()[len(before) :]

    lines = [line for line in written.splitlines() if "DisallowedHost" in line]
    assert len(lines) == 3, written
    for line in lines:
        assert " WARNING django.security.DisallowedHost " in line, line
        assert "evil.example" in line
        assert len(line) < 400, line
    assert "Traceback" not in written and " ERROR " not in written, written
