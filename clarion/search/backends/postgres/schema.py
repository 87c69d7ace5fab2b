"""What PostgreSQL stores for search: the weighted vectors, their indexes and the stems.

Title is weight A, excerpt and category/tag names B, body C (clarion/search/ranking.py
gives each its weight in ranking). The text search configuration ``clarion_search`` is
English stemming with accents folded by ``unaccent`` (created by migration 0002 when the
extension exists).
"""

from __future__ import annotations

from functools import cache

from django.contrib.postgres.search import SearchVector
from django.db import connection

from ...models import SearchDocument

CONFIG = "clarion_search"
TABLE = "search_searchdocument"


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


def lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def stems(words: list[str], using=None) -> dict[str, str | None]:
    """The lexeme ``to_tsvector`` makes of each word ("" for a stop word, None when it
    makes several), as the documents' vectors have it."""
    with (using or connection).cursor() as cursor:
        cursor.execute(
            "SELECT word, (SELECT CASE count(*) WHEN 0 THEN '' WHEN 1 THEN min(lexeme) END"
            f" FROM unnest(to_tsvector('{CONFIG}', word))) FROM unnest(%s::text[]) AS word",
            [list(words)],
        )
        return dict(cursor.fetchall())


def compile_expression(expression) -> tuple[str, list]:
    """SQL and parameters of a query expression, for the statements written as SQL."""
    query = SearchDocument.objects.all().query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(expression.resolve_expression(query))
    return sql, list(params)


@cache
def title_vector_sql() -> str:
    sql, params = compile_expression(title_vector())
    return sql % tuple(connection.ops.compose_sql("%s", [p]) for p in params)
