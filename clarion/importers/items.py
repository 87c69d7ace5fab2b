"""Posts and pages: a WordPress item becomes a Clarion post or page, with its old addresses
redirected. Part of the import in clarion.importers.load."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote

from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.text import slugify

from clarion.posts.middleware import local_path
from clarion.posts.models import Page, Post
from clarion.posts.services import normalise_status

from . import content, wordpress
from .models import WordPressObject
from .summary import cut, values_digest

Kind = WordPressObject.Kind

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


class Items:
    """The import's steps for posts and pages (mixed into its ``_Import``)."""

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
        title = cut(item.title, Post, "title") or f"Untitled {item.wp_id}"
        slug = item.slug or slugify(item.title, allow_unicode=True) or f"post-{item.wp_id}"
        explicit, guessed = self.old.item_paths(item)
        values = {
            "title": title,
            "slug": cut(slug, Post, "slug"),
            "body": converted.markdown,
            "excerpt": wordpress.plain(item.excerpt),
            "status": status,
            "published_at": published_at,
            "author": author.pk if author else None,
            "sticky": item.sticky,
            "categories": sorted(categories),
            "tags": sorted(set(tags)),
            "featured_image": featured,
            "featured_image_alt": cut(featured_alt, Post, "featured_image_alt"),
            "redirects": [explicit, guessed],
        }
        digest = values_digest(values)
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
        slug = cut(slug, Page, "slug")
        # ``https://old.test//evil.example/`` must not become a page (and redirect target)
        # that a browser reads as another host.
        path = local_path(self.old.path_of(item.link) or "")
        if not path or "?" in path or path == "/":
            path = f"{parent.path if parent else '/'}{slug}/"
        if _is_route(path):
            self.summary.note(
                "pages at an address Clarion uses itself (change the path in the admin)", label
            )
        explicit, _ = self.old.item_paths(item)
        values = {
            "title": cut(item.title, Page, "title") or f"Untitled {item.wp_id}",
            "slug": slug,
            "path": cut(path, Page, "path"),
            "body": converted.markdown,
            "status": status,
            "parent": item.parent_id,
            "redirects": explicit,
        }
        digest = values_digest(values)
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


def _is_route(path: str) -> bool:
    """Whether a Clarion view answers at ``path`` (so a page there would never be served)."""
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _offset(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
