"""PostgreSQL full-text search: a stored, weighted tsvector with a GIN index.

The pieces: what is stored and how (schema.py), compiling a query to tsqueries (query.py),
finding the window of newest matches (planning.py), the page's statement of tiers, ranking
and highlights (page.py), and sending statements with their planner settings
(statements.py). Exact phrases are narrowed through an index of adjacent word pairs
(migration 0004).
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime

from django.db import connection, transaction

from clarion.posts.models import Category, Post

from ... import ranking
from ...query import Query
from ..base import BaseSearchBackend, hits_in_rank_order, live_where
from . import planning
from .page import POST_FIELDS, page_statement
from .query import tsquery, tsquery_sql
from .schema import RANK_VECTOR_SQL, SEARCH_VECTOR_SQL, TABLE, stems, title_vector_sql
from .statements import PAGE_PLANNER, own_transaction, run_planned, set_planner

_POST_COLUMNS = ["id", *POST_FIELDS]
_CATEGORY_COLUMNS = ["id", "name", "slug"]


def _hits(rows: list[tuple], total: int):
    hits = hits_in_rank_order(
        [(row[0], float(row[1]), total) for row in rows],
        {row[0]: row[3:7] for row in rows},
    )
    for hit, row in zip(hits, rows, strict=True):
        hit.post = Post.from_db(connection.alias, _POST_COLUMNS, (row[0], *row[7:-1]))
        if row[-1]:
            # As attach_terms() gives them; a post with none is left to it (the site's
            # default category is shown).
            hit.post.listed_categories = [
                Category.from_db(connection.alias, _CATEGORY_COLUMNS, values) for values in row[-1]
            ]
    return hits


class PostgresSearchBackend(BaseSearchBackend):
    name = "postgresql"
    stems = staticmethod(stems)

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
        self.clean_pending_lists()

    def clean_pending_lists(self) -> int:
        """Merge the GIN indexes' pending lists into the indexes; return the pages merged.

        A GIN index takes new entries into a pending list (up to 4 MB), which every search
        reads in full until autovacuum or this merges it: after a rebuild, 300 pages or so
        of the main index's, 0.5 ms of each search.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
                " WHERE i.indrelid = %s::regclass AND am.amname = 'gin'",
                [TABLE],
            )
            return int(cursor.fetchone()[0])

    def _matches(self, query: Query, now: datetime):
        return Post.objects.live(now).filter(search_document__search_vector=tsquery(query))

    def _search(self, query: Query, *, offset: int, limit: int, now: datetime):
        """One page of hits with their posts, and the total.

        Only the newest ``rank_window`` matches (by id) are ranked, and past the window the
        total is ``rank_window + 1``, "more than the window": counting 90,000 matches took
        1.7 s. The window is found in a statement of its own (planning.find_window), then
        the page is ranked in tiers from bitmaps too (page.page_statement), so no statement
        reads a vector per match. Each statement is sent with its planner settings
        (statements.run_planned). Inside a transaction they last until it ends: they are
        put back, and a savepoint takes them back if a statement fails.
        """
        q_sql, q_params = tsquery_sql(query)
        match = (f"search_vector @@ {q_sql}", q_params)
        window = self.rank_window
        nested = not own_transaction()
        with transaction.atomic() if nested else nullcontext(), connection.cursor() as cursor:
            found = planning.find_window(cursor, query, match, window)
            ids, rows = found.ids, []
            if ids:
                counted = len(ids) <= window
                walk = planning.walks(
                    ids[:window],
                    found.matches,
                    found.in_titles,
                    found.in_openings,
                    offset + limit + ranking.RANK_DEPTH,
                    counted=counted,
                )
                sql, sql_params = page_statement(
                    query,
                    q_sql,
                    q_params,
                    ids[:window],
                    count=counted,
                    walk=walk,
                    where=live_where(now),
                    limit=limit,
                    offset=offset,
                )
                rows = run_planned(cursor, PAGE_PLANNER, sql, sql_params)
            if nested:
                set_planner(cursor, found.previous)
        if not rows:
            return [], 0
        total = window + 1 if len(ids) > window else rows[0][2]
        return _hits(rows, total), total

    def _count(self, query: Query, *, now: datetime) -> int:
        return self._matches(query, now).count()

    def _suggest(self, query: Query, *, limit: int, now: datetime) -> list[int]:
        """Titles only, through their own GIN index (migration 0002), so a word deep in a
        body does not suggest that post's title. Ranked by ``ts_rank`` over the title among
        the newest ``rank_window`` title matches: a two-letter prefix matches thousands.

        Planned with bitmaps, as the page is: left to itself the planner walked the posts
        from the newest and parsed each title until it had enough, 47,000 titles (230 ms)
        for a word in 4% of them (``foku``)."""
        q_sql, q_params = tsquery_sql(query)
        where, live_params = live_where(now)
        title = title_vector_sql()
        sql = (
            f"WITH titles AS MATERIALIZED (SELECT post_id FROM {TABLE} WHERE {title} @@ {q_sql}"
            " ORDER BY post_id DESC LIMIT %s)"
            f" SELECT posts_post.id FROM titles JOIN {TABLE} ON {TABLE}.post_id = titles.post_id"
            " JOIN posts_post ON posts_post.id = titles.post_id"
            f" WHERE {where} ORDER BY ts_rank({title}, {q_sql}) DESC,"
            " posts_post.published_at DESC, posts_post.id DESC LIMIT %s"
        )
        params = [*q_params, self.rank_window, *live_params, *q_params, limit]
        nested = not own_transaction()
        with transaction.atomic() if nested else nullcontext(), connection.cursor() as cursor:
            if nested:
                previous = set_planner(cursor, PAGE_PLANNER)
            rows = run_planned(cursor, PAGE_PLANNER, sql, params)
            if nested:
                set_planner(cursor, previous)
        return [row[0] for row in rows]


SearchBackend = PostgresSearchBackend
