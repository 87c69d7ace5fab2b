"""Peers for bench/http_bench.py --peers: WordPress and Wagtail serving the reference letter.

Issue #7 sets Clarion's cold pages against WordPress's and Wagtail's rates on the same
machine. Each peer is set up from Debian's packages and PyPI only, in a folder of the run's
temporary folder, started once before the runs and stopped (its database dropped) at the
end:
  - peers/wordpress.py: Debian's `wordpress` on php-fpm 8.2 (OPcache on, pm = static,
    2 children) behind nginx (FastCGI), MariaDB, the default theme, 127.0.0.1:8513;
  - peers/wagtail.py: Wagtail in its own virtualenv, a BlogPage, SQLite, DEBUG off,
    gunicorn with 2 sync workers, 127.0.0.1:8514.
Their processes start and stop through bench/servers.py, as Clarion's do. Both get the same
letter: title, date, author, excerpt, category "Human rights" and the
body that Clarion's Markdown renderer makes of clarion/posts/demo/open-letter.md.
"""

from __future__ import annotations

import datetime as dt
import html
import sys
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LETTER = REPO / "clarion/posts/demo/open-letter.md"
# The demo site's name and tagline (clarion/posts/demo.py), so every peer's pages carry them.
SITE_NAME = "David Alton"
TAGLINE = "Independent Crossbench Life Peer in the House of Lords"
CATEGORY = "Human rights"


@dataclass
class Letter:
    title: str
    slug: str
    date: dt.datetime
    author: str
    excerpt: str
    category: str
    body_html: str

    def as_json(self) -> dict:
        return {
            "title": self.title,
            "slug": self.slug,
            "date": self.date.strftime("%Y-%m-%d %H:%M:%S"),
            "author": self.author,
            "excerpt": self.excerpt,
            "category": self.category,
            "category_slug": "human-rights",
            "body_html": self.body_html,
            "site_name": SITE_NAME,
            "tagline": TAGLINE,
        }


def reference_letter() -> Letter:
    """The demo's letter, its body rendered by Clarion's own Markdown renderer."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from clarion.posts.markdown import render

    _, front, body = LETTER.read_text(encoding="utf-8").split("---\n", 2)
    meta = yaml.safe_load(front)
    date = meta["date"]
    if isinstance(date, str):
        date = dt.datetime.fromisoformat(date)
    return Letter(
        title=meta["title"],
        slug=meta["slug"],
        date=date,
        author=meta["author"],
        excerpt=" ".join(meta["excerpt"].split()),
        category=CATEGORY,
        body_html=render(body),
    )


def check_page(name: str, url: str, title: str) -> int:
    """Fail loudly unless url answers 200 with the letter's title; returns the page's size."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, body = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{name}: {url} answered {exc.code}, not 200") from exc
    except OSError as exc:
        raise SystemExit(f"{name}: {url} did not answer: {exc}") from exc
    if status != 200:
        raise SystemExit(f"{name}: {url} answered {status}, not 200")
    if title not in body and html.escape(title) not in body:
        raise SystemExit(f"{name}: {url} answered 200 without the letter's title")
    return len(body.encode())


class Peer(ABC):
    """A peer server: set up and started by start(), stopped by stop()."""

    name = ""  # the table's row is "<name> post", and its folder under the run's
    port = 0
    path = ""  # the letter's address on the peer

    def __init__(self, work: Path, letter: Letter):
        self.work, self.letter = work, letter
        self.versions = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def check(self) -> int:
        return check_page(self.name, self.url, self.letter.title)

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...


def start(work: Path) -> list:
    """Set up and start every peer under work; stops those started if one fails."""
    from . import wagtail, wordpress

    letter = reference_letter()
    peers = []
    try:
        for cls in (wordpress.WordPress, wagtail.Wagtail):
            peer = cls(work / cls.name, letter)
            peers.append(peer)
            peer.start()
            size = peer.check()
            print(f"# {peer.name}: {peer.url} ({size} bytes), {peer.versions}")
            sys.stdout.flush()
    except BaseException:
        stop(peers)
        raise
    return peers


def stop(peers: list) -> None:
    """Stop every peer (and drop its database), the last started first."""
    for peer in reversed(peers):
        try:
            peer.stop()
        except Exception as exc:  # stop the others all the same
            print(f"# stopping {peer.name} failed: {exc}", file=sys.stderr)
