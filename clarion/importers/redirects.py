"""Redirect rows written a batch at a time: one query to read a thousand old paths, one to
insert the new ones, instead of three queries (and a cache bump) per row."""

from __future__ import annotations

from urllib.parse import unquote

from django.urls import NoReverseMatch, reverse

from clarion.posts.models import Redirect

from .models import WordPressObject
from .permalinks import FEED_SUFFIXES, SITE_FEEDS, wp_quote

Kind = WordPressObject.Kind

BATCH = 1000


class RedirectBatch:
    def __init__(self, summary, *, before_flush):
        self.summary = summary
        self.before_flush = before_flush  # rows the redirects point at must exist first
        self.pending: dict[str, tuple[int | None, str, bool]] = {}

    def add(self, old_path: str, post_id: int | None, target: str, *, explicit: bool) -> None:
        """Queue ``old_path`` → post or target. The first explicit claim on a path wins; a
        guessed one (``explicit=False``) never replaces another claim or an existing row."""
        queued = self.pending.get(old_path)
        if queued is not None and not (explicit and not queued[2]):
            return
        self.pending[old_path] = (post_id, "" if post_id else target, explicit)
        if len(self.pending) >= BATCH:
            self.before_flush()

    def flush(self) -> None:
        if not self.pending:
            return
        existing = {r.old_path: r for r in Redirect.objects.filter(old_path__in=list(self.pending))}
        new = []
        for old_path, (post_id, target, explicit) in self.pending.items():
            row = existing.get(old_path)
            if row is None:
                new.append(Redirect(old_path=old_path, post_id=post_id, target=target))
                self.summary.count("redirects", "created")
            elif (row.post_id, row.target) == (post_id, target) or not explicit:
                self.summary.count("redirects", "unchanged")
            else:
                row.post_id, row.target = post_id, target
                row.save(update_fields=["post", "target"])
                self.summary.count("redirects", "updated")
        # bulk_create sends no post_save: the content generation is bumped once, at the end.
        Redirect.objects.bulk_create(new)
        self.pending = {}


def add_attachment_redirects(run) -> None:
    """Attachment pages → the post they belong to (or first appear in), else the file."""
    for att in run.attachments.values():
        if att.item is None:
            continue
        parent_id = att.parent_id
        _, user_id = run.first_use.get(att.rel or "", ("", 0))
        if not parent_id and user_id:
            parent_id = user_id
        parent = run.mapped(Kind.POST, parent_id) if parent_id else None
        page = run.mapped(Kind.PAGE, parent_id) if parent_id and not parent else None
        explicit, _ = run.old.item_paths(att.item)
        for path in explicit:
            if parent is not None:
                run.redirect(
                    path, post=parent.post, new_path=unquote(parent.post.get_absolute_url())
                )
            elif page is not None:
                run.redirect(path, target=page.page.path)
            elif att.name:
                run.redirect(path, target=run.media.url(att.name))
            else:
                run.summary.count("redirects", "skipped")
                run.summary.note(
                    "attachment page with no parent post and no file: no redirect",
                    f"{path} (attachment {att.wp_id})",
                )


def add_archive_redirects(run) -> None:
    """Category, tag and author archives, their feeds and ?cat=/?tag=/?author= links."""
    by_slug = {slug: t for (tax, slug), t in run.terms.items() if tax == "category"}
    for (taxonomy, slug), term in run.terms.items():
        obj = run.term_objs[(taxonomy, slug)]
        new = unquote(obj.get_absolute_url())
        if taxonomy == "category":
            chain, seen, current = [slug], {slug}, term
            while current and current.parent_slug and current.parent_slug not in seen:
                chain.insert(0, current.parent_slug)
                seen.add(current.parent_slug)
                current = by_slug.get(current.parent_slug)
            old = run.old.category_path(chain)
            feed = unquote(reverse("posts:category_feed", args=[obj.slug]))
            query = ("cat", term.term_id) if term.term_id else None
        else:
            old = run.old.tag_path(slug)
            feed = _reverse_or("posts:tag_feed", obj.slug, new)
            query = ("tag", wp_quote(slug))
        run.redirect(old, target=new)
        for suffix in FEED_SUFFIXES:
            run.redirect(old + suffix, target=feed)
        if query:
            run.redirect(run.old.query_path(*query), target=new)
    for login, author in run.authors.items():
        obj = run.author_objs.get(login)
        if obj is None:
            continue
        new = unquote(obj.get_absolute_url())
        old = run.old.author_path(login)
        run.redirect(old, target=new)
        run.redirect(old + "feed/", target=_reverse_or("posts:author_feed", obj.slug, new))
        if author.wp_id:
            run.redirect(run.old.query_path("author", author.wp_id), target=new)
    if run.old.prefix:
        run.redirect(f"{run.old.prefix}/", target="/")  # the blog's home page
    for suffix in SITE_FEEDS:
        run.redirect(f"{run.old.prefix}/{suffix}", target=reverse("posts:feed"))


def _reverse_or(name: str, slug: str, fallback: str) -> str:
    try:
        return unquote(reverse(name, args=[slug]))
    except NoReverseMatch:
        return fallback
