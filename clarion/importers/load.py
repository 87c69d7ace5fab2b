"""Turn a parsed WordPress export into Clarion's authors, categories, tags, posts, pages,
media and redirects: in one transaction, matched by WordPress ID, writing only what changed.

Importing never announces a post: posts are saved directly, not through
``clarion.posts.services.post_saved``, so ``post_published`` (and its emails) never fires for
content that was already public on WordPress.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from django.db import transaction

from clarion.posts.models import Post, Redirect, SiteSettings
from clarion.web.cache import invalidate

from . import wordpress
from .items import Items
from .media import MediaLibrary
from .models import WordPressObject
from .permalinks import OldSite
from .redirects import RedirectBatch, add_archive_redirects, add_attachment_redirects
from .referenced import Attachment, Referenced
from .summary import KINDS, OUTCOMES, ImportFailed, Summary

if TYPE_CHECKING:
    from clarion.posts.models import Author, Category, Page, Tag

__all__ = ["KINDS", "OUTCOMES", "ImportFailed", "Summary", "import_wordpress"]

Kind = WordPressObject.Kind

Progress = Callable[[str, int, int | None], None]


def import_wordpress(
    path: str | Path,
    *,
    uploads: Path | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Import the WXR file at ``path``; with ``dry_run`` roll everything back afterwards.

    Raises ``wordpress.WXRError`` for a file that is not a readable export and
    ``ImportFailed`` for an item that cannot be stored; in both cases nothing is written.
    """
    run = _Import(Path(path), uploads=uploads, dry_run=dry_run, progress=progress)
    run.scan()
    try:
        with transaction.atomic():
            run.load()
            if dry_run:
                transaction.set_rollback(True)
    except BaseException:
        run.media.discard_written()
        raise
    return run.summary


class _Import(Referenced, Items):
    def __init__(self, path: Path, *, uploads, dry_run, progress):
        self.path = path
        self.summary = Summary(dry_run=dry_run)
        self.progress = progress or (lambda stage, done, total: None)
        self.uploads = uploads
        self.site = wordpress.Site()
        self.authors: dict[str, wordpress.Author] = {}
        self.terms: dict[tuple[str, str], wordpress.Term] = {}
        self.attachments: dict[int, Attachment] = {}
        self.item_count = 0
        self.comment_count = 0
        self.old: OldSite | None = None
        self.media: MediaLibrary | None = None
        self.author_objs: dict[str, Author] = {}
        self.term_objs: dict[tuple[str, str], Category | Tag] = {}
        self._pending_parents: list[tuple[Page, int]] = []
        self._tz_checked = False
        self._default_category: Category | None = None
        self._current_item: wordpress.Item | None = None
        self.redirects = RedirectBatch(self.summary, before_flush=self.flush)
        self._mappings: list[WordPressObject] = []
        self._post_mappings: dict[str, tuple[int, int, str]] = {}
        self.first_use: dict[str, tuple[str, int]] = {}

    # -- pass 1: read the whole file once, before writing anything ------------------------

    def scan(self) -> None:
        size = self.path.stat().st_size
        for record in wordpress.read(
            self.path, on_bytes=lambda n: self.progress("Reading", n, size)
        ):
            if isinstance(record, wordpress.Site):
                self.site = record
            elif isinstance(record, wordpress.Author):
                self.authors.setdefault(record.login, record)
            elif isinstance(record, wordpress.Term):
                self.terms.setdefault((record.taxonomy, record.slug), record)
            elif isinstance(record, wordpress.Item):
                self.item_count += 1
                self.comment_count += record.comments
                if record.post_type == "attachment":
                    self._scan_attachment(record)
        self.old = OldSite(self.site)
        self.media = MediaLibrary(
            self.uploads,
            self.old,
            dry_run=self.summary.dry_run,
            on_use=self._media_used,
            on_missing=lambda rel, who: self.summary.note(
                "media file not found in --uploads (the body keeps the old address)"
                if self.uploads
                else "media not copied: no --uploads folder given (the body keeps the old address)",
                f"{rel} ({who})",
            ),
        )
        for attachment in self.attachments.values():
            if attachment.rel is None and attachment.item is not None:
                attachment.rel = self.old.uploads_relative(
                    attachment.item.attachment_url
                    or attachment.item.first_meta("_wp_attached_file")
                )

    def _media_used(self, rel: str) -> None:
        # An attachment page with no parent redirects to the first post that shows the file
        # (in any of WordPress's resized copies: x-1024x683.jpg is x.jpg).
        if self._current_item is not None:
            original = _RESIZED.sub(r"\1", rel)
            item = self._current_item
            self.first_use.setdefault(original, (item.post_type, item.wp_id))

    def _scan_attachment(self, item: wordpress.Item) -> None:
        # Only what later items need; the item itself is kept for its redirects.
        item.content = item.excerpt = ""
        self.attachments[item.wp_id] = Attachment(
            wp_id=item.wp_id,
            rel=None,
            parent_id=item.parent_id,
            alt=item.first_meta("_wp_attachment_image_alt") or item.title,
            item=item,
        )

    # -- pass 2 ----------------------------------------------------------------------------

    def load(self) -> None:
        self.site_settings = SiteSettings.fetch()
        # Every permalink reads the site's time zone: from memory, not one query per post.
        SiteSettings.use_for_this_thread(self.site_settings)
        try:
            self._load()
        finally:
            SiteSettings.use_for_this_thread(None)

    def _load(self) -> None:
        for author in self.authors.values():
            self.author_for(author.login)
        self.load_terms()
        self.load_attachments()
        # One query instead of one per post: (mapping id, post id, digest) by WordPress ID.
        self._post_mappings = {
            wp_id: (pk, post_id, digest)
            for pk, wp_id, post_id, digest in WordPressObject.objects.filter(
                kind=Kind.POST, post__isnull=False
            ).values_list("pk", "wp_id", "post_id", "digest")
        }
        done = 0
        for record in wordpress.read(self.path):
            if not isinstance(record, wordpress.Item):
                continue
            done += 1
            self.progress("Importing", done, self.item_count)
            try:
                self.load_item(record)
            except (wordpress.WXRError, ImportFailed):
                raise
            except Exception as exc:
                raise ImportFailed(f"{record.label()}: {type(exc).__name__}: {exc}") from exc
        for page, parent_wp_id in self._pending_parents:
            parent = self.mapped(Kind.PAGE, parent_wp_id)
            if parent is not None and parent.page_id != page.parent_id:
                page.parent_id = parent.page_id
                page.save(update_fields=["parent"])
        self.flush()
        add_attachment_redirects(self)
        add_archive_redirects(self)
        self.flush()
        if self.comment_count:
            self.summary.note_counts["comments are not imported (Clarion has no comments)"] = (
                self.comment_count
            )
        invalidate("a WordPress import")

    def mapped(self, kind: str, wp_id) -> WordPressObject | None:
        return WordPressObject.objects.filter(kind=kind, wp_id=str(wp_id)).first()

    def _record(self, kind, wp_id, obj_field: str, obj, digest: str, mapping=None, **extra):
        if mapping is None:
            mapping = WordPressObject(kind=kind, wp_id=str(wp_id))
        setattr(mapping, obj_field, obj)
        mapping.digest = digest
        for key, value in extra.items():
            setattr(mapping, key, value)
        mapping.save()

    # -- redirects -------------------------------------------------------------------------

    def redirect(
        self,
        old_path: str | None,
        *,
        post: Post | None = None,
        target: str = "",
        new_path: str | None = None,
        explicit: bool = True,
    ) -> None:
        """Make ``old_path`` answer 301 to ``post`` or ``target``, unless it already is the
        new address. A guessed path (``explicit=False``) never replaces an existing row."""
        if not old_path:
            return
        old_path = old_path[: Redirect._meta.get_field("old_path").max_length]
        new_path = new_path if new_path is not None else unquote(target)
        if unquote(old_path) == new_path:
            return
        self.redirects.add(old_path, post.pk if post else None, target, explicit=explicit)

    def flush(self) -> None:
        if self._mappings:
            WordPressObject.objects.bulk_create(self._mappings)
            self._mappings = []
        self.redirects.flush()


_RESIZED = re.compile(r"-\d+x\d+(\.\w+)$")
