"""PostgreSQL full-text search: a stored, weighted tsvector with a GIN index.

Title is weight A, excerpt and category/tag names B, body C. Queries are compiled clause by
clause into ``websearch_to_tsquery`` (words and phrases) and ``to_tsquery`` (prefixes, whose
only input is a quoted run of letters and digits), ranked by ``ts_rank_cd`` over a smaller
vector of the title, excerpt and the opening of the body (migration 0003), and highlighted
by ``ts_headline``. Exact phrases are narrowed through an index of adjacent word pairs
(migration 0004). The text search configuration ``clarion_search`` is English stemming
with accents folded by ``unaccent`` (created by migration 0002 when the extension exists).
"""

from __future__ import annotations

from datetime import datetime
from functools import reduce

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection, transaction
from django.db.models import Subquery

from clarion.posts.models import Post

from ..documents import MARK_END, MARK_START
from ..models import SearchDocument
from ..query import Clause, Query, Term
from .base import BaseSearchBackend, hits_in_rank_order, live_where

CONFIG = "clarion_search"
TABLE = "search_searchdocument"
# Past this share of all posts matching, the newest matches are found by walking the posts
# from the newest and testing each, rather than from the GIN index (_newest_matches).
DENSE = 0.5


def title_vector() -> SearchVector:
    """The titles' own vector, under the GIN index of migration 0002 (suggestions)."""
    return SearchVector("title", config=CONFIG)


def title_vector_index():
    from django.contrib.postgres.indexes import GinIndex

    return GinIndex(title_vector(), name="search_doc_title_gin")


def title_vector_of_post() -> SearchVector:
    return SearchVector("search_document__title", config=CONFIG)


def _weighted_sql(body: str) -> str:
    return (
        f"setweight(to_tsvector('{CONFIG}', coalesce(title, '')), 'A')"
        f" || setweight(to_tsvector('{CONFIG}',"
        " coalesce(excerpt, '') || ' ' || coalesce(terms, '')), 'B')"
        f" || setweight(to_tsvector('{CONFIG}', {body}), 'C')"
    )


# Matching reads the whole text: title A, excerpt and category/tag names B, body C.
SEARCH_VECTOR_SQL = _weighted_sql("coalesce(body, '')")
# Ranking reads the same weights over the opening of the body only (migration 0003): a
# small vector reads and scores in a fraction of the time, and where a word stands near the
# top of a post is most of what ranking by the body can tell.
RANK_BODY_CHARS = 800
RANK_VECTOR_SQL = _weighted_sql(f"left(coalesce(body, ''), {RANK_BODY_CHARS})")


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


def _compile(expression) -> tuple[str, list]:
    """SQL and parameters of a query expression, for the statements written as SQL."""
    query = SearchDocument.objects.all().query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(expression.resolve_expression(query))
    return sql, list(params)


def _set_planner(cursor, settings: dict[str, str]) -> dict[str, str]:
    """Set planner options for the rest of the transaction; return their previous values."""
    names = list(settings)
    cursor.execute(
        "SELECT "
        + ", ".join("current_setting(%s)" for _ in names)
        + ", "
        + ", ".join("set_config(%s, %s, true)" for _ in names),
        [*names, *(x for name in names for x in (name, settings[name]))],
    )
    return dict(zip(names, cursor.fetchone()[: len(names)], strict=True))


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
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {TABLE} SET search_vector = {SEARCH_VECTOR_SQL},"
                    f" rank_vector = {RANK_VECTOR_SQL} WHERE post_id = ANY(%s)",
                    [[d.pk for d in docs]],
                )

    def _finish_rebuild(self) -> None:
        # Fresh statistics, or the planner may think the table tiny and test every
        # post's vector instead of asking the GIN index (seconds instead of milliseconds).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchdocument")

    def _matches(self, query: Query, now: datetime):
        return Post.objects.live(now).filter(search_document__search_vector=tsquery(query))

    def _newest_matches(self, query: Query, q_sql: str, q_params: list) -> list[int]:
        """Ids of the newest ``rank_window + 1`` documents matching, newest first.

        The planner does not know that testing a match reads the post's whole vector, so it
        is told which way to go. A word in most posts: walk the primary key backwards and
        test each post (about 1,100 posts for 1,000 matches). Anything rarer: take the
        matches from the GIN index's bitmap, which reads no vector (walking back to the
        1,000th match of a word in 4% of 100,000 posts tested 24,000 vectors, 0.2 s). An
        exact phrase is first narrowed to the posts holding its pairs of adjacent words,
        through the pairs' own index (migration 0004); only those posts' vectors are read.
        """
        match, params = f"search_vector @@ {q_sql}", list(q_params)
        pairs = self._phrase_pairs(query)
        if pairs:
            # The pairs' index alone chooses the candidates, newest first, and each is then
            # tested until enough match. Both conditions in one scan would recompute
            # clarion_bigrams() for every candidate: the phrase makes the scan recheck.
            select = (
                f"SELECT post_id FROM (SELECT post_id, search_vector FROM {TABLE}"
                " WHERE clarion_bigrams(search_vector) @@ %s::tsquery"
                " ORDER BY post_id DESC OFFSET 0) AS candidate"
                f" WHERE {match}"
            )
            params = [pairs, *params]
        else:
            select = f"SELECT post_id FROM {TABLE} WHERE {match}"
        with transaction.atomic(), connection.cursor() as cursor:
            off = ["enable_seqscan", "enable_indexscan"]
            if not pairs:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {select}", params)
                estimate = cursor.fetchone()[0][0]["Plan"]["Plan Rows"]
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [TABLE])
                if estimate > DENSE * max(1.0, cursor.fetchone()[0]):
                    off = ["enable_seqscan", "enable_bitmapscan"]
            previous = _set_planner(cursor, {name: "off" for name in off})
            cursor.execute(
                f"{select} ORDER BY post_id DESC LIMIT %s", [*params, self.rank_window + 1]
            )
            ids = [row[0] for row in cursor.fetchall()]
            _set_planner(cursor, previous)
        return ids

    def _phrase_pairs(self, query: Query) -> str:
        """A tsquery of the pairs of adjacent lexemes every match must hold, as
        ``clarion_bigrams`` writes them, from the exact phrases that must match; or ''."""
        phrases = [
            " ".join(term.words)
            for clause in query.positive
            if len(clause.terms) == 1
            for term in clause.terms
            if term.is_phrase and not term.prefix
        ]
        if not phrases:
            return ""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT unnest(tsvector_to_array("
                f"clarion_bigrams(to_tsvector('{CONFIG}', phrase))))"
                " FROM unnest(%s::text[]) AS phrase",
                [phrases],
            )
            pairs = sorted(row[0] for row in cursor.fetchall())
        return " & ".join(_lexeme(pair) for pair in pairs)

    def _ranked(self, query: Query, *, now: datetime, offset: int, limit: int) -> list:
        """Rows of (post id, score, total) for one page of live matches, best first.

        Ranking reads each match's vector, so only the newest ``rank_window`` matches (by
        id) are ranked, by ``rank_vector`` (the opening of each post: migration 0003), and
        past the window the total is ``rank_window + 1``, "more than the window": counting
        90,000 matches took 1.7 s.
        """
        q_sql, q_params = _compile(tsquery(query))
        ids = self._newest_matches(query, q_sql, q_params)
        windowed = len(ids) > self.rank_window
        if not ids:
            return []
        where, params = live_where(now)
        sql = (
            f"SELECT posts_post.id, ts_rank_cd(d.rank_vector, {q_sql}) AS score, count(*) OVER ()"
            f" FROM posts_post JOIN {TABLE} d ON d.post_id = posts_post.id"
            # The ids on both sides: with them on the posts alone, the planner hashed the
            # whole search table (10 ms) to join 1,000 rows.
            f" WHERE posts_post.id = ANY(%s) AND d.post_id = ANY(%s) AND {where}"
            " ORDER BY score DESC, posts_post.published_at DESC, posts_post.id DESC"
            " LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            window = ids[: self.rank_window]
            cursor.execute(sql, [*q_params, window, window, *params, limit, offset])
            rows = cursor.fetchall()
        if windowed:
            rows = [(pk, score, self.rank_window + 1) for pk, score, _ in rows]
        return rows

    def _search(self, query: Query, *, offset: int, limit: int, now: datetime):
        q = tsquery(query)
        rows = self._ranked(query, now=now, offset=offset, limit=limit)
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
