"""Media files from a local copy of ``wp-content/uploads``, copied into Clarion's storage.

A file keeps its place under ``wp/`` (``2021/07/x.jpg`` → ``wp/2021/07/x.jpg``), so a second
import finds it already there and copies nothing. Files written by an import that then fails
are removed again (the database is rolled back; storage is not transactional).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from .permalinks import OldSite

STORAGE_PREFIX = "wp/"


class MediaLibrary:
    def __init__(
        self, uploads: Path | None, old_site: OldSite, *, dry_run: bool, on_missing, on_use
    ):
        self.uploads = uploads.resolve() if uploads else None
        self.old_site = old_site
        self.dry_run = dry_run
        self.on_missing = on_missing  # called with (relative path, who referenced it)
        self.on_use = on_use  # called with the relative path of each file a body uses
        self.stored: dict[str, str | None] = {}  # relative path → storage name (None: missing)
        self.written: list[str] = []
        self.copied = 0

    def store(self, rel: str, referrer: str) -> str | None:
        """The storage name of uploads file ``rel``, copying it on first use; None if absent."""
        if rel in self.stored:
            name = self.stored[rel]
            if name is None:
                self.on_missing(rel, referrer)
            return name
        name = self._copy(rel)
        self.stored[rel] = name
        if name is None:
            self.on_missing(rel, referrer)
        return name

    def _copy(self, rel: str) -> str | None:
        if self.uploads is None:
            return None
        source = (self.uploads / rel).resolve()
        # A crafted "../../etc/passwd" in the export must not read outside the uploads folder.
        if not source.is_relative_to(self.uploads) or not source.is_file():
            return None
        name = STORAGE_PREFIX + rel
        if default_storage.exists(name) and default_storage.size(name) == source.stat().st_size:
            return name
        if self.dry_run:
            self.copied += 1
            return name
        with source.open("rb") as fh:
            saved = default_storage.save(name, File(fh))
        self.written.append(saved)
        self.copied += 1
        return saved

    def url(self, name: str) -> str:
        return settings.MEDIA_URL + name

    def rewrite(self, url: str, referrer: str) -> str:
        """A body URL as Clarion should write it: uploads → the copied file; other addresses
        of the old site → root-relative (its redirects answer there); anything else as is."""
        rel = self.old_site.uploads_relative(url) if "://" in url or url.startswith("/") else None
        if rel:
            self.on_use(rel)
            name = self.store(rel, referrer)
            if name is not None:
                return self.url(name)
            return self.old_site.absolute(url)
        if "://" in url and self.old_site.is_local(url):
            path = self.old_site.path_of(url)
            if path:
                fragment = url.split("#", 1)[1] if "#" in url else ""
                return path + (f"#{fragment}" if fragment else "")
        return url

    def discard_written(self) -> None:
        for name in self.written:
            default_storage.delete(name)
        self.written.clear()
