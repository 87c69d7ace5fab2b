"""The publishing models, one module per concept, all importable from here
(``from clarion.posts.models import Post``): migrations and other apps name them so."""

from .listings import (
    attach_terms,
    author_listing,
    author_with_slug,
    category_listing,
    category_with_slug,
    default_category_listing,
    home_listing,
    latest_listing,
    live_post,
    neighbours,
    period_listing,
    posts_with_ids,
    tag_listing,
    tag_with_slug,
)
from .pages import Page, PageQuerySet
from .paths import public_path
from .post import Post, PostQuerySet, Redirect, permalink
from .site import SiteSettings, validate_time_zone
from .terms import Author, Category, Tag

__all__ = [
    "Author",
    "Category",
    "Page",
    "PageQuerySet",
    "Post",
    "PostQuerySet",
    "Redirect",
    "SiteSettings",
    "Tag",
    "attach_terms",
    "author_listing",
    "author_with_slug",
    "category_listing",
    "category_with_slug",
    "default_category_listing",
    "home_listing",
    "latest_listing",
    "live_post",
    "neighbours",
    "period_listing",
    "permalink",
    "posts_with_ids",
    "public_path",
    "tag_listing",
    "tag_with_slug",
    "validate_time_zone",
]
