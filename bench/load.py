"""Load and abuse test: page views, searches and subscribe requests at 64 connections
against a real `clarion serve` on 127.0.0.1, with one address flooding /subscribe/.

Bounded: stops after --seconds (at most 60) or --requests (at most 20,000), whichever comes
first. Counts statuses per kind of request and exits 1 on any 5xx or connection error.

    .venv/bin/python bench/load.py [--port 8640] [--seconds 60] [--requests 20000]

Searches and subscriptions are only answered for real once the search and newsletter apps
are merged; until then those paths show their placeholder statuses (404 / 200).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from servers import ClarionServer  # noqa: E402

from tests.helpers import clarion_env  # noqa: E402
from tests.ops.sites import clarion, python  # noqa: E402

FLOOD_ADDRESS = "203.0.113.66"
SEED = """
from django.utils import timezone
from clarion.posts import services
from clarion.posts.models import Category, Post
cats = [Category.objects.create(name=f"Topic {i}", slug=f"topic-{i}") for i in range(4)]
urls = []
for i in range(40):
    post = Post.objects.create(
        title=f"Statement on human rights {i}", slug=f"statement-{i}", status="published",
        published_at=timezone.now() - timezone.timedelta(days=i),
        body=("We write to urge the Government to act. " * 40 + "\\n\\n") * 5,
    )
    post.categories.set([cats[i % 4]])
    services.post_saved(post=post, was_live=False)
    urls.append(post.get_absolute_url())
print("\\n".join(urls))
"""
COUNT_SUBSCRIBERS = """
from django.apps import apps
try:
    model = apps.get_model("newsletter", "Subscriber")
except LookupError:
    print(-1)
else:
    print(model.objects.filter(email__startswith="bench-").count())
"""
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    def __init__(self, port: int, address: str):
        self.port, self.address = port, address
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        self.token = ""

    def request(self, method, path, body=None, headers=None):
        headers = {"X-Forwarded-For": self.address, **(headers or {})}
        if self.cookie:
            headers["Cookie"] = self.cookie
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                cookie = response.getheader("Set-Cookie", "")
                if "csrftoken=" in cookie:
                    self.cookie = cookie.split(";", 1)[0]
                return response.status, data
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def subscribe(self, email):
        if not self.token:
            status, page = self.request("GET", "/subscribe/")
            match = CSRF.search(page)
            self.token = match.group(1).decode() if match else ""
        body = f"email={email}&csrfmiddlewaretoken={self.token}"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{self.port}/subscribe/",
        }
        return self.request("POST", "/subscribe/", body=body.encode(), headers=headers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8640)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--flood", type=int, default=5_000, help="POSTs from one address")
    parser.add_argument("--flooders", type=int, default=8, help="connections of the flooder")
    parser.add_argument(
        "--reference-seconds",
        type=float,
        default=10,
        help="first, the same clients fetch a static file (WhiteNoise) for this long",
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    seconds = min(args.seconds, 60)
    limit = min(args.requests, 20_000)

    site = Path(tempfile.mkdtemp(prefix="clarion-load-")) / "site"
    base = f"http://127.0.0.1:{args.port}"
    env = clarion_env(
        site,
        args.database_url or None,
        CLARION_SITE_URL=base,
        CLARION_PROXY_COUNT=1,  # each simulated reader has its own address
        CLARION_LOG_LEVEL="WARNING",
    )
    clarion(site, "manage", "migrate", "-v0", database_url=args.database_url or None)
    post_urls = python(site, SEED, args.database_url or None).split()
    try:
        server = ClarionServer(
            args.port, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except SystemExit as exc:
        print(f"server did not start: {exc}", file=sys.stderr)
        return 1
    with server:
        reference = run(
            args.port,
            ["/static/clarion/site.css"],
            min(args.reference_seconds, 20),
            limit,
            args.connections,
            0,
            0,
            mix=False,
        )
        result = run(
            args.port, post_urls, seconds, limit, args.connections, args.flood, args.flooders
        )
        result["reference_static_file"] = {
            k: reference[k] for k in ("requests", "requests_per_second", "latency_ms")
        }
        result["ratio_to_static_file"] = round(
            result["requests_per_second"] / reference["requests_per_second"], 3
        )
        subscribers = int(python(site, COUNT_SUBSCRIBERS, args.database_url or None))

    result["subscribers_stored"] = None if subscribers < 0 else subscribers
    accepted = result["statuses"].get("subscribe", {})
    print(json.dumps(result, indent=2, sort_keys=True))
    failures = [
        (kind, status)
        for kind, statuses in result["statuses"].items()
        for status in statuses
        if str(status).startswith("5") or status == "error"
    ]
    if subscribers >= 0:
        confirmed = sum(n for s, n in accepted.items() if s in ("200", "302", "303"))
        if subscribers != confirmed:
            print(f"LOST SUBSCRIPTIONS: {confirmed} accepted, {subscribers} stored")
            return 1
    if failures:
        print(f"FAILED: {failures}")
        return 1
    return 0


def run(port, post_urls, seconds, limit, connections, flood, flooders, mix=True) -> dict:
    counter = itertools.count()
    subscriber_ids = itertools.count()
    flood_left = itertools.count()
    statuses: dict[str, Counter] = defaultdict(Counter)
    latencies: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    pages = ["/", "/page/2/", "/feed/", "/category/topic-1/", *post_urls] if mix else post_urls
    words = ["rights", "letter", "government", "urge", "statement", "korea", "zzz"]

    def worker(n):
        flooder = n < flooders  # these connections are one abusive address
        client = Client(port, FLOOD_ADDRESS if flooder else f"198.51.100.{n}")
        rng = random.Random(n)
        while time.monotonic() < stop_at and next(counter) < limit:
            if flooder:
                if next(flood_left) >= flood:
                    break
                kind = "flood"
            else:
                roll = rng.random() if mix else 0
                kind = "page" if roll < 0.7 else "search" if roll < 0.85 else "subscribe"
            started = time.perf_counter()
            try:
                if kind == "page":
                    status, _ = client.request("GET", rng.choice(pages))
                elif kind == "search":
                    status, _ = client.request("GET", f"/search/?q={rng.choice(words)}")
                elif kind == "subscribe":
                    status, _ = client.subscribe(f"bench-{next(subscriber_ids)}@example.org")
                else:
                    status, _ = client.subscribe(f"flood-{rng.random()}@example.org")
            except Exception:  # noqa: BLE001 - counted and reported, never hidden
                status = "error"
            elapsed = time.perf_counter() - started
            with lock:
                statuses[kind][str(status)] += 1
                latencies[kind].append(elapsed)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    total = sum(sum(c.values()) for c in statuses.values())

    def pct(values, q):
        values = sorted(values)
        return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)

    return {
        "seconds": round(wall, 1),
        "requests": total,
        "requests_per_second": round(total / wall, 1),
        "connections": connections,
        "statuses": {k: dict(v) for k, v in statuses.items()},
        "latency_ms": {
            k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95), "p99": pct(v, 0.99)}
            for k, v in latencies.items()
        },
    }


if __name__ == "__main__":
    sys.exit(main())
