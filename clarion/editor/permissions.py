"""Who may do what to a post: the server-side rules behind the four roles."""

from __future__ import annotations

from django.utils.text import slugify

from clarion.posts.models import Author, Post


def can_edit_any(user) -> bool:
    return user.is_active and user.has_perm("editor.edit_any_post")


def can_publish(user) -> bool:
    return user.is_active and (
        user.has_perm("editor.publish_post") or user.has_perm("editor.edit_any_post")
    )


def owns(user, post: Post) -> bool:
    return post.author_id is not None and post.author.user_id == user.pk


def can_change(user, post: Post) -> bool:
    """Editors change any post; authors their own; contributors their own drafts."""
    if can_edit_any(user):
        return True
    if not owns(user, post):
        return False
    return can_publish(user) or post.status == Post.Status.DRAFT


def own_author_profile(user) -> Author:
    """The user's public author profile, created on first use."""
    profile = Author.objects.filter(user=user).first()
    if profile is not None:
        return profile
    name = user.get_full_name() or user.get_username()
    base = slugify(name, allow_unicode=True)[:180] or "author"
    slug, n = base, 1
    while Author.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return Author.objects.create(user=user, display_name=name, slug=slug)
