"""Newsletter sending benchmark: N confirmed subscribers, one post, real worker processes,
a local SMTP sink; compared in the same run with a bare smtplib loop (the ceiling).

    python bench/notify.py [--n 100000] [--workers 1] [--batch 500] [--database-url URL]

The sink is aiosmtpd on 127.0.0.1 in a separate process that only counts messages. Clarion's
side is the real thing: `clarion subscribers import`, `clarion publish`, `clarion worker`.
The ceiling sends the same number of messages over one bare smtplib connection per worker:
Clarion's own messages for this post, rendered beforehand byte for byte (the first 2,000,
reused in turn), so both sides push identical bytes through the same sink.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import servers

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_sink(port: int, count, first, last, ready) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            now = time.time()
            with count.get_lock():
                if count.value == 0:
                    first.value = now
                count.value += 1
                last.value = now
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    signal.sigwait({signal.SIGTERM})
    controller.stop()


class Sink:
    def __init__(self):
        self.port = free_port()
        self.count = mp.Value("q", 0)
        self.first = mp.Value("d", 0.0)
        self.last = mp.Value("d", 0.0)
        ready = mp.Event()
        self.process = mp.Process(
            target=run_sink, args=(self.port, self.count, self.first, self.last, ready)
        )
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        self.process.start()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        ready.wait(10)

    def reset(self):
        with self.count.get_lock():
            self.count.value = 0
            self.first.value = self.last.value = 0.0

    def wait_for(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count.value < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.count.value >= n

    def stop(self):
        self.process.terminate()
        self.process.join(10)


def ceiling_loop(port: int, messages: list, count: int, sender: str) -> None:
    connection = smtplib.SMTP("127.0.0.1", port)
    connection.ehlo()
    options = ["BODY=8BITMIME"] if connection.has_extn("8bitmime") else []
    for i in range(count):
        to, data = messages[i % len(messages)]
        connection.sendmail(sender, [to], data, options if not data.isascii() else [])
    connection.quit()


DUMP = """
import pickle, sys
from django.core.mail import get_connection
from clarion.newsletter.models import Delivery, Issue
from clarion.newsletter.sending import Outbox
mailer = get_connection()
mailer.open()
messages = Outbox(Issue.objects.get(), mailer).messages
rows = Delivery.objects.select_related("subscriber").order_by("pk")[:{count}]
data = [(d.subscriber.email, messages.raw(d.subscriber_id, d.subscriber.email)) for d in rows]
mailer.close()
with open({path!r}, "wb") as fh:
    pickle.dump((messages.skeleton.envelope_from, data), fh)
"""


def build_messages(env, folder: Path, count: int):
    """Clarion's own messages for this issue, byte for byte, rendered ahead of time."""
    import pickle

    path = folder / "messages.pickle"
    clarion(env, "manage", "shell", "-c", DUMP.format(count=count, path=str(path)))
    with open(path, "rb") as fh:
        return pickle.load(fh)


def clarion(env, *args, capture=True):
    return subprocess.run(
        [sys.executable, "-m", "clarion", *args],
        env=env,
        check=True,
        capture_output=capture,
        text=True,
        timeout=3600,
    )


def post_body() -> str:
    letter = ROOT / "clarion" / "posts" / "demo" / "open-letter.md"
    if letter.exists():
        text = letter.read_text()
        if text.startswith("---"):
            return text.split("---", 2)[2]
        return text
    return "Dear Foreign Secretary,\n\n" + "We write to you. " * 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="subscribers (default 100,000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--batch", type=int, default=500, help="deliveries per batch")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    n = args.n

    folder = Path(tempfile.mkdtemp(prefix="clarion-bench-notify-"))
    sink = Sink()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARION_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="clarion.settings",
        CLARION_DATA_DIR=str(folder / "data"),
        CLARION_SECRET_KEY="bench-" + "k" * 44,
        CLARION_SITE_URL="https://news.example.org",
        CLARION_EMAIL_URL=f"smtp://127.0.0.1:{sink.port}",
        CLARION_NEWSLETTER_BATCH_SIZE=str(args.batch),
        CLARION_LOG_LEVEL="WARNING",
    )
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    print(
        f"notify bench: N={n:,}, workers={args.workers}, batch={args.batch}, "
        f"database={'PostgreSQL' if args.database_url else 'SQLite'}, folder={folder}"
    )

    clarion(env, "manage", "migrate", "--verbosity", "0")
    csv_path = folder / "subscribers.csv"
    with open(csv_path, "w") as fh:
        fh.write("email,created_at\n")
        for i in range(n):
            fh.write(f"reader{i}@example.org,2021-07-19T10:00:00Z\n")
    started = time.perf_counter()
    clarion(env, "subscribers", "import", str(csv_path), "--confirmed")
    import_seconds = time.perf_counter() - started
    print(f"import of {n:,} subscribers: {import_seconds:.1f} s")

    post = folder / "post.md"
    post.write_text("---\ntitle: An open letter\nstatus: published\n---\n" + post_body())
    publish_started = time.time()
    clarion(env, "publish", str(post))
    published = time.time()
    workers = [
        servers.clarion(
            "worker", "--interval", "0.2", "--worker-id", f"bench-{i}", env=env, quiet=False
        )
        for i in range(args.workers)
    ]
    try:
        ok = sink.wait_for(n, args.timeout)
    finally:
        for worker in workers:
            servers.stop_process(worker, signal.SIGTERM, "clarion worker")
    if not ok:
        raise SystemExit(f"only {sink.count.value} of {n} messages arrived")
    first, last = sink.first.value, sink.last.value
    to_last = last - publish_started
    sending_rate = n / (last - first) if last > first else float("inf")

    stats = clarion(
        env,
        "manage",
        "shell",
        "-c",
        "from clarion.newsletter.models import Issue; i = Issue.objects.get();"
        "print((i.fanned_out_at - i.created_at).total_seconds(), i.recipients)",
    ).stdout.split()
    fan_out_seconds = float(stats[-2])

    # The ceiling: the same number of messages, pre-built, over bare smtplib connections.
    sender, messages = build_messages(env, folder, min(n, 2000))
    sink.reset()
    per_loop = [n // args.workers + (1 if i < n % args.workers else 0) for i in range(args.workers)]
    loops = [
        mp.Process(target=ceiling_loop, args=(sink.port, messages, count, sender))
        for count in per_loop
    ]
    started = time.time()
    for loop in loops:
        loop.start()
    for loop in loops:
        loop.join()
    sink.wait_for(n, 60)
    ceiling_seconds = sink.last.value - started
    ceiling_rate = n / ceiling_seconds
    sink.stop()

    print(f"publish command (process start + transaction): {published - publish_started:.1f} s")
    print(f"fan-out ({n:,} delivery rows, one INSERT … SELECT): {fan_out_seconds:.2f} s")
    print(f"first message after publish: {first - publish_started:.1f} s")
    print(
        f"Clarion: {n:,} messages, last one {to_last:.1f} s after publish; "
        f"sending rate {sending_rate:,.0f} msg/s (first to last message)"
    )
    print(f"ceiling (bare smtplib, pre-built): {ceiling_seconds:.1f} s, {ceiling_rate:,.0f} msg/s")
    print(
        f"Clarion's sending rate / ceiling: {sending_rate / ceiling_rate:.0%}; "
        f"end to end (publish to last message) / ceiling: "
        f"{(n / to_last) / ceiling_rate:.0%}"
    )


if __name__ == "__main__":
    main()
