from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from .models import (
    Page,
    Post,
    Redirect,
    SiteSettings,
    attach_terms,
    author_listing,
    author_with_slug,
    category_listing,
    category_with_slug,
    default_category_listing,
    home_listing,
    live_post,
    neighbours,
    period_listing,
    posts_with_ids,
    tag_listing,
    tag_with_slug,
)
from .share import share_links


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def _page(request, queryset, *, base_path: str):
    """Paginate at /…/page/N/ (WordPress's addresses); a page past the end is a 404."""
    per_page = SiteSettings.load().posts_per_page or 10
    paginator = Paginator(queryset, per_page, allow_empty_first_page=True)
    number = request.resolver_match.kwargs.get("page", 1)
    try:
        page = paginator.page(number)
    except (EmptyPage, PageNotAnInteger):
        raise Http404("No such page") from None
    page.base_path = base_path
    return page


def posts_in_order(ids, *, tags: bool = False) -> list[Post]:
    """The posts with these ids, in that order, ready for a listing (``attach_terms``)."""
    return attach_terms(posts_with_ids(list(ids)), tags=tags)


def page_url(base_path: str, number: int) -> str:
    return base_path if number == 1 else f"{base_path}page/{number}/"


def _listing(request, *, queryset, base_path, template="posts/archive.html", **context):
    # Paginate ids, then load only that page's posts: sorting whole rows (bodies and all)
    # to keep ten made each archive page copy megabytes through SQLite's sorter.
    # A prepared listing (models.home_listing and the rest) already gives ids.
    ids = queryset.values_list("pk", flat=True) if isinstance(queryset, QuerySet) else queryset
    page = _page(request, ids, base_path=base_path)
    page.object_list = posts_in_order(page.object_list)
    context.update(
        page=page,
        posts=page.object_list,
        prev_url=page_url(base_path, page.previous_page_number()) if page.has_previous() else "",
        next_url=page_url(base_path, page.next_page_number()) if page.has_next() else "",
        canonical=absolute(page_url(base_path, page.number)),
    )
    return render(request, template, context)


@require_GET
def home(request, page=1):
    # WordPress addresses that land on the home page: /?s=… and /?p=123.
    if "s" in request.GET:
        return redirect("/search/?" + urlencode({"q": request.GET["s"]}))
    if any(k in request.GET for k in ("p", "page_id", "cat", "tag", "author", "m")):
        found = Redirect.objects.filter(old_path=request.get_full_path()).first()
        if found is None or (found.post_id and not found.post.is_live):
            raise Http404("No such post")
        return HttpResponsePermanentRedirect(found.destination())
    listing = home_listing.bind(now=timezone.now())
    return _listing(request, queryset=listing, base_path="/", template="posts/home.html")


@require_GET
def post_detail(request, year, month, day, slug):
    post = live_post(slug)
    if post is None:
        raise Http404("No such post")
    # request.path is decoded, a reversed URL is percent-encoded: compare like with like,
    # or a non-ASCII slug would redirect to itself for ever.
    if escape_uri_path(request.path) != post.get_absolute_url():
        return HttpResponsePermanentRedirect(post.get_absolute_url())
    return _render_post(request, post)


def may_preview(user, post: Post) -> bool:
    """The editor's rule for seeing a post (clarion/editor/permissions.py, PostAdmin's
    has_view_permission): editors see every post, everyone else with post permissions only
    their own. Written with permission names here because posts sit below the editor."""
    if not (user.is_active and user.is_staff):
        return False
    if not (user.has_perm("posts.view_post") or user.has_perm("posts.change_post")):
        return False
    if user.has_perm("editor.edit_any_post"):
        return True
    return post.author is not None and post.author.user_id == user.pk


@staff_member_required
def draft_preview(request, token):
    """A post, live or not, at its unguessable preview address, for those the editor shows
    it to. Anyone else gets the same 404 as for an address that does not exist, so the
    answer does not tell which addresses belong to a post."""
    post = Post.objects.select_related("author").filter(preview_token=token).first()
    if post is None or not may_preview(request.user, post):
        raise Http404("No such post")
    response = _render_post(request, post, preview=True)
    response["X-Robots-Tag"] = "noindex"
    return response


def _render_post(request, post: Post, preview: bool = False):
    attach_terms([post], tags=True)
    url = absolute(post.get_absolute_url())
    previous_post, newer_post = neighbours(post)
    context = {
        "post": post,
        "categories": post.listed_categories,
        "tags": post.listed_tags,
        "preview": preview,
        "canonical": url,
        "share_links": share_links(url, post.title),
        "share_url": url,
        "previous_post": previous_post,
        "newer_post": newer_post,
        "sidebar_author": post.author,
        "json_ld": _json_ld(post, url),
    }
    return render(request, "posts/detail.html", context)


def _json_ld(post: Post, url: str) -> str:
    site = SiteSettings.load()
    data = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.summary,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": post.published_at.isoformat(timespec="seconds")
        if post.published_at
        else None,
        "dateModified": post.updated_at.isoformat(timespec="seconds") if post.updated_at else None,
        "publisher": {"@type": "Organization", "name": site.title},
        "wordCount": post.word_count(),
    }
    if post.author:
        data["author"] = {
            "@type": "Person",
            "name": post.author.display_name,
            "url": absolute(post.author.get_absolute_url()),
        }
    if post.featured_image:
        data["image"] = absolute(post.featured_image.url)
    # Escape "<" so a title cannot close the <script> element it sits in.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


@require_GET
def category(request, slug, page=1):
    cat = category_with_slug(slug)
    if cat is None:
        raise Http404("No such category")
    # A post with no category is in the default one. No DISTINCT: a post is in a category
    # once (tests/posts/test_archives.py checks both), and DISTINCT made counting a
    # category's posts sort them all.
    default = cat == SiteSettings.load().get_default_category()
    listing = default_category_listing if default else category_listing
    return _listing(
        request,
        queryset=listing.bind(now=timezone.now(), category=cat.pk),
        base_path=cat.get_absolute_url(),
        heading=cat.name,
        kind="Category",
        description=cat.description,
        feed_url=reverse("posts:category_feed", args=[cat.slug]),
    )


@require_GET
def tag(request, slug, page=1):
    t = tag_with_slug(slug)
    if t is None:
        raise Http404("No such tag")
    return _listing(
        request,
        queryset=tag_listing.bind(now=timezone.now(), tag=t.pk),
        base_path=t.get_absolute_url(),
        heading=t.name,
        kind="Tag",
    )


@require_GET
def author(request, slug, page=1):
    a = author_with_slug(slug)
    if a is None:
        raise Http404("No such author")
    return _listing(
        request,
        queryset=author_listing.bind(now=timezone.now(), author=a.pk),
        base_path=a.get_absolute_url(),
        heading=a.display_name,
        kind="Author",
        archive_author=a,
        sidebar_author=a,
    )


def _local_range(start: datetime, end: datetime):
    tz = SiteSettings.load().tzinfo
    return timezone.make_aware(start, tz), timezone.make_aware(end, tz)


@require_GET
def year_archive(request, year, page=1):
    year = int(year)
    if not 1 <= year <= 9998:
        raise Http404
    start, end = _local_range(datetime(year, 1, 1), datetime(year + 1, 1, 1))
    return _listing(
        request,
        queryset=period_listing.bind(now=timezone.now(), start=start, end=end),
        base_path=reverse("posts:year", args=[year]),
        heading=str(year),
        kind="Year",
    )


@require_GET
def month_archive(request, year, month, page=1):
    year, month = int(year), int(month)
    if not (1 <= year <= 9998 and 1 <= month <= 12):
        raise Http404
    first = datetime(year, month, 1)
    following = (first + timedelta(days=32)).replace(day=1)
    start, end = _local_range(first, following)
    return _listing(
        request,
        queryset=period_listing.bind(now=timezone.now(), start=start, end=end),
        base_path=reverse("posts:month", args=[year, f"{month:02d}"]),
        heading=first.strftime("%B %Y"),
        kind="Month",
    )


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /preview/",
        "Disallow: /search/",
        "Disallow: /subscribe/",
        "Disallow: /unsubscribe/",
        f"Sitemap: {absolute(reverse('django.contrib.sitemaps.views.sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


_SERVER = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


# The form posts here and is redirected to the reader's server, and browsers apply
# form-action to that redirect too: this page alone may send a form on to any https site.
@csp_update({"form-action": ["https:"]})
def share_mastodon(request):
    """Mastodon has no single server: ask for the reader's, then hand over to its share page."""
    url = request.GET.get("url", "")[:2000]
    text = request.GET.get("text", "")[:500]
    error = ""
    server = request.POST.get("server", "") if request.method == "POST" else ""
    if request.method == "POST":
        url = request.POST.get("url", "")[:2000]
        text = request.POST.get("text", "")[:500]
        server = server.strip().lower().removeprefix("https://").removeprefix("@").strip("/")
        if "@" in server:
            server = server.rsplit("@", 1)[1]
        if not url.startswith(settings.SITE_URL + "/"):
            error = "Only this site's posts can be shared from here."
        elif _SERVER.match(server):
            share = f"https://{server}/share?" + urlencode({"text": f"{text} {url}"})
            return redirect(share)
        else:
            error = "Enter your Mastodon server's name, such as mastodon.social."
    return render(
        request,
        "posts/share_mastodon.html",
        {"share_url": url, "share_text": text, "server": server, "error": error},
        status=400 if error else 200,
    )


def page_detail(request, page: Page):
    """A published static page; reached from the 404 fallback (see middleware.py)."""
    return render(
        request,
        "posts/page.html",
        {"page": page, "canonical": absolute(escape_uri_path(page.path))},
    )
