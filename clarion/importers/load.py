"""Turn a parsed WordPress export into Clarion's authors, categories, tags, posts, pages,
media and redirects: in one transaction, matched by WordPress ID, writing only what changed.

Importing never announces a post: posts are saved directly, not through
``clarion.posts.services.post_saved``, so ``post_published`` (and its emails) never fires for
content that was already public on WordPress.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from django.db import transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.text import slugify

from clarion.posts.models import (
    Author,
    Category,
    Page,
    Post,
    Redirect,
    SiteSettings,
    Tag,
)
from clarion.posts.services import normalise_status
from clarion.web.cache import invalidate

from . import content, wordpress
from .media import MediaLibrary
from .models import WordPressObject
from .permalinks import OldSite
from .redirects import RedirectBatch, add_archive_redirects, add_attachment_redirects

Kind = WordPressObject.Kind
MAX_EXAMPLES = 5
KINDS = ["authors", "categories", "tags", "attachments", "posts", "pages", "redirects"]
OUTCOMES = ["created", "updated", "unchanged", "skipped"]

_INTERNAL = "WordPress's own records (reusable blocks, templates, styles) are not imported"
SKIPPED_TYPES = {
    "nav_menu_item": "menus are not imported",
    "wp_navigation": "menus are not imported",
    "revision": "revisions are not imported",
    **dict.fromkeys(
        ["wp_block", "wp_template", "wp_template_part", "wp_global_styles", "custom_css",
         "customize_changeset", "oembed_cache", "user_request"],
        _INTERNAL,
    ),
}  # fmt: skip


class ImportFailed(Exception):
    """An item could not be imported; the message names it. Nothing was written."""


@dataclass
class Summary:
    dry_run: bool = False
    counts: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    note_counts: Counter = field(default_factory=Counter)
    _last_example: dict[str, str] = field(default_factory=dict)

    def count(self, kind: str, outcome: str) -> None:
        self.counts[kind][outcome] += 1

    def note(self, reason: str, example: str = "") -> None:
        """Count ``reason`` once per distinct example in a row; keep the first few examples
        (a 500 MB export must not grow an unbounded list)."""
        if example and self._last_example.get(reason) == example:
            return
        self._last_example[reason] = example
        self.note_counts[reason] += 1
        if len(self.notes[reason]) < MAX_EXAMPLES and example:
            self.notes[reason].append(example)

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())


@dataclass(slots=True)
class Attachment:
    wp_id: int
    rel: str | None
    parent_id: int
    alt: str
    item: wordpress.Item | None = None
    name: str | None = None  # storage name once copied


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


def _digest(values: dict) -> str:
    values = {**values, "_converter": content.CONVERTER_VERSION}
    raw = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _cut(value: str, model, field_name: str) -> str:
    return value[: model._meta.get_field(field_name).max_length]


class _Import:
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

    # -- authors, categories, tags ---------------------------------------------------------

    def author_for(self, login: str) -> Author | None:
        login = login.strip()
        if not login:
            return None
        if login in self.author_objs:
            return self.author_objs[login]
        wp = self.authors.get(login) or wordpress.Author(login=login)
        slug = _cut(slugify(login, allow_unicode=True), Author, "slug") or "author"
        values = {"display_name": _cut(wp.name, Author, "display_name")}
        digest = _digest(values)
        mapping = self.mapped(Kind.AUTHOR, login)
        author = mapping.author if mapping else None
        if author is None:
            author = (
                Author.objects.filter(user__username=login).first()
                or Author.objects.filter(slug=slug).first()
            )
            if author is None:
                author = Author.objects.create(slug=slug, **values)
                self.summary.count("authors", "created")
            else:
                self.summary.count("authors", "unchanged")  # an existing profile is kept
            self._record(Kind.AUTHOR, login, "author", author, digest, mapping)
        elif mapping.digest != digest:
            author.display_name = values["display_name"]
            author.save()
            self._record(Kind.AUTHOR, login, "author", author, digest, mapping)
            self.summary.count("authors", "updated")
        else:
            self.summary.count("authors", "unchanged")
        self.author_objs[login] = author
        return author

    def load_terms(self) -> None:
        for term in self.terms.values():
            self.term_for(term.taxonomy, term.slug, term.name)
        for term in self.terms.values():
            if term.taxonomy == "category" and term.parent_slug:
                child = self.term_for("category", term.slug, term.name)
                parent = self.term_for("category", term.parent_slug, term.parent_slug)
                if child.parent_id != parent.pk:
                    child.parent = parent
                    child.save(update_fields=["parent"])

    def term_for(self, taxonomy: str, slug: str, name: str) -> Category | Tag:
        key = (taxonomy, slug)
        if key in self.term_objs:
            return self.term_objs[key]
        model, kind, kind_label = (
            (Category, Kind.CATEGORY, "categories")
            if taxonomy == "category"
            else (Tag, Kind.TAG, "tags")
        )
        declared = self.terms.get(key)
        wp_id = str(declared.term_id) if declared and declared.term_id else f"slug:{slug}"
        values = {"name": _cut(declared.name if declared else name, model, "name")}
        if model is Category:
            values["description"] = declared.description if declared else ""
            values["parent"] = declared.parent_slug if declared else ""
        digest = _digest(values)
        values.pop("parent", None)
        mapping = self.mapped(kind, wp_id)
        obj = getattr(mapping, model._meta.model_name) if mapping else None
        clarion_slug = _cut(slug, model, "slug") or slugify(values["name"], allow_unicode=True)
        if obj is None:
            obj = model.objects.filter(slug=clarion_slug).first()
            if obj is None:
                obj = model.objects.create(slug=clarion_slug or None, **values)
                self.summary.count(kind_label, "created")
            else:
                self.summary.count(kind_label, "unchanged")  # adopt the site's own term
            self._record(kind, wp_id, model._meta.model_name, obj, digest, mapping)
        elif mapping.digest != digest:
            for attr, value in values.items():
                setattr(obj, attr, value)
            obj.save()
            self._record(kind, wp_id, model._meta.model_name, obj, digest, mapping)
            self.summary.count(kind_label, "updated")
        else:
            self.summary.count(kind_label, "unchanged")
        self.term_objs[key] = obj
        return obj

    # -- media -----------------------------------------------------------------------------

    def load_attachments(self) -> None:
        for att in self.attachments.values():
            try:
                self._load_attachment(att)
            except Exception as exc:
                label = att.item.label() if att.item else f"attachment {att.wp_id}"
                raise ImportFailed(f"{label}: {type(exc).__name__}: {exc}") from exc

    def _load_attachment(self, att: Attachment) -> None:
        label = f"attachment {att.wp_id}"
        if not att.rel:
            self.summary.count("attachments", "skipped")
            self.summary.note("attachment without a file address", label)
            return
        att.name = self.media.store(att.rel, label)
        if att.name is None:
            self.summary.count("attachments", "skipped")
            return
        digest = _digest({"file": att.name})
        mapping = self.mapped(Kind.ATTACHMENT, att.wp_id)
        if mapping is None:
            self._record(Kind.ATTACHMENT, att.wp_id, "file", att.name, digest)
            self.summary.count("attachments", "created")
        elif mapping.digest != digest:
            self._record(Kind.ATTACHMENT, att.wp_id, "file", att.name, digest, mapping)
            self.summary.count("attachments", "updated")
        else:
            self.summary.count("attachments", "unchanged")
        old = self.old.path_of(self.old.absolute("/wp-content/uploads/" + att.rel))
        self.redirect(old, target=self.media.url(att.name))

    def attachment_lookup(self, wp_id: int):
        att = self.attachments.get(wp_id)
        if att is None or att.name is None:
            return None
        return self.media.url(att.name), att.alt

    # -- posts and pages -------------------------------------------------------------------

    def load_item(self, item: wordpress.Item) -> None:
        if item.post_type == "attachment":
            return
        if item.post_type == "post":
            self.load_post(item)
        elif item.post_type == "page":
            self.load_page(item)
        else:
            reason = SKIPPED_TYPES.get(item.post_type, f"post type “{item.post_type}” not imported")
            self.summary.note(reason, f"ID {item.wp_id}")

    def _skip_status(self, item: wordpress.Item, kind: str) -> bool:
        if item.status in ("trash", "auto-draft", "inherit"):
            self.summary.count(kind, "skipped")
            self.summary.note(
                f"{kind} in WordPress's trash or never saved (status {item.status})",
                f"ID {item.wp_id} {item.title}".strip(),
            )
            return True
        return False

    def _date(self, item: wordpress.Item) -> datetime | None:
        if item.date_gmt is not None:
            self._check_time_zone(item)
            return item.date_gmt
        if item.date_local is not None:
            return timezone.make_aware(item.date_local, self.site_settings.tzinfo)
        return None

    def _check_time_zone(self, item: wordpress.Item) -> None:
        if self._tz_checked or item.date_local is None:
            return
        self._tz_checked = True
        wp_offset = item.date_local - item.date_gmt.replace(tzinfo=None)
        ours = item.date_gmt.astimezone(self.site_settings.tzinfo).utcoffset()
        if wp_offset != ours:
            self.summary.note(
                f"WordPress dated posts at UTC{_offset(wp_offset)} but the site's time zone "
                f"({self.site_settings.time_zone}) is UTC{_offset(ours)} then: set it in Site "
                "settings and import again if dated addresses should match (old ones redirect "
                "either way)",
                item.label(),
            )

    def _convert(self, item: wordpress.Item, referrer: str) -> content.Converted:
        self._current_item = item
        converted = content.convert(
            item.content,
            rewrite_url=lambda url: self.media.rewrite(url, referrer),
            attachment=self.attachment_lookup,
        )
        for note in converted.notes:
            self.summary.note(note, referrer)
        return converted

    def load_post(self, item: wordpress.Item) -> None:
        if self._skip_status(item, "posts"):
            return
        label = f"post {item.wp_id} “{item.title}”"
        status = {"publish": Post.Status.PUBLISHED, "future": Post.Status.SCHEDULED}.get(
            item.status, Post.Status.DRAFT
        )
        if item.status == "private":
            self.summary.note("private posts imported as drafts", label)
        elif item.status == "pending":
            self.summary.note("posts pending review imported as drafts", label)
        if item.password and status != Post.Status.DRAFT:
            status = Post.Status.DRAFT
            self.summary.note("password-protected posts imported as drafts", label)
        published_at = self._date(item)
        if status == Post.Status.DRAFT and item.date_gmt is None:
            published_at = None  # WordPress has not dated a draft yet
        converted = self._convert(item, label)
        categories = [
            self.term_for("category", t.slug, t.name).pk
            for t in item.terms
            if t.taxonomy == "category"
        ]
        if not categories:
            if self._default_category is None:
                self._default_category = self.site_settings.get_default_category()
            categories = [self._default_category.pk]
        tags = [
            self.term_for("post_tag", t.slug, t.name).pk
            for t in item.terms
            if t.taxonomy == "post_tag"
        ]
        author = self.author_for(item.creator)
        featured, featured_alt = "", ""
        thumbnail = item.first_meta("_thumbnail_id")
        if thumbnail.isdigit():
            att = self.attachments.get(int(thumbnail))
            if att is not None and att.name:
                featured, featured_alt = att.name, att.alt
            else:
                self.summary.note("featured image not available", label)
        title = _cut(item.title, Post, "title") or f"Untitled {item.wp_id}"
        slug = item.slug or slugify(item.title, allow_unicode=True) or f"post-{item.wp_id}"
        explicit, guessed = self.old.item_paths(item)
        values = {
            "title": title,
            "slug": _cut(slug, Post, "slug"),
            "body": converted.markdown,
            "excerpt": wordpress.plain(item.excerpt),
            "status": status,
            "published_at": published_at,
            "author": author.pk if author else None,
            "sticky": item.sticky,
            "categories": sorted(categories),
            "tags": sorted(set(tags)),
            "featured_image": featured,
            "featured_image_alt": _cut(featured_alt, Post, "featured_image_alt"),
            "redirects": [explicit, guessed],
        }
        digest = _digest(values)
        known = self._post_mappings.get(str(item.wp_id))
        if known is not None and known[2] == digest:
            self.summary.count("posts", "unchanged")
            return
        post = Post.objects.get(pk=known[1]) if known else Post()
        post.title = title
        post.slug = self._unique_slug(Post.objects.all(), values["slug"], post.pk)
        post.body = values["body"]
        post.excerpt = values["excerpt"]
        post.status = status
        post.published_at = published_at
        post.author = author
        post.sticky = item.sticky
        post.featured_image = featured
        post.featured_image_alt = values["featured_image_alt"]
        before = post.status
        normalise_status(post)
        if before == Post.Status.SCHEDULED and post.status == Post.Status.PUBLISHED:
            self.summary.note("scheduled posts whose date has passed imported as published", label)
        post.save()
        if known:
            post.categories.set(categories)
            post.tags.set(set(tags))
            WordPressObject.objects.filter(pk=known[0]).update(digest=digest)
            self.summary.count("posts", "updated")
        else:
            # A new post has no rows yet: insert them directly (one query each).
            Post.categories.through.objects.bulk_create(
                [Post.categories.through(post_id=post.pk, category_id=c) for c in categories]
            )
            Post.tags.through.objects.bulk_create(
                [Post.tags.through(post_id=post.pk, tag_id=t) for t in set(tags)]
            )
            self._mappings.append(
                WordPressObject(kind=Kind.POST, wp_id=str(item.wp_id), post=post, digest=digest)
            )
            self._post_mappings[str(item.wp_id)] = (0, post.pk, digest)
            self.summary.count("posts", "created")
        new_path = unquote(post.get_absolute_url())
        for path in explicit:
            self.redirect(path, post=post, new_path=new_path)
        for path in guessed:
            self.redirect(path, post=post, new_path=new_path, explicit=False)

    def load_page(self, item: wordpress.Item) -> None:
        if self._skip_status(item, "pages"):
            return
        label = f"page {item.wp_id} “{item.title}”"
        status = Page.Status.PUBLISHED if item.status == "publish" else Page.Status.DRAFT
        if item.status != "publish":
            self.summary.note(f"pages with status “{item.status}” imported as drafts", label)
        if item.password and status == Page.Status.PUBLISHED:
            status = Page.Status.DRAFT
            self.summary.note("password-protected pages imported as drafts", label)
        converted = self._convert(item, label)
        parent_map = self.mapped(Kind.PAGE, item.parent_id) if item.parent_id else None
        parent = parent_map.page if parent_map else None
        slug = item.slug or slugify(item.title, allow_unicode=True) or f"page-{item.wp_id}"
        slug = _cut(slug, Page, "slug")
        path = self.old.path_of(item.link)
        if not path or "?" in path or path == "/":
            path = f"{parent.path if parent else '/'}{slug}/"
        if _is_route(path):
            self.summary.note(
                "pages at an address Clarion uses itself (change the path in the admin)", label
            )
        explicit, _ = self.old.item_paths(item)
        values = {
            "title": _cut(item.title, Page, "title") or f"Untitled {item.wp_id}",
            "slug": slug,
            "path": _cut(path, Page, "path"),
            "body": converted.markdown,
            "status": status,
            "parent": item.parent_id,
            "redirects": explicit,
        }
        digest = _digest(values)
        mapping = self.mapped(Kind.PAGE, item.wp_id)
        if mapping is not None and mapping.digest == digest:
            self.summary.count("pages", "unchanged")
            return
        page = mapping.page if mapping else Page()
        page.title = values["title"]
        page.slug = slug
        page.path = self._unique_path(values["path"], page.pk)
        page.body = values["body"]
        page.status = status
        page.parent = parent
        page.save()
        if item.parent_id and parent is None:
            self._pending_parents.append((page, item.parent_id))
        self._record(Kind.PAGE, item.wp_id, "page", page, digest, mapping)
        self.summary.count("pages", "updated" if mapping else "created")
        for old in explicit:
            self.redirect(old, target=page.path)

    @staticmethod
    def _unique_slug(queryset, slug: str, pk) -> str:
        candidate, n = slug, 1
        while queryset.filter(slug=candidate).exclude(pk=pk).exists():
            n += 1
            candidate = f"{slug[:190]}-{n}"
        return candidate

    @staticmethod
    def _unique_path(path: str, pk) -> str:
        candidate, n = path, 1
        while Page.objects.filter(path=candidate).exclude(pk=pk).exists():
            n += 1
            candidate = f"{path.rstrip('/')[:480]}-{n}/"
        return candidate

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


def _is_route(path: str) -> bool:
    """Whether a Clarion view answers at ``path`` (so a page there would never be served)."""
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


_RESIZED = re.compile(r"-\d+x\d+(\.\w+)$")


def _offset(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
