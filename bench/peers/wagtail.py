"""Wagtail serving the reference letter: gunicorn with 2 sync workers, SQLite, DEBUG off.

Wagtail, gunicorn and the Django that Clarion runs are installed from PyPI into a virtualenv
of the peer's own folder (never into Clarion's). `wagtail start benchsite` makes the project;
wagtail_site/ adds a blog app (BlogPage: title, date, author, categories, rich-text body, as
in Wagtail's tutorial), a base template (the project template's, with a header and footer)
and settings (`wagtail start`'s production settings: DEBUG off, ManifestStaticFilesStorage).
Then migrate, load_letter.py publishes the letter under the home page, collectstatic.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys

import django
from servers import require_free, stop_process, wait_for_port

from . import HERE, Peer

# Pinned so every run measures the same thing; Django is the version Clarion runs.
WAGTAIL = "wagtail==8.0.1"
GUNICORN = "gunicorn==27.0.1"
PROJECT = "benchsite"
FILES = HERE / "wagtail_site"


class Wagtail(Peer):
    name = "wagtail"
    port = 8514

    def __init__(self, work, letter):
        super().__init__(work, letter)
        self.path = f"/{letter.slug}/"
        self.gunicorn = None
        self.venv = work / "venv"
        self.site = work / "site"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLARION_", "DATABASE_URL", "DJANGO_", "VIRTUAL_ENV"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE=f"{PROJECT}.settings.bench",
            WAGTAIL_BENCH_SECRET_KEY=secrets.token_urlsafe(50),
        )

    def run(self, *args: str, what: str, timeout: float = 600) -> str:
        """Run a command of the peer's virtualenv in the site's folder; fail loudly."""
        try:
            done = subprocess.run(
                args, cwd=self.site, env=self.env, capture_output=True, text=True,
                timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise SystemExit(f"wagtail: {what} took more than {timeout}s") from exc
        if done.returncode != 0:
            raise SystemExit(f"wagtail: {what} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return done.stdout

    def start(self) -> None:
        require_free(self.port)
        self.work.mkdir(parents=True)
        self.site.mkdir()
        python, bin_ = str(self.venv / "bin/python"), self.venv / "bin"
        self.run(sys.executable, "-m", "venv", str(self.venv), what="making the virtualenv")
        self.run(
            python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            WAGTAIL, GUNICORN, f"Django=={django.get_version()}",
            what="pip install", timeout=900,
        )  # fmt: skip

        # The project as `wagtail start` makes it, plus the blog app, base template, settings.
        self.run(str(bin_ / "wagtail"), "start", PROJECT, str(self.site), what="wagtail start")
        shutil.copytree(FILES / "blog", self.site / "blog")
        shutil.copy(FILES / "templates/base.html", self.site / PROJECT / "templates/base.html")
        shutil.copy(FILES / "bench.py", self.site / PROJECT / "settings/bench.py")
        shutil.copy(FILES / "load_letter.py", self.site / "load_letter.py")
        self.run(python, "manage.py", "makemigrations", "blog", what="makemigrations")
        self.run(python, "manage.py", "migrate", "--no-input", what="migrate")
        (self.work / "letter.json").write_text(json.dumps(self.letter.as_json()))
        url = self.run(python, "load_letter.py", str(self.work / "letter.json"), what="load_letter")
        if url.strip() != self.path:
            raise SystemExit(f"wagtail: the letter is at {url.strip()!r}, not {self.path!r}")
        self.run(python, "manage.py", "collectstatic", "--no-input", what="collectstatic")

        with open(self.work / "gunicorn.log", "wb") as log:
            self.gunicorn = subprocess.Popen(
                [str(bin_ / "gunicorn"), "--workers", "2", "--worker-class", "sync",
                 "--bind", f"127.0.0.1:{self.port}", "--no-control-socket",
                 f"{PROJECT}.wsgi:application"],
                cwd=self.site, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for_port(self.port, "gunicorn", proc=self.gunicorn)
        versions = self.run(
            python, "-c",
            "import django, gunicorn, wagtail; "
            "print(wagtail.__version__, django.get_version(), gunicorn.__version__)",
            what="versions",
        ).split()  # fmt: skip
        self.versions = (
            f"Wagtail {versions[0]}, Django {versions[1]}, gunicorn {versions[2]} "
            f"(2 sync workers), SQLite, DEBUG off, Python {sys.version.split()[0]}"
        )

    def stop(self) -> None:
        stop_process(self.gunicorn, signal.SIGTERM, "gunicorn")
