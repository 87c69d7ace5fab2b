"""SQLite FTS5: an external-content index over ``search_searchdocument``.

The recipe is sqlite-utils' ``Table.enable_fts`` (content table + ``_ai``/``_ad``/``_au``
triggers using FTS5's 'delete' command) with healthchecks' snippets (``snippet()`` and
``highlight()``). Ranking follows the policy (clarion/search/ranking.py): tiers from column
filters, ``bm25()`` with the policy's weights within the upper tiers' newest posts.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from functools import lru_cache

from django.db import connection

from .. import ranking
from ..documents import MARK_END, MARK_START
from ..query import Query, Term
from .base import BaseSearchBackend, hits_in_rank_order, live_where

FTS_TABLE = "search_fts"
CONTENT_TABLE = "search_searchdocument"
COLUMNS = ("title", "excerpt", "body", "terms")
# bm25() weights, in COLUMNS order: the policy's.
WEIGHTS = (ranking.TITLE_WEIGHT, ranking.EXCERPT_WEIGHT, ranking.BODY_WEIGHT, ranking.NAMES_WEIGHT)
# The rank index (migration 0008): what PostgreSQL's rank vector holds, the title, excerpt,
# category and tag names and the first RANK_BODY_CHARS characters of the body, in a
# contentless FTS5 table of its own. The tiers are read from it, and the upper tiers'
# scores (bm25 over short texts), as on PostgreSQL; the main index is left as it was.
RANK_TABLE = "search_fts_rank"
RANK_BODY_CHARS = 800
RANK_COLUMNS = ("title", "excerpt", "opening", "terms")
RANK_WEIGHTS = (
    ranking.TITLE_WEIGHT,
    ranking.EXCERPT_WEIGHT,
    ranking.BODY_WEIGHT,
    ranking.NAMES_WEIGHT,
)
# Whether each match is live, from the covering index (id, status, published_at): through
# the table, SQLite reads past each post's body to its status (overflow pages), which was
# most of a search matching thousands of posts. The planner prefers the primary key, so the
# index is named.
LIVE_LOOKUP = "posts_post INDEXED BY post_live_lookup"
TOKENIZE = "porter unicode61 remove_diacritics 2"
SNIPPET_TOKENS = 32
# Prefix queries (``Shen*`` and the as-you-type suggestions) of these lengths read a prefix
# index instead of every term that starts so. With 4 (migration 0005) a four-letter prefix
# takes about 2 ms instead of 18 at 100,000 posts; the index grows by 40%
# (docs/benchmarks.md).
PREFIXES = "2 3 4"


def _values(row: str, table: str) -> str:
    """The indexed values of the content table's ``row`` ("new" or "old") for ``table``."""
    if table == RANK_TABLE:
        return f"{row}.title, {row}.excerpt, substr({row}.body, 1, {RANK_BODY_CHARS}), {row}.terms"
    return ", ".join(f"{row}.{c}" for c in COLUMNS)


def _triggers(table: str, cols: str) -> list[str]:
    delete_old = (
        f"INSERT INTO {table}({table}, rowid, {cols})"
        f" VALUES ('delete', old.post_id, {_values('old', table)});"
    )
    insert_new = (
        f"INSERT INTO {table}(rowid, {cols}) VALUES (new.post_id, {_values('new', table)});"
    )
    return [
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {CONTENT_TABLE} BEGIN {insert_new} END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {CONTENT_TABLE} BEGIN {delete_old} END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE ON {CONTENT_TABLE}"
        f" BEGIN {delete_old} {insert_new} END",
    ]


def rank_schema_sql() -> list[str]:
    """Statements creating the rank index and the triggers that keep it in step. It is
    contentless: FTS5 deletes a row by being given its indexed values again, which the
    triggers have (``old``)."""
    cols = ", ".join(RANK_COLUMNS)
    return [
        f"CREATE VIRTUAL TABLE {RANK_TABLE} USING fts5({cols}, content='',"
        f" tokenize='{TOKENIZE}', prefix='{PREFIXES}')",
        *_triggers(RANK_TABLE, cols),
    ]


def schema_sql() -> list[str]:
    """Statements creating the FTS5 tables and the triggers that keep them in step."""
    cols = ", ".join(COLUMNS)
    return [
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({cols}, content='{CONTENT_TABLE}',"
        f" content_rowid='post_id', tokenize='{TOKENIZE}', prefix='{PREFIXES}')",
        *_triggers(FTS_TABLE, cols),
        *rank_schema_sql(),
    ]


def rank_drop_sql() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {RANK_TABLE}_{s}" for s in ("ai", "ad", "au")] + [
        f"DROP TABLE IF EXISTS {RANK_TABLE}"
    ]


def fill_rank_sql() -> str:
    """The statement filling an empty rank index from the content table."""
    return (
        f"INSERT INTO {RANK_TABLE}(rowid, {', '.join(RANK_COLUMNS)}) SELECT post_id,"
        f" title, excerpt, substr(body, 1, {RANK_BODY_CHARS}), terms FROM {CONTENT_TABLE}"
    )


def drop_sql() -> list[str]:
    return [
        *rank_drop_sql(),
        *(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{s}" for s in ("ai", "ad", "au")),
        f"DROP TABLE IF EXISTS {FTS_TABLE}",
    ]


@lru_cache(maxsize=1)
def fts5_available() -> bool:
    """Whether this Python's SQLite library was compiled with FTS5 and our tokenizer."""
    try:
        probe = sqlite3.connect(":memory:")
        try:
            probe.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZE}')")
        finally:
            probe.close()
    except sqlite3.Error:
        return False
    return True


def fts_table_exists(using=None) -> bool:
    with (using or connection).cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE]
        )
        return cursor.fetchone() is not None


def create_fts(schema_editor_or_cursor) -> None:
    for statement in schema_sql():
        schema_editor_or_cursor.execute(statement)


STEMMER = "clarion_stemmer"


def stems(words: list[str], using=None) -> dict[str, str | None]:
    """FTS5's token for each word ("" for none, None for several), as the index has it.

    FTS5 has no function that stems a word: the words are written to an FTS5 table with
    the index's tokenizer in the connection's own temporary database (no lock on the site's
    database), and their tokens read back through fts5vocab.
    """
    tokens: dict[int, list[str]] = {}
    with (using or connection).cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{STEMMER}"
            f" USING fts5(word, tokenize='{TOKENIZE}')"
        )
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{STEMMER}_tokens"
            f" USING fts5vocab(temp, {STEMMER}, instance)"
        )
        cursor.executemany(
            f"INSERT INTO temp.{STEMMER}(rowid, word) VALUES (%s, %s)",
            list(enumerate(words, 1)),
        )
        cursor.execute(f"SELECT doc, term FROM temp.{STEMMER}_tokens")
        for doc, term in cursor.fetchall():
            tokens.setdefault(doc, []).append(term)
        cursor.execute(f"DELETE FROM temp.{STEMMER}")
    found = {}
    for n, word in enumerate(words, 1):
        terms = tokens.get(n, [])
        found[word] = terms[0] if len(terms) == 1 else ("" if not terms else None)
    return found


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _term(term: Term) -> str:
    # A quoted string is always a phrase of tokens to FTS5, never an operator or column
    # name, and "…"* makes its last token a prefix. FTS5 stems the prefix too, so it also
    # matches its whole words from the vocabulary, each a phrase of its own.
    matched = _quote(" ".join(term.words)) + ("*" if term.prefix else "")
    if not term.alternatives:
        return matched
    head = term.words[:-1]
    whole = [_quote(" ".join((*head, word))) for word in term.alternatives]
    return "(" + " OR ".join([matched, *whole]) + ")"


def match_expression(query: Query, column: str | None = None) -> str:
    """Compile ``query`` to FTS5 syntax. FTS5's NOT is binary (``a NOT b``), so the
    exclusions follow the conjunction of what is looked for."""
    positive = " AND ".join(
        "(" + " OR ".join(_term(t) for t in clause.terms) + ")" for clause in query.positive
    )
    expression = f"({positive})"
    for clause in query.negative:
        expression += " NOT (" + " OR ".join(_term(t) for t in clause.terms) + ")"
    if column:
        expression = "{" + column + "} : " + expression
    return expression


def _tier_term(term: Term) -> str:
    """A term as the tiers ask it: a phrase as its words in any order, as on PostgreSQL
    (every hit holds the phrase somewhere already)."""
    if not term.is_phrase:
        return _term(term)
    words = [Term((w,)) for w in term.words[:-1]]
    last = Term((term.words[-1],), prefix=term.prefix, alternatives=term.alternatives)
    return "(" + " AND ".join(_term(t) for t in [*words, last]) + ")"


def tier_expression(query: Query, column: str = "") -> str:
    """What a post's rank index holds (in ``column``, else anywhere) to be in a tier:
    every clause looked for, without the exclusions (they only decide which posts are
    found)."""
    positive = " AND ".join(
        "(" + " OR ".join(_tier_term(t) for t in clause.terms) + ")" for clause in query.positive
    )
    return "{" + column + "} : (" + positive + ")" if column else "(" + positive + ")"


def _ranked_sql(where: str, *, tiered: bool) -> str:
    """The statement of ``SQLiteSearchBackend._ranked``: with ``tiered``, in the policy's
    order (tiers, then bm25 over the rank index within each upper tier's newest
    RANK_DEPTH, then date); else by bm25 alone, then date (suggestions: a title's own
    relevance)."""
    if not tiered:
        bm25 = ", ".join(str(w) for w in WEIGHTS)
        return (
            f"WITH hits AS MATERIALIZED (SELECT rowid AS id, bm25({FTS_TABLE}, {bm25}) AS score"
            f" FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s ORDER BY rowid DESC LIMIT %s),"
            " windowed AS MATERIALIZED (SELECT * FROM hits ORDER BY id DESC LIMIT %s)"
            " SELECT windowed.id, windowed.score, count(*) OVER (),"
            " (SELECT count(*) FROM hits) > %s"
            f" FROM windowed JOIN {LIVE_LOOKUP} ON posts_post.id = windowed.id WHERE {where}"
            " ORDER BY windowed.score, posts_post.published_at DESC, posts_post.id DESC"
            " LIMIT %s OFFSET %s"
        )
    bm25 = ", ".join(str(w) for w in RANK_WEIGHTS)
    # Each upper tier's members among the window's range of rowids, from the rank index
    # (FTS5 seeks to the range's start); the opening tier's hold the title tier's.
    within = f"{RANK_TABLE} MATCH %s AND rowid >= (SELECT min(id) FROM windowed)"
    return (
        f"WITH hits AS MATERIALIZED (SELECT rowid AS id FROM {FTS_TABLE}"
        f" WHERE {FTS_TABLE} MATCH %s ORDER BY rowid DESC LIMIT %s),"
        " windowed AS MATERIALIZED (SELECT * FROM hits ORDER BY id DESC LIMIT %s),"
        f" titled AS MATERIALIZED (SELECT rowid AS id FROM {RANK_TABLE} WHERE {within}),"
        f" opening AS MATERIALIZED (SELECT rowid AS id, bm25({RANK_TABLE}, {bm25}) AS score"
        f" FROM {RANK_TABLE} WHERE {within}),"
        " live AS MATERIALIZED (SELECT windowed.id, opening.score, posts_post.published_at,"
        f" CASE WHEN windowed.id IN titled THEN {ranking.TIER_TITLE}"
        f" WHEN opening.id IS NOT NULL THEN {ranking.TIER_OPENING}"
        f" ELSE {ranking.TIER_BODY} END AS tier FROM windowed"
        f" JOIN {LIVE_LOOKUP} ON posts_post.id = windowed.id"
        f" LEFT JOIN opening ON opening.id = windowed.id WHERE {where}),"
        " numbered AS MATERIALIZED (SELECT live.*, count(*) OVER () AS total,"
        " row_number() OVER (PARTITION BY tier ORDER BY published_at DESC, id DESC) AS newest"
        " FROM live)"
        " SELECT id, coalesce(score, 0), total, (SELECT count(*) FROM hits) > %s FROM numbered"
        f" ORDER BY tier DESC, CASE WHEN tier > {ranking.TIER_BODY} AND newest <= %s"
        " THEN score END NULLS LAST, published_at DESC, id DESC LIMIT %s OFFSET %s"
    )


class SQLiteSearchBackend(BaseSearchBackend):
    name = "sqlite-fts5"
    stems = staticmethod(stems)

    def _clear(self) -> None:
        # Drop the index first so deleting the documents does not feed it 'delete'
        # commands one by one, then recreate it empty: the inserts that follow index each
        # document exactly once through the insert trigger.
        with connection.cursor() as cursor:
            for statement in drop_sql():
                cursor.execute(statement)
            cursor.execute(f"DELETE FROM {CONTENT_TABLE}")
            create_fts(cursor)

    def _finish_rebuild(self) -> None:
        with connection.cursor() as cursor:
            for table in (FTS_TABLE, RANK_TABLE):
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")

    def _ranked(self, match: str, *, now: datetime, offset: int, limit: int, tiers=()):
        """Rows of (post id, bm25 score, total) for one page of live matches, best first:
        with ``tiers`` (the title's and the opening's match expressions) in the policy's
        order, else by bm25 alone.

        bm25() costs a pass over each match's positions, and joining each match to its post
        costs a lookup: for a word found in most posts that takes seconds. Only the newest
        ``rank_window`` matches (by rowid: a walk down the doclist from its end) are ranked;
        when there are more, the total is ``rank_window + 1``, "more than the window":
        counting every match of a phrase costs more than the rest of the search. One walk
        gives both the window and the scores (finding the window's start first, then
        scoring from it, walked the matches twice). FTS5's auxiliary functions refuse a
        query with a window function, so the matches and their scores are materialised
        first; count(*) OVER () then gives the total with the page. Materialising also makes
        SQLite start from the index: left to itself it walks every live post and probes
        the index for each.
        """
        where, params = live_where(now)
        window = self.rank_window
        sql = _ranked_sql(where, tiered=bool(tiers))
        if tiers:
            values = [*tiers, *params, window, ranking.RANK_DEPTH]
        else:
            values = [window, *params]
        with connection.cursor() as cursor:
            cursor.execute(sql, [match, window + 1, window, *values, limit, offset])
            rows = cursor.fetchall()
        return [(pk, score, window + 1 if more else total) for pk, score, total, more in rows]

    def _search(self, query: Query, *, offset: int, limit: int, now: datetime):
        match = match_expression(query)
        tiers = (tier_expression(query, "title"), tier_expression(query))
        rows = self._ranked(match, now=now, offset=offset, limit=limit, tiers=tiers)
        if not rows:
            return [], 0
        snippets = self._snippets(match, [r[0] for r in rows])
        # bm25() is lower for better matches: flip it so a higher score ranks first.
        return hits_in_rank_order(rows, snippets, score_sign=-1), rows[0][2]

    def _snippets(self, match: str, ids: list[int]) -> dict[int, tuple[str, str, str, str]]:
        marks = [MARK_START, MARK_END]
        placeholders = ", ".join(["%s"] * len(ids))
        sql = (
            f"SELECT rowid, highlight({FTS_TABLE}, 0, %s, %s),"
            f" snippet({FTS_TABLE}, 2, %s, %s, '…', {SNIPPET_TOKENS}),"
            f" snippet({FTS_TABLE}, 1, %s, %s, '…', {SNIPPET_TOKENS}), excerpt"
            f" FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid BETWEEN %s AND %s"
            f" AND rowid IN ({placeholders})"
        )
        # FTS5 seeks to a rowid range but evaluates the whole query for an IN list: for a
        # prefix such as naid* (15,000 matches) 20 ms instead of 3.
        with connection.cursor() as cursor:
            cursor.execute(sql, [*marks, *marks, *marks, match, min(ids), max(ids), *ids])
            return {row[0]: row[1:] for row in cursor.fetchall()}

    def _count(self, query: Query, *, now: datetime) -> int:
        where, params = live_where(now)
        sql = (
            f"WITH hits AS MATERIALIZED (SELECT rowid AS id FROM {FTS_TABLE}"
            f" WHERE {FTS_TABLE} MATCH %s)"
            f" SELECT count(*) FROM hits JOIN {LIVE_LOOKUP} ON posts_post.id = hits.id"
            f" WHERE {where}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [match_expression(query), *params])
            return cursor.fetchone()[0]

    def _suggest(self, query: Query, *, limit: int, now: datetime) -> list[int]:
        match = match_expression(query, column="title")
        rows = self._ranked(match, now=now, offset=0, limit=limit)
        return [row[0] for row in rows]


SearchBackend = SQLiteSearchBackend
