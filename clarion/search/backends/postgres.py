"""PostgreSQL full-text search: a stored, weighted tsvector with a GIN index.

Title is weight A, excerpt and category/tag names B, body C. Queries are compiled clause by
clause into ``websearch_to_tsquery`` (words and phrases) and ``to_tsquery`` (prefixes, whose
only input is a quoted run of letters and digits), ranked by ``ts_rank_cd`` and highlighted
by ``ts_headline``. The text search configuration ``clarion_search`` is English stemming
with accents folded by ``unaccent`` (created by migration 0002 when the extension exists).
"""

from __future__ import annotations

from datetime import datetime
from functools import reduce

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Count, F, Subquery, Window

from clarion.posts.models import Post

from ..documents import MARK_END, MARK_START
from ..models import SearchDocument
from ..query import Clause, Query, Term
from .base import BaseSearchBackend, hits_in_rank_order

CONFIG = "clarion_search"


def title_vector() -> SearchVector:
    """The titles' own vector, under the GIN index of migration 0002 (suggestions)."""
    return SearchVector("title", config=CONFIG)


def title_vector_index():
    from django.contrib.postgres.indexes import GinIndex

    return GinIndex(title_vector(), name="search_doc_title_gin")


def title_vector_of_post() -> SearchVector:
    return SearchVector("search_document__title", config=CONFIG)


def search_vector():
    return (
        SearchVector("title", weight="A", config=CONFIG)
        + SearchVector("excerpt", "terms", weight="B", config=CONFIG)
        + SearchVector("body", weight="C", config=CONFIG)
    )


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _term(term: Term, weight: str = "") -> SearchQuery:
    if term.prefix or weight:
        lexemes = [_lexeme(w) + (f":{weight}" if weight else "") for w in term.words[:-1]]
        suffix = ("*" if term.prefix else "") + weight
        lexemes.append(_lexeme(term.words[-1]) + (f":{suffix}" if suffix else ""))
        return SearchQuery(" <-> ".join(lexemes), search_type="raw", config=CONFIG)
    text = " ".join(term.words)
    # Quoted, websearch_to_tsquery reads several words as a phrase; it never raises.
    return SearchQuery(
        f'"{text}"' if term.is_phrase else text, search_type="websearch", config=CONFIG
    )


def _clause(clause: Clause, weight: str = "") -> SearchQuery:
    return reduce(lambda a, b: a | b, (_term(t, weight) for t in clause.terms))


def tsquery(query: Query, weight: str = "") -> SearchQuery:
    compiled = reduce(lambda a, b: a & b, (_clause(c, weight) for c in query.positive))
    for clause in query.negative:
        compiled = compiled & ~_clause(clause)
    return compiled


class PostgresSearchBackend(BaseSearchBackend):
    name = "postgresql"

    def _write(self, docs, *, fresh: bool) -> None:
        super()._write(docs, fresh=fresh)
        if docs:
            SearchDocument.objects.filter(pk__in=[d.pk for d in docs]).update(
                search_vector=search_vector()
            )

    def _finish_rebuild(self) -> None:
        # Fresh statistics, or the planner may think the table tiny and test every
        # post's vector instead of asking the GIN index (seconds instead of milliseconds).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchdocument")

    def _matches(self, query: Query, now: datetime):
        return Post.objects.live(now).filter(search_document__search_vector=tsquery(query))

    def _ranked(self, q: SearchQuery, *, now: datetime, offset: int, limit: int) -> list:
        """Rows of (post id, score, total) for one page of live matches, best first.

        ts_rank_cd reads each match's whole tsvector: for a word found in most posts that
        takes seconds. Past ``rank_window`` matches, only the newest ``rank_window`` (by id,
        which the GIN index finds without reading the vectors) are ranked, and the total is
        ``rank_window + 1``, "more than the window": counting 90,000 matches took 1.7 s.
        """
        matching = SearchDocument.objects.filter(search_vector=q)
        windowed = matching[: self.rank_window + 1].count() > self.rank_window
        posts = Post.objects.live(now).filter(search_document__search_vector=q)
        if windowed:
            newest = matching.order_by("-post_id").values("post_id")[: self.rank_window]
            posts = posts.filter(pk__in=Subquery(newest))
        rows = list(
            posts.annotate(
                score=SearchRank(F("search_document__search_vector"), q, cover_density=True),
                total=Window(Count("id")),
            )
            .order_by("-score", "-published_at", "-id")
            .values_list("id", "score", "total")[offset : offset + limit]
        )
        if windowed:
            rows = [(pk, score, self.rank_window + 1) for pk, score, _ in rows]
        return rows

    def _search(self, query: Query, *, offset: int, limit: int, now: datetime):
        q = tsquery(query)
        rows = self._ranked(q, now=now, offset=offset, limit=limit)
        if not rows:
            return [], 0
        marks = {"start_sel": MARK_START, "stop_sel": MARK_END, "config": CONFIG}
        headlines = {
            row[0]: row[1:]
            for row in SearchDocument.objects.filter(pk__in=[r[0] for r in rows])
            .annotate(
                title_hl=SearchHeadline("title", q, highlight_all=True, **marks),
                body_hl=SearchHeadline(
                    "body",
                    q,
                    max_words=35,
                    min_words=15,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                    **marks,
                ),
                excerpt_hl=SearchHeadline("excerpt", q, highlight_all=True, **marks),
            )
            .values_list("pk", "title_hl", "body_hl", "excerpt_hl", "excerpt")
        }
        return hits_in_rank_order(rows, headlines), rows[0][2]

    def _count(self, query: Query, *, now: datetime) -> int:
        return self._matches(query, now).count()

    def _suggest(self, query: Query, *, limit: int, now: datetime) -> list[int]:
        """Titles only, through their own GIN index (migration 0002), so a word deep in a
        body does not suggest that post's title. Ranked among the newest ``rank_window``
        title matches: a two-letter prefix matches thousands."""
        q = tsquery(query)
        titles = SearchDocument.objects.annotate(title_vector=title_vector()).filter(title_vector=q)
        newest = titles.order_by("-post_id").values("post_id")[: self.rank_window]
        return list(
            Post.objects.live(now)
            .filter(pk__in=Subquery(newest))
            .annotate(score=SearchRank(title_vector_of_post(), q))
            .order_by("-score", "-published_at", "-id")
            .values_list("id", flat=True)[:limit]
        )


SearchBackend = PostgresSearchBackend
