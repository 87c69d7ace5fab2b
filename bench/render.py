"""CPU cost of one request, in-process: cold renders and page-cache hits, no network.

    .venv/bin/python bench/render.py [--posts 1000] [--rounds 5] [--requests 40] [--profile PAGE]

Builds a site in a fresh data folder (the demo letter plus N generated posts, as
bench/http.sh does), then calls ``clarion.wsgi.application`` directly with a WSGI environ
for the home page, the reference post, a category archive and /feed/: first with the page
cache off (every request renders: "cold"), then on ("warm": hits, for a new reader and for
one who already has a CSRF cookie). Prints the median over rounds of the mean CPU time per
request. Without a server, wrk or other processes in the measurement, the figures move less
with the machine's load than bench/http.sh's; they are what each page costs one core.
``--profile home`` prints a cProfile of cold renders of that page instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POST = "/2021/07/19/letter-to-the-foreign-secretary/"
PAGES = {
    "home": "/",
    "post": POST,
    "category": "/category/human-rights/",
    "feed": "/feed/",
    # The other archives (bench/make_posts.py files posts under tag-0 … tag-9).
    "tag": "/tag/tag-9/",
    "author": "/author/david-alton/",
    "year": "/2025/",
}


def build_site(data: Path, posts: int) -> None:
    env = {**os.environ, "CLARION_DATA_DIR": str(data)}
    clarion = [sys.executable, "-m", "clarion"]
    subprocess.run([*clarion, "manage", "migrate", "-v0"], env=env, check=True, cwd=REPO)
    manage = [*clarion, "manage", "collectstatic", "--no-input", "-v0"]
    subprocess.run(manage, env=env, check=True, cwd=REPO)
    script = "from clarion.posts.demo import load_demo; load_demo()"
    subprocess.run([*clarion, "manage", "shell", "-c", script], env=env, check=True, cwd=REPO)
    subprocess.run(
        [sys.executable, str(REPO / "bench/make_posts.py"), str(posts)],
        env=env, check=True, cwd=REPO, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def environ(path: str, cookie: str = "") -> dict:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if cookie:
        env["HTTP_COOKIE"] = cookie
    return env


def call(app, path: str, cookie: str = "") -> tuple[str, list]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    result = app(environ(path, cookie), start_response)
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    if not seen["status"].startswith("200"):
        raise SystemExit(f"{path} answered {seen['status']}")
    return body, seen["headers"]


def per_request_ms(app, path: str, requests: int, rounds: int, cookie: str = "") -> float:
    call(app, path, cookie)  # warm the process (and fill the cache when it is on)
    means = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            call(app, path, cookie)
        means.append((time.process_time() - started) * 1000 / requests)
    return statistics.median(means)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--profile", choices=sorted(PAGES))
    parser.add_argument("--data", help="reuse this data folder (built on first use)")
    options = parser.parse_args()

    data = Path(options.data or tempfile.mkdtemp(prefix="clarion-render-"))
    if not (data / "clarion.sqlite3").exists():
        build_site(data, options.posts)
    os.environ.update(
        CLARION_DATA_DIR=str(data),
        CLARION_SECRET_KEY="bench-" + "k" * 50,
        CLARION_SITE_URL="http://127.0.0.1:8000",
        CLARION_LOG_LEVEL="WARNING",
        CLARION_ACCESS_LOG="0",
        DJANGO_SETTINGS_MODULE="clarion.settings",
    )
    os.environ.pop("DEBUG", None)
    import django

    django.setup()
    from django.conf import settings

    from clarion.web.cache import hit_settings
    from clarion.wsgi import application

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    print(f"# {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; data: {data}")

    def page_cache(on: bool) -> None:
        settings.CLARION_PAGE_CACHE = on
        hit_settings.cache_clear()  # the page cache's copy of settings (no setting_changed here)

    page_cache(False)
    if options.profile:
        path = PAGES[options.profile]
        call(application, path)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(options.requests):
            call(application, path)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(45)
        return

    print("| page | cold ms | warm µs, new reader | warm µs, with CSRF cookie |")
    print("| --- | ---: | ---: | ---: |")
    cold = {
        name: per_request_ms(application, path, options.requests, options.rounds)
        for name, path in PAGES.items()
    }
    page_cache(True)
    for name, path in PAGES.items():
        _, headers = call(application, PAGES["post"])
        cookie = next(
            (v.split(";")[0] for k, v in headers if k == "Set-Cookie" and "csrftoken" in v), ""
        )
        new = per_request_ms(application, path, options.requests * 25, options.rounds)
        known = per_request_ms(application, path, options.requests * 25, options.rounds, cookie)
        print(f"| {name} | {cold[name]:.2f} | {new * 1000:.0f} | {known * 1000:.0f} |")


if __name__ == "__main__":
    main()
