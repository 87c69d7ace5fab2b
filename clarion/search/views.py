from __future__ import annotations

import math

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from clarion.posts.models import attach_terms
from clarion.web.throttle import throttle

from .backends import get_search_backend
from .query import MAX_QUERY_CHARS, parse

PER_PAGE = 10
SUGGESTIONS = 8


def _page_number(request) -> int:
    raw = request.GET.get("page", "1")
    try:
        number = int(raw)
    except ValueError:
        raise Http404("No such page") from None
    if number < 1:
        raise Http404("No such page")
    return number


@require_GET
def results(request):
    number = _page_number(request)
    query = parse(request.GET.get("q", ""))
    context = {"query": query.text, "truncated": query.truncated, "hits": [], "total": 0}
    if not query.text:
        context["message"] = "Type a word or a phrase to search the posts."
    elif not query.searchable:
        context["message"] = (
            "Add a word to look for: this search only excludes words, or has no letters or "
            "digits in it."
        )
    else:
        found = get_search_backend().search(query, offset=(number - 1) * PER_PAGE, limit=PER_PAGE)
        # A backend may have read the hits' categories with them (PostgreSQL does).
        attach_terms([h.post for h in found.hits if not hasattr(h.post, "listed_categories")])
        num_pages = max(1, math.ceil(found.total / PER_PAGE))
        if number > num_pages:
            raise Http404("No such page")
        context.update(
            hits=found.hits,
            total=found.total,
            capped=found.capped,
            number=number,
            num_pages=num_pages,
            first_rank=(number - 1) * PER_PAGE + 1,
            prev_url=_url(query.text, number - 1) if number > 1 else "",
            next_url=_url(query.text, number + 1) if number < num_pages else "",
        )
    response = render(request, "search/results.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


def _url(text: str, number: int) -> str:
    params = {"q": text} if number == 1 else {"q": text, "page": number}
    return "?" + urlencode(params)


@require_GET
@throttle("suggest", methods=("GET",))
def suggest(request):
    """Titles of live posts matching what is typed so far, for the search box."""
    text = request.GET.get("q", "")[:MAX_QUERY_CHARS]
    suggestions = get_search_backend().suggest(text, limit=SUGGESTIONS)
    response = JsonResponse(
        {"q": text, "results": [{"title": s.title, "url": s.url} for s in suggestions]}
    )
    # Typing re-asks for the same prefixes; a short private cache spares the server.
    response["Cache-Control"] = "private, max-age=60"
    response["X-Robots-Tag"] = "noindex"
    return response
