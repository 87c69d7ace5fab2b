"""HTTP serving benchmark: Clarion (page cache off and on) against nginx serving a static file.

    bench/http.sh [--runs 3] [--duration 10] [--posts 1000] [--redis redis://127.0.0.1:6379/9]
                  [--peers]
    (or: .venv/bin/python bench/http_bench.py …)

Starts Clarion with production settings (DEBUG off, collectstatic done) on SQLite in a fresh
data folder: `clarion serve --demo` loads the reference letter, then bench/make_posts.py adds
generated posts. Each run measures, with wrk on 127.0.0.1:
  - nginx serving a saved copy of the reference post page as a static file;
  - Clarion cold (CLARION_PAGE_CACHE=0: every request renders) and warm (page cache on):
    the home page, the reference post, a category archive and /feed/ (wrk -t2 -c16);
  - p99 latency of the post page at 64 connections (wrk --latency -t2 -c64);
  - the same server (granian, WSGI, the workers and threads `clarion serve` uses) with a
    five-line WSGI app that returns the saved page's bytes: the most any Python WSGI app
    on it can reach here, the ceiling for Clarion's warm pages;
  - with --redis, the warm pages again with that Redis as the shared cache;
  - with --peers, the same letter served uncached by WordPress (Debian's 6.1, php-fpm 8.2
    with OPcache and 2 static children, nginx, MariaDB) and by Wagtail (gunicorn, 2 sync
    workers, SQLite), as issue #7 compares them (wrk -t2 -c16), and Clarion's cold pages as
    multiples of their rates. Both are set up once before the runs in the temporary folder
    and torn down at the end: see bench/peers/.
Prints requests per second and the ratio to nginx's rate in the same run, then medians.
wrk shares the machine's cores with the servers: compare ratios, not absolute figures.
Needs wrk and nginx (Debian packages; --peers: see bench/peers/wordpress.py). Binds
127.0.0.1:8510 (Clarion), :8511 (nginx), :8512 (the bare WSGI app), and with --peers
:8513 (WordPress) and :8514 (Wagtail).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import peers as peer_servers
import redis
import servers

REPO = Path(__file__).resolve().parents[1]
CLARION_PORT, NGINX_PORT, BARE_PORT = 8510, 8511, 8512
POST = "/2021/07/19/letter-to-the-foreign-secretary/"
PAGES = {
    "home": "/",
    "post": POST,
    "category": "/category/human-rights/",
    "feed": "/feed/",
}
# Issue #7's aims for Clarion's cold pages, as multiples of each peer's rate.
PEER_AIMS = {"wordpress post": 10, "wagtail post": 2}
NGINX_CONF = """
worker_processes auto;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type text/html;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/root;
        location = /post/ {{ try_files /post.html =404; }}
    }}
}}
"""


def env_for(data: Path, **extra) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLARION_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(
        CLARION_DATA_DIR=str(data),
        CLARION_SECRET_KEY="bench-" + "k" * 50,
        CLARION_SITE_URL=f"http://127.0.0.1:{CLARION_PORT}",
        # The production default (INFO): one access-log line per request, written to
        # stdout, which is /dev/null here (journald or a file in production).
        CLARION_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


BARE_APP = """
body = open({path!r}, "rb").read()
headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]


def application(environ, start_response):
    start_response("200 OK", headers)
    return [body]
"""


def measure_bare_granian(work: Path, duration: int) -> dict:
    """A WSGI app that only returns the saved page, on granian as `clarion serve` runs it."""
    (work / "bare_app.py").write_text(BARE_APP.format(path=str(work / "root/post.html")))
    proc = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
         "--port", str(BARE_PORT), "--workers", str(os.cpu_count()), "--blocking-threads",
         "4", "--no-ws", "--log-level", "warning", "bare_app:application"],
        cwd=work,
    )  # fmt: skip
    try:
        servers.wait_for_http(f"http://127.0.0.1:{BARE_PORT}/", proc=proc)
        return {"bare WSGI app": wrk(f"http://127.0.0.1:{BARE_PORT}/", duration=duration)}
    finally:
        servers.stop_process(proc, signal.SIGTERM, "granian")


def clarion_server(data: Path, *args: str, **env) -> servers.ClarionServer:
    return servers.ClarionServer(CLARION_PORT, "--no-worker", *args, env=env_for(data, **env))


def wrk(url: str, *, duration: int, connections: int = 16, latency: bool = False) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", url]
    if latency:
        args.insert(1, "--latency")
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result = {"rps": rate, "errors": int(errors.group(1)) if errors else 0}
    if latency:
        value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()
        result["p99_ms"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return result


def measure_clarion(data: Path, label: str, duration: int, **env) -> dict:
    with clarion_server(data, **env):
        results = {}
        for name, path in PAGES.items():
            url = f"http://127.0.0.1:{CLARION_PORT}{path}"
            get(url)  # the first request fills the page cache (or warms the process)
            results[f"{label} {name}"] = wrk(url, duration=duration)
        post = f"http://127.0.0.1:{CLARION_PORT}{POST}"
        p99 = wrk(post, duration=duration, connections=64, latency=True)
        results[f"{label} post -c64"] = p99
        return results


def main() -> None:
    # A SIGTERM ends the benchmark through the `finally` blocks, which stop nginx and Clarion.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="also measure warm pages with this Redis database as the cache (it is emptied)",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also measure WordPress and Wagtail serving the same letter uncached (bench/peers/)",
    )
    options = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed: apt-get install -y wrk nginx")

    work = Path(tempfile.mkdtemp(prefix="clarion-bench-"))
    work.chmod(0o755)  # nginx's workers run as nobody
    data = work / "data"
    print(f"# machine: {os.cpu_count()} cores, {platform.platform()}, Python "
          f"{platform.python_version()}")  # fmt: skip
    print(f"# data folder: {data}")

    # The demo site on a fresh data folder, then the generated posts.
    clarion_server(data, "--demo").stop()
    subprocess.run(
        [sys.executable, str(REPO / "bench/make_posts.py"), str(options.posts)],
        cwd=REPO, env=env_for(data), check=True,
    )  # fmt: skip

    # nginx serves the post page exactly as a reader receives it from Clarion.
    root = work / "root"
    root.mkdir()
    with clarion_server(data):
        (root / "post.html").write_bytes(get(f"http://127.0.0.1:{CLARION_PORT}{POST}"))
    root.chmod(0o755)
    (root / "post.html").chmod(0o644)
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=work, port=NGINX_PORT))
    nginx, peers = None, []
    try:
        if options.peers:
            peers = peer_servers.start(work / "peers")
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)])
        servers.wait_for_http(f"http://127.0.0.1:{NGINX_PORT}/post/", proc=nginx)
        runs = []
        for run in range(1, options.runs + 1):
            results = {"nginx post": wrk(f"http://127.0.0.1:{NGINX_PORT}/post/",
                                         duration=options.duration)}  # fmt: skip
            results |= measure_bare_granian(work, options.duration)
            results |= measure_clarion(data, "cold", options.duration, CLARION_PAGE_CACHE="0")
            for peer in peers:
                peer.check()  # 200 with the letter's title, and the first request
                results[f"{peer.name} post"] = wrk(peer.url, duration=options.duration)
            results |= measure_clarion(data, "warm", options.duration)
            if options.redis:
                # The several-machines set-up's shared cache (docs/deploy.md), same pages;
                # emptied first, so no page from an earlier benchmark's site is served.
                redis.Redis.from_url(options.redis).flushdb()
                results |= measure_clarion(
                    data, "warm redis", options.duration, CLARION_CACHE_URL=options.redis
                )
            report(f"run {run}", results, peer_multiples(results))
            runs.append(results)
    finally:
        servers.stop_process(nginx, signal.SIGQUIT, "nginx")
        peer_servers.stop(peers)
    medians = {
        key: {
            "rps": statistics.median(r[key]["rps"] for r in runs),
            "ratio": statistics.median(r[key]["rps"] / r["nginx post"]["rps"] for r in runs),
            "errors": sum(r[key]["errors"] for r in runs),
            **(
                {"p99_ms": statistics.median(r[key]["p99_ms"] for r in runs)}
                if "p99_ms" in runs[0][key]
                else {}
            ),
        }
        for key in runs[0]
    }
    multiples = {
        key: statistics.median(peer_multiples(r)[key] for r in runs)
        for key in peer_multiples(runs[0])
    }
    report(f"median of {len(runs)} runs", medians, multiples)
    shutil.rmtree(work, ignore_errors=True)


def peer_multiples(results: dict) -> dict[tuple[str, str], float]:
    """Each cold page's rate as a multiple of each peer's (empty without --peers)."""
    return {
        (f"cold {page}", peer): results[f"cold {page}"]["rps"] / results[peer]["rps"]
        for page in PAGES
        for peer in PEER_AIMS
        if peer in results
    }


def report(title: str, results: dict, multiples: dict | None = None) -> None:
    nginx = results["nginx post"]["rps"]
    print(f"\n## {title}")
    print(f"{'what':<22}{'req/s':>10}{'vs nginx':>10}{'p99 ms':>9}{'errors':>8}")
    for key, value in results.items():
        ratio = value.get("ratio", value["rps"] / nginx)
        p99 = f"{value['p99_ms']:.1f}" if "p99_ms" in value else ""
        print(f"{key:<22}{value['rps']:>10.0f}{ratio:>9.1%}{p99:>9}{value['errors']:>8}")
    for (cold, peer), multiple in (multiples or {}).items():
        aim = PEER_AIMS[peer]
        verdict = "met" if multiple >= aim else "not met"
        print(f"{cold} / {peer} = {multiple:.1f}×  (aim ≥ {aim}×: {verdict})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
