"""Authoring workflows: keeping and restoring revisions of a post."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clarion.posts import services as post_services
from clarion.posts.models import Post

from .models import Revision


def record_revision(*, post: Post, user=None, note: str = "") -> Revision:
    return Revision.record(post=post, user=user, note=note)


def restore_revision(*, revision: Revision, user) -> Revision:
    """Put the revision's title, body and excerpt back on its post (status and date are
    left alone) and keep that as a new revision."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=revision.post_id)
        was_live = post.status == Post.Status.PUBLISHED
        post.title = revision.title
        post.body = revision.body
        post.excerpt = revision.excerpt
        post.save()
        post_services.post_saved(post=post, was_live=was_live)
        stamp = timezone.localtime(revision.created_at).strftime("%d %b %Y %H:%M")
        return record_revision(post=post, user=user, note=f"Restored the version of {stamp}")


@dataclass
class DiffLine:
    kind: str  # "add" | "remove" | "context" | "hunk"
    text: str


def diff(older: Revision, newer: Revision) -> dict[str, list[DiffLine]]:
    """A unified diff per field, as lines the template escapes (never raw HTML)."""
    result = {}
    for field in ("title", "excerpt", "body"):
        a = getattr(older, field).splitlines()
        b = getattr(newer, field).splitlines()
        lines = []
        for line in difflib.unified_diff(a, b, lineterm="", n=3):
            if line.startswith(("---", "+++")):
                continue
            if line.startswith("@@"):
                lines.append(DiffLine("hunk", line))
            elif line.startswith("+"):
                lines.append(DiffLine("add", line[1:]))
            elif line.startswith("-"):
                lines.append(DiffLine("remove", line[1:]))
            else:
                lines.append(DiffLine("context", line[1:]))
        if lines:
            result[field] = lines
    return result
