"""Plain substring matching, for a database without full-text search (SQLite built
without FTS5). No stemming and weak ranking, but every query still answers."""

from __future__ import annotations

import re
from datetime import datetime

from django.db.models import Case, IntegerField, Q, Value, When

from clarion.posts.models import Post

from ..documents import MARK_END, MARK_START
from ..models import SearchDocument
from ..query import Clause, Query, Term
from .base import BaseSearchBackend, Hit, marked_html

SNIPPET_CHARS = 220
FIELDS = ("title", "excerpt", "body", "terms")


def _text(term: Term) -> str:
    return " ".join(term.words)


def _term_q(term: Term, fields=FIELDS) -> Q:
    q = Q()
    for name in fields:
        q |= Q(**{f"{name}__icontains": _text(term)})
    return q


def _clause_q(clause: Clause, fields=FIELDS) -> Q:
    q = Q()
    for term in clause.terms:
        q |= _term_q(term, fields)
    return q


def highlight(text: str, words: list[str], prefixes: frozenset[str] = frozenset()) -> str:
    """Mark ``words`` in ``text``; a word in ``prefixes`` with the rest of its word."""
    if not words:
        return text
    pattern = re.compile(
        "|".join(
            re.escape(w) + (r"\w*" if w in prefixes else "")
            for w in sorted(set(words), key=len, reverse=True)
        ),
        re.I,
    )
    return pattern.sub(lambda m: MARK_START + m.group(0) + MARK_END, text)


def _prefixes(query: Query) -> frozenset[str]:
    return frozenset(t.words[-1] for c in query.positive for t in c.terms if t.prefix)


def snippet(text: str, words: list[str], prefixes: frozenset[str] = frozenset()) -> str:
    lowered = text.lower()
    positions = [p for p in (lowered.find(w.lower()) for w in words) if p >= 0]
    if not positions:
        return ""
    start = max(0, min(positions) - SNIPPET_CHARS // 3)
    piece = text[start : start + SNIPPET_CHARS]
    return (
        ("…" if start else "")
        + highlight(piece, words, prefixes)
        + ("…" if start + SNIPPET_CHARS < len(text) else "")
    )


class FallbackSearchBackend(BaseSearchBackend):
    name = "fallback"
    # A substring already matches every word that begins with it.
    expands_prefixes = False

    def _matches(self, query: Query, now: datetime):
        docs = SearchDocument.objects.filter(post__in=Post.objects.live(now))
        for clause in query.positive:
            docs = docs.filter(_clause_q(clause))
        for clause in query.negative:
            docs = docs.exclude(_clause_q(clause))
        return docs

    def _search(self, query: Query, *, offset: int, limit: int, now: datetime):
        title_q = Q()
        for clause in query.positive:
            title_q &= _clause_q(clause, fields=("title",))
        docs = (
            self._matches(query, now)
            .annotate(
                score=Case(
                    When(title_q, then=Value(2)), default=Value(1), output_field=IntegerField()
                )
            )
            .order_by("-score", "-post__published_at", "-post_id")
        )
        total = docs.count()
        words, prefixes = query.words, _prefixes(query)
        hits = []
        for doc in docs[offset : offset + limit]:
            text = (
                snippet(doc.body, words, prefixes)
                or snippet(doc.excerpt, words, prefixes)
                or doc.excerpt
            )
            hits.append(
                Hit(
                    post_id=doc.pk,
                    score=doc.score,
                    title_html=marked_html(highlight(doc.title, words, prefixes)),
                    snippet_html=marked_html(text),
                )
            )
        return hits, total

    def _count(self, query: Query, *, now: datetime) -> int:
        return self._matches(query, now).count()

    def _suggest(self, query: Query, *, limit: int, now: datetime) -> list[int]:
        docs = SearchDocument.objects.filter(post__in=Post.objects.live(now))
        for clause in query.positive:
            docs = docs.filter(_clause_q(clause, fields=("title",)))
        return list(docs.order_by("-post__published_at").values_list("pk", flat=True)[:limit])


SearchBackend = FallbackSearchBackend
