"""PostgreSQL full-text search: a stored, weighted tsvector with a GIN index.

Title is weight A, excerpt and category/tag names B, body C. Queries are compiled clause by
clause into ``websearch_to_tsquery`` (words and phrases) and ``to_tsquery`` (prefixes, whose
only input is a quoted run of letters and digits), ranked in tiers read from GIN indexes:
the title's own (migration 0002) and that of a smaller vector of the title, excerpt, names
and the opening of the body (migrations 0003 and 0006); highlighted by ``ts_headline`` on
the text around the first match. Exact phrases are narrowed through an index of adjacent
word pairs (migration 0004). The text search configuration ``clarion_search`` is English stemming
with accents folded by ``unaccent`` (created by migration 0002 when the extension exists).
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from functools import cache, reduce

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection, transaction

from clarion.posts.models import Category, Post

from .. import vocabulary
from ..documents import MARK_END, MARK_START
from ..models import SearchDocument, SearchWord
from ..query import Clause, Query, Term
from .base import BaseSearchBackend, hits_in_rank_order, live_where

CONFIG = "clarion_search"
TABLE = "search_searchdocument"
# Past this share of all posts matching, the newest matches are found by walking the posts
# from the newest and testing each, rather than from the GIN index (_search).
DENSE = 0.5
# A tier's posts come from a bitmap of its GIN index, unless walking the window is expected
# to cost less (_walks). A bitmap reads every entry of the index for the words and visits
# its row: about 0.3 us an entry (13,700 entries 4.2 ms, 47,000 9.3 ms, measured), then
# the post of each member in the window. A walk reads every post of the window, for their
# dates, then tests rank vectors by date until it has found enough, each read and tested
# in 6 to 15 us (more when it is not in shared buffers). Reading a post: about 2 us (2 ms
# for 1,000 whose rows are spread over as many pages).
BITMAP_ENTRY_US, VECTOR_ROW_US, LIVE_ROW_US = 0.3, 8.0, 2.0
PARALLEL = "max_parallel_workers_per_gather"
# Past this share (and below DENSE), the newest matches are asked for among the newest ids
# where SPAN_MARGIN times the window's matches are expected: the planner then ands the GIN
# bitmap with the primary key's range, and visits those rows only (a word in 44% of posts,
# 18 ms from all its matches, 10 ms so). When that finds too few, among all.
SPAN_FROM, SPAN_MARGIN = 0.03, 2.0
# When the planner cannot estimate the matches (a prefix: always 0.5% of the posts), the
# newest matches are first asked for among this many times the window's newest ids, enough
# for a query matching one post in 16 (_search). A rarer one then looks again at its few
# entries in the index. A phrase answered by its pair is estimated from the pair's own
# statistics instead (its words would say 96% of the posts for a pair in 20%): a guessed
# span was asked first and in vain for most phrases, 2-3 ms each.
GUESS_SPAN = 16
# The tiers' bitmaps are cut to the window's range of ids when it spans fewer ids than this
# (_page_statement).
NARROW_RANGE = 20_000


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


def _term_text(term: Term, weight: str = "") -> tuple[str, str]:
    """How a term is asked: ("raw" or "websearch", the text given to it)."""
    if term.prefix or weight:
        marked = f":{weight}" if weight else ""
        head = [_lexeme(w) + marked for w in term.words[:-1]]
        suffix = ("*" if term.prefix else "") + weight
        text = " <-> ".join([*head, _lexeme(term.words[-1]) + (f":{suffix}" if suffix else "")])
        if term.alternatives:
            # to_tsquery stems the prefix too: it also matches its whole words from the
            # vocabulary, which to_tsquery stems as it stemmed the documents.
            whole = [" <-> ".join([*head, _lexeme(w) + marked]) for w in term.alternatives]
            text = " | ".join(f"( {t} )" for t in [text, *whole])
        return "raw", text
    text = " ".join(term.words)
    # Quoted, websearch_to_tsquery reads several words as a phrase; it never raises.
    return "websearch", f'"{text}"' if term.is_phrase else text


def _term(term: Term, weight: str = "") -> SearchQuery:
    search_type, text = _term_text(term, weight)
    return SearchQuery(text, search_type=search_type, config=CONFIG)


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


# The statements written as SQL build their tsqueries here, as the ORM would compile
# tsquery() (the same SQL), without its cost per search (about 0.1 ms an expression).
_FUNCTIONS = {"raw": "to_tsquery", "websearch": "websearch_to_tsquery"}
SQL = tuple[str, list]


def _term_sql(term: Term, weight: str = "") -> SQL:
    search_type, text = _term_text(term, weight)
    return f"{_FUNCTIONS[search_type]}('{CONFIG}'::regconfig, %s)", [text]


def _combined(parts: list[SQL], operator: str) -> SQL:
    return reduce(lambda a, b: (f"({a[0]} {operator} {b[0]})", a[1] + b[1]), parts)


def tsquery_sql(query: Query) -> SQL:
    """SQL and parameters of ``tsquery(query)``."""
    sql, params = _combined(
        [_combined([_term_sql(t) for t in c.terms], "||") for c in query.positive], "&&"
    )
    for clause in query.negative:
        negated, more = _combined([_term_sql(t) for t in clause.terms], "||")
        sql, params = f"({sql} && !!({negated}))", params + more
    return sql, params


def _words(term: Term) -> list[Term]:
    last = len(term.words) - 1
    return [
        Term((w,), prefix=term.prefix and i == last, alternatives=term.alternatives)
        if i == last
        else Term((w,))
        for i, w in enumerate(term.words)
    ]


def tier_tsquery_sql(query: Query, weight: str = "") -> SQL:
    """What must match, for the tiers: the query without its exclusions, and a phrase as its
    words in any order. A phrase's order is checked against the text, which GIN indexes
    cannot do without reading each vector; every hit already holds the phrase somewhere.
    With ``weight`` "A", in the title part of a rank vector."""
    return _combined(
        [
            _combined(
                [_combined([_term_sql(w, weight) for w in _words(t)], "&&") for t in c.terms],
                "||",
            )
            for c in query.positive
        ],
        "&&",
    )


def body_words_tsquery_sql(query: Query) -> SQL:
    """Any of the terms looked for, in the body (weight C): whether a snippet of the body
    can mark anything. A weighted query is answered from the stored vector, not the text.
    A phrase counts only as a phrase: ts_headline's fragments mark a phrase's words only
    where they stand together (a phrase of common words found in a title had its whole
    body highlighted for nothing, 0.6 ms a post)."""
    terms = [t for c in query.positive for t in c.terms]
    return _combined([_term_sql(t, "C") for t in terms], "||")


# Ranking is in tiers (docs/search.md, "Ranking on PostgreSQL"): the query's words in the
# title; else in the title, excerpt, category and tag names or the first RANK_BODY_CHARS of
# the body (rank_vector, under the index of migration 0006); else deeper in the body. Newest
# first within a tier.
TIER_TITLE, TIER_OPENING, TIER_BODY = 2, 1, 0
# Within the title and opening tiers, the newest this many live posts are ordered by
# ts_rank_cd over their rank vectors (the tier's words, weights A title, B excerpt and
# names, C opening: more and closer occurrences first), the rest of the tier by date. The
# bound keeps the vectors read per page to this many (about 10 us each).
RANK_DEPTH = 50
# The columns of the posts the results page needs (Post.from_db defers the rest).
POST_FIELDS = ("title", "slug", "status", "published_at", "author_id")
# A snippet is highlighted from this many characters of the body around the first word that
# looks like a match, instead of from the whole body: ts_headline parses every character it
# is given (0.4 ms for an average post, 3 ms for a long one). When that finds nothing to
# mark (the word was spelt otherwise, or the look-alike was not a match) the whole body is
# used, as before.
SNIPPET_BEFORE, SNIPPET_CHARS = 120, 480
# A regular expression finding the first of the terms looked for (an array of their texts):
# each word as its stem followed by the rest of a word (English stemming turns some final y
# into i: "sheni"), a phrase's words in order with at most one word (a stop word) between.
LOCATOR_SQL = (
    "SELECT '\\m(?:' || string_agg(pattern, '|') || ')' FROM (SELECT (SELECT string_agg("
    "regexp_replace(regexp_replace(word.lexeme, '([^[:alnum:]])', '\\\\\\1', 'g'), 'i$',"
    " '[iy]') || '\\w*', '\\W+(?:\\w+\\W+)?' ORDER BY word.positions[1])"
    f" FROM unnest(to_tsvector('{CONFIG}', term)) AS word) AS pattern"
    " FROM unnest(%s::text[]) AS term) AS terms"
)
_HEADLINE_MARKS = {"StartSel": MARK_START, "StopSel": MARK_END}
TITLE_HEADLINE = (*_HEADLINE_MARKS.items(), ("HighlightAll", True))
BODY_HEADLINE = (
    *_HEADLINE_MARKS.items(),
    ("MaxWords", 35),
    ("MinWords", 15),
    ("MaxFragments", 2),
    ("FragmentDelimiter", " … "),
)


# A prefix begun by at most this many words of the vocabulary is estimated as those words
# (_estimated_query); past it, the guessed span is asked first (GUESS_SPAN).
ESTIMATE_WORDS = 64


def _words_beginning(prefixes: set[str]) -> dict[str, tuple]:
    """For each prefix, every word of the vocabulary that begins with it and that the
    engine keeps (not a stop word), in one statement; a prefix begun by more than
    ESTIMATE_WORDS words is left out."""
    limit = ESTIMATE_WORDS
    folded = sorted(p for p in prefixes if p and len(p) <= vocabulary.MAX_WORD_CHARS)
    if not folded:
        return {}
    found: dict[str, list[str]] = {p: [] for p in folded}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x.prefix, w.word FROM unnest(%s::text[], %s::text[]) AS x(prefix, ending)"
            f" CROSS JOIN LATERAL (SELECT word FROM {SearchWord._meta.db_table}"
            " WHERE word >= x.prefix AND word < x.ending AND (stem IS NULL OR stem <> '')"
            " ORDER BY word LIMIT %s) AS w",
            [folded, [vocabulary.after(p) for p in folded], limit + 1],
        )
        for prefix, word in cursor.fetchall():
            found[prefix].append(word)
    return {p: tuple(words) for p, words in found.items() if len(words) <= limit}


def _estimated_query(query: Query) -> Query | None:
    """``query`` with each prefix read as the whole words of the vocabulary that begin with
    it, for the planner's estimate of the matches; None when it has no prefix, or one
    begun by too many words. The planner estimates every prefix at 0.5% of the posts (or
    from the few frequent words it knows that begin with it): 3,849 posts for ``bupu*``
    were estimated at 485, so its newest matches were asked for among the newest ids first,
    in vain, and ``nuz*`` (8,877) got no span where it needed one. As words: 1,448 and
    8,370."""
    prefixes = {vocabulary.fold(t.words[-1]) for c in query.clauses for t in c.terms if t.prefix}
    if not prefixes:
        return None
    words = _words_beginning(prefixes)
    if len(words) < len(prefixes):
        return None

    def terms(term: Term) -> tuple[Term, ...]:
        if not term.prefix:
            return (term,)
        # A prefix no indexed word begins with matches nothing: estimated as itself.
        whole = words[vocabulary.fold(term.words[-1])]
        return tuple(Term((*term.words[:-1], w)) for w in whole) or (term,)

    return replace(
        query,
        clauses=tuple(
            Clause(terms=tuple(t for term in c.terms for t in terms(term)), negated=c.negated)
            for c in query.clauses
        ),
    )


@cache
def _headline_options(options: tuple) -> str:
    return ", ".join(connection.ops.compose_sql(f"{name}=%s", [value]) for name, value in options)


@cache
def _title_vector_sql() -> str:
    sql, params = _compile(title_vector())
    return sql % tuple(connection.ops.compose_sql("%s", [p]) for p in params)


def _page_statement(
    query: Query,
    q_sql: str,
    q_params: list,
    ids: list[int],
    *,
    count: bool,
    walk: tuple[bool, bool],
    now,
    limit,
    offset,
):
    """SQL and parameters of one page of hits among the window's ``ids``: rows of (id,
    tier, total, marked title, marked snippet, marked excerpt, excerpt, *POST_FIELDS,
    categories), in
    their order; ``total`` is None unless ``count``.

    The posts are read tier by tier, best first, newest first within a tier, until the
    page and the rest of its ts_rank_cd block are found. A tier ``walk`` says is walked:
    the window's live posts by date, each tested on its rank vector, stopping when enough
    are found; else its members come from a bitmap scan of its GIN index over the window's
    range of ids, and only their posts are read. With ``count``, every post of the window
    is checked, to count the live ones. Only the page's rows are read in full, for their
    highlights. Run with plain index scans off: the planner would otherwise walk the
    window's range of ids and test each vector.
    """
    sql, params = [], []

    def add(text: str, *values) -> None:
        sql.append(text)
        params.extend(values)

    def headline(text: str, options: tuple) -> None:
        add(f"ts_headline('{CONFIG}', {text}, {q_sql}, %s)", *q_params, _headline_options(options))

    where, live_params = live_where(now)
    tier_sql, tier_params = tier_tsquery_sql(query)
    title_sql = _title_vector_sql()
    body_sql, body_params = body_words_tsquery_sql(query)
    # The ids as one array literal: psycopg adapts a list of 1,000 ints in about 1 ms.
    array = "{" + ",".join(str(int(pk)) for pk in ids) + "}"
    # The tiers' bitmaps are cut to the window's range of ids when it is narrow. Its bound
    # is a subquery's value: given as a number, the planner sees how few ids it leaves and
    # tests each one's title or vector instead of asking the index (7.5 and 3.5 us each).
    # A wide range is not worth its own bitmap (the primary key's: 7 ms for all ids).
    within, bound = "", []
    if max(ids) - min(ids) < NARROW_RANGE:
        within, bound = " AND post_id >= (SELECT %s::bigint)", [min(ids)]
    # The window's live posts, read only by the branches below that walk the whole window
    # (and the count): a CTE is computed when first read.
    add(
        "WITH live AS MATERIALIZED (SELECT id, published_at FROM posts_post"
        f" WHERE id = ANY(%s::bigint[]) AND {where})",
        array,
        *live_params,
    )
    # Each tier's test: from a bitmap of its GIN index (a CTE, computed only if a tier
    # that needs it is read), or from each post's rank vector as the walk reaches it. The
    # last item is the walked test's parameters, or the bitmap's CTE.
    tests = []
    for walked, weight, name, vector in (
        (walk[0], "A", "titled", title_sql),
        (walk[1], "", "opening", "rank_vector"),
    ):
        if walked:
            test_sql, test_params = tier_tsquery_sql(query, weight)
            tests.append((True, f"ts_match_vq(rank_vector, {test_sql})", test_params))
        else:
            add(f", {name} AS MATERIALIZED (SELECT post_id FROM {TABLE} WHERE {vector}")
            add(f" @@ {tier_sql}{within})", *tier_params, *bound)
            tests.append((False, f"s.id IN (SELECT post_id FROM {name})", name))
    # Each tier's posts, newest first, are read tier by tier, best first, until enough are
    # found: the page, and the rest of the block ts_rank_cd orders (RANK_DEPTH). A tier
    # from a bitmap reads the posts of its members; a walked one goes through the window's
    # live posts by date and stops as soon as it has enough; a lower tier is not read at all.
    needed = offset + limit + RANK_DEPTH
    (title_walked, title_test, title_more), (open_walked, open_test, open_more) = tests
    branches = []
    for tier, title_is, opening_is in (
        (TIER_TITLE, True, None),
        (TIER_OPENING, False, True),
        (TIER_BODY, False, False),
    ):
        outer, inner, inner_params = [], [], []
        source, source_params = (
            "SELECT id, published_at FROM live ORDER BY published_at DESC, id DESC OFFSET 0",
            [],
        )
        for walked, test, more, wanted in (
            (title_walked, title_test, title_more, title_is),
            (open_walked, open_test, open_more, opening_is),
        ):
            if wanted is None:
                continue
            if wanted and not walked:
                # The members of the tier's bitmap that are in the window, and live.
                source = (
                    "SELECT id, published_at FROM posts_post WHERE id IN (SELECT post_id"
                    f" FROM {more} WHERE post_id = ANY(%s::bigint[])) AND {where}"
                    " ORDER BY published_at DESC, id DESC OFFSET 0"
                )
                source_params = [array, *live_params]
                continue
            text = test if wanted else f"NOT {test}"
            if walked:
                inner.append(text)
                inner_params += more
            else:
                outer.append(text)
        if inner:
            # The rank vector's tests first: the planner keeps the order written.
            outer.insert(0, f"(SELECT {' AND '.join(inner)} FROM {TABLE} WHERE post_id = s.id)")
        branches.append(
            (
                f"(SELECT s.id, {tier} AS tier, s.published_at FROM ({source}) AS s"
                + (f" WHERE {' AND '.join(outer)}" if outer else "")
                + f" LIMIT {needed})",
                [*source_params, *inner_params],
            )
        )
    add(
        ", dated AS MATERIALIZED (SELECT * FROM ("
        + " UNION ALL ".join(text for text, _ in branches)
        + f") AS tiers LIMIT {needed})",
        *(p for _, branch_params in branches for p in branch_params),
    )
    add(
        ", numbered AS MATERIALIZED (SELECT dated.*, row_number() OVER (PARTITION BY tier"
        " ORDER BY published_at DESC, id DESC) AS newest FROM dated)"
    )
    add(
        ", ranked AS MATERIALIZED (SELECT numbered.id, numbered.tier, numbered.published_at,"
        f" CASE WHEN numbered.tier > {TIER_BODY} AND numbered.newest <= {RANK_DEPTH}"
        f" THEN ts_rank_cd(d.rank_vector, {tier_sql}) END AS score FROM numbered"
        f" JOIN {TABLE} d ON d.post_id = numbered.id"
        " ORDER BY numbered.tier DESC, score DESC NULLS LAST, numbered.published_at DESC,"
        " numbered.id DESC LIMIT %s OFFSET %s)",
        *tier_params,
        limit,
        offset,
    )
    # The page's rows, each read once: where the body's first word that looks like one of
    # the query's lexemes is (a stem is the start of most of its words; English stemming
    # turns some final y into i, "sheni"), the text around it from the start of a word to
    # the end of the last whole one, and its highlight. Each step is a materialised CTE,
    # or the planner would copy the expressions into every use.
    add(
        ", hits AS MATERIALIZED (SELECT ranked.*, d.title, d.excerpt, d.body, d.search_vector,"
        f" coalesce(regexp_instr(d.body, ({LOCATOR_SQL}), 1, 1, 0, 'i'), 0) AS at"
        f" FROM ranked JOIN {TABLE} d ON d.post_id = ranked.id)",
        _located(query),
    )
    add(
        ", chunks AS MATERIALIZED (SELECT id, at, CASE WHEN at > 0 THEN substr(body,"
        f" greatest(1, at - {SNIPPET_BEFORE}), {SNIPPET_CHARS}) END AS text FROM hits)"
    )
    add(", near AS MATERIALIZED (SELECT id, CASE WHEN text IS NOT NULL THEN ")
    headline(
        f"regexp_replace(CASE WHEN at > {SNIPPET_BEFORE + 1}"
        " THEN regexp_replace(text, '^\\S*\\s+', '') ELSE text END,"
        f" CASE WHEN length(text) = {SNIPPET_CHARS} THEN '\\s+\\S*$' ELSE '$^' END, '')",
        BODY_HEADLINE,
    )
    add(" END AS headline FROM chunks)")
    # The whole body when the text around the look-alike marks nothing but the body holds
    # a word looked for (asked of the stored vector: the body is weight C).
    add(
        ", snippets AS MATERIALIZED (SELECT hits.id, CASE WHEN strpos(near.headline, %s) > 0"
        " THEN near.headline",
        MARK_START,
    )
    add(f" WHEN hits.search_vector @@ {body_sql} THEN ", *body_params)
    headline("hits.body", BODY_HEADLINE)
    add(" END AS headline FROM hits JOIN near ON near.id = hits.id)")
    add(" SELECT hits.id, hits.tier, ")
    if count:
        add("(SELECT count(*) FROM live), ")
    else:
        add("NULL, ")
    headline("hits.title", TITLE_HEADLINE)
    # The excerpt's highlight is only shown when the body's marks nothing.
    add(
        ", snippets.headline, CASE WHEN strpos(snippets.headline, %s) > 0 THEN NULL ELSE ",
        MARK_START,
    )
    headline("hits.excerpt", TITLE_HEADLINE)
    add(" END, hits.excerpt, " + ", ".join(f"p.{name}" for name in POST_FIELDS))
    add(f", ({_categories_sql()})")
    add(" FROM hits JOIN snippets ON snippets.id = hits.id JOIN posts_post p ON p.id = hits.id")
    add(
        " ORDER BY hits.tier DESC, hits.score DESC NULLS LAST, hits.published_at DESC, hits.id DESC"
    )
    return "".join(sql), params


def _located(query: Query) -> list[str]:
    """The texts of the terms looked for, for LOCATOR_SQL: a prefix's whole words from the
    vocabulary too, as a stem may not begin them ("repatria*": "repatri")."""
    texts = []
    for clause in query.positive:
        for term in clause.terms:
            texts.append(" ".join(term.words))
            texts += [" ".join((*term.words[:-1], w)) for w in term.alternatives]
    return texts


@cache
def _categories_sql() -> str:
    """A hit's categories as the results page lists them (attach_terms(): by name), as a
    JSON array of [id, name, slug], or NULL when it has none: the page's query for them
    was 1.3 ms of every search page."""
    through = Post.categories.through._meta
    table = Category._meta.db_table
    return (
        "SELECT json_agg(json_build_array(c.id, c.name, c.slug) ORDER BY c.name, c.id)"
        f" FROM {through.db_table} pc JOIN {table} c ON c.id = pc.category_id"
        " WHERE pc.post_id = hits.id"
    )


PLANNER = ("enable_seqscan", "enable_indexscan", "enable_bitmapscan", PARALLEL)


def _planner(walk_back: bool) -> dict[str, str]:
    """How the planner is told to find the newest matches: the walk back past DENSE
    (plain index scans, no bitmaps); else bitmaps, and no plain index scans. Never a
    sequential scan, nor parallel workers: starting them costs more than these statements
    take."""
    return {
        "enable_seqscan": "off",
        "enable_indexscan": "on" if walk_back else "off",
        "enable_bitmapscan": "off" if walk_back else "on",
        PARALLEL: "0",
    }


# The page statement always reads bitmaps (_page_statement says why).
PAGE_PLANNER = _planner(walk_back=False)


def _one_string() -> bool:
    """Whether several statements may be sent in one query string: not when the database
    is configured for server-side binding (``OPTIONS["server_side_binding"]``, which a
    ``DATABASE_URL`` can set), whose prepared statements hold one each."""
    return connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") is not True


def _own_transaction() -> bool:
    """Whether a search runs outside any transaction and may send each statement with its
    planner settings in one string (_run_planned); otherwise it opens a transaction (or a
    savepoint) and puts the settings back at its end."""
    return connection.get_autocommit() and _one_string()


def _run_planned(cursor, settings: dict[str, str], sql: str, params: list) -> list[tuple]:
    """The rows of ``sql``, planned with ``settings``, set in the same round trip.

    The settings are local to the transaction. Outside one, PostgreSQL runs the statements
    of one query string as one transaction, so they end with this round trip: a search
    needs no BEGIN and COMMIT of its own, nor a statement to put them back (each round trip
    cost 0.15-0.25 ms here). Without one string (_one_string), two round trips.
    """
    setting = "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings)
    _run_two(cursor, setting, [x for item in settings.items() for x in item], sql, params)
    return cursor.fetchall()


def _run_two(cursor, first: str, first_params: list, second: str, second_params: list):
    """Run ``first``, then ``second``, in one round trip where one query string may hold
    both (_one_string); return the rows of ``first`` and leave the cursor on ``second``'s."""
    if not _one_string():
        cursor.execute(first, first_params)
        rows = cursor.fetchall()
        cursor.execute(second, second_params)
        return rows
    cursor.execute(f"{first}; {second}", [*first_params, *second_params])
    rows = cursor.fetchall()
    cursor.nextset()
    return rows


def _walks(
    ids: list[int],
    matches: float,
    in_titles: float,
    in_openings: float,
    needed: int,
    counted: bool = False,
) -> tuple[bool, bool]:
    """Whether to test the title tier, and the opening tier, on each post's rank vector as
    the walk through the window reaches it (True) rather than from a bitmap of its GIN
    index (_page_statement), given the planner's estimates of the documents matching and
    of those holding the tiers' words; ``needed`` is how many posts a tier must give. When
    the window's posts are ``counted``, they are read anyway."""
    found = len(ids)
    walks = []
    for in_tier in (in_titles, in_openings):
        of_matches = min(1.0, in_tier / max(1.0, matches))
        bitmap = in_tier * BITMAP_ENTRY_US + found * of_matches * LIVE_ROW_US
        walk = (0 if counted else found * LIVE_ROW_US) + min(
            found, needed / max(of_matches, 1e-6)
        ) * VECTOR_ROW_US
        walks.append(walk < bitmap)
    return walks[0], walks[1]


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

    def _phrase_pairs(self, query: Query) -> tuple[str, bool]:
        """A tsquery of the pairs of adjacent lexemes every match must hold, as
        ``clarion_bigrams`` writes them, from the exact phrases that must match, or ''; and
        whether holding them is the whole query: one phrase of two lexemes side by side
        (no stop word between, nothing else asked), which a post matches exactly when its
        vector holds that pair."""
        phrases = [
            " ".join(term.words)
            for clause in query.positive
            if len(clause.terms) == 1
            for term in clause.terms
            if term.is_phrase and not term.prefix
        ]
        if not phrases:
            return "", False
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT array(SELECT DISTINCT unnest(tsvector_to_array("
                f"clarion_bigrams(to_tsvector('{CONFIG}', phrase)))) ORDER BY 1),"
                " array(SELECT position FROM unnest(to_tsvector(%s, phrase)) AS word,"
                " unnest(word.positions) AS position ORDER BY 1)::int[]"
                " FROM unnest(%s::text[]) AS phrase",
                [CONFIG, phrases],
            )
            rows = cursor.fetchall()
        pairs = sorted({pair for row in rows for pair in row[0]})
        alone = len(query.clauses) == 1 and len(rows) == 1 and rows[0][1] == [1, 2]
        return " & ".join(_lexeme(pair) for pair in pairs), alone and len(pairs) == 1

    def _window_select(
        self, match: str, params: list, pairs: str, exact: bool = False
    ) -> tuple[str, list]:
        """A SELECT of the ids of the documents matching, and its parameters.

        An exact phrase is first narrowed to the posts holding its pairs of adjacent words,
        through the pairs' own index (migration 0004); only those posts' vectors are read,
        and none when the pair is the whole query (``exact``).
        """
        if not pairs:
            return f"SELECT post_id FROM {TABLE} WHERE {match}", params
        if exact:
            return (
                f"SELECT post_id FROM {TABLE} WHERE clarion_bigrams(search_vector) @@ %s::tsquery",
                [pairs],
            )
        # The pairs' index alone chooses the candidates, newest first, and each is then
        # tested until enough match. Both conditions in one scan would recompute
        # clarion_bigrams() for every candidate: the phrase makes the scan recheck.
        select = (
            f"SELECT post_id FROM (SELECT post_id, search_vector FROM {TABLE}"
            " WHERE clarion_bigrams(search_vector) @@ %s::tsquery"
            " ORDER BY post_id DESC OFFSET 0) AS candidate"
            f" WHERE {match}"
        )
        return select, [pairs, *params]

    def _estimates(self, cursor, match: SQL, tier: SQL, pairs: str = ""):
        """In one round trip: how many documents the planner expects to match the query,
        to hold the tiers' words in their titles and in their rank vectors, and to hold the
        ``pairs`` of a phrase (``match`` is the WHERE clause of the matches; 0 without
        pairs); how many documents there are, the newest one's id, and the planner settings
        as they are."""
        counts = [
            (match[0], match[1]),
            (f"{_title_vector_sql()} @@ {tier[0]}", tier[1]),
            (f"rank_vector @@ {tier[0]}", tier[1]),
        ]
        if pairs:
            counts.append(("clarion_bigrams(search_vector) @@ %s::tsquery", [pairs]))
        # Without parallel workers: the estimate is read under each count's aggregate,
        # which in a parallel plan is a Gather of two or three partial counts.
        table = (
            f"SELECT greatest(1, reltuples), (SELECT coalesce(max(post_id), 0) FROM {TABLE}), "
            + ", ".join(f"current_setting('{name}')" for name in PLANNER)
            + f", set_config('{PARALLEL}', '0', true)"
            + " FROM pg_class WHERE oid = %s::regclass"
        )
        explain = "EXPLAIN (FORMAT JSON) SELECT " + ", ".join(
            f"(SELECT count(*) FROM {TABLE} WHERE {where})" for where, _ in counts
        )
        explain_params = [p for _, params in counts for p in params]
        [(documents, newest, *settings, _)] = _run_two(
            cursor, table, [TABLE], explain, explain_params
        )
        # One InitPlan per count: an aggregate over the scan whose rows are estimated.
        plans = [plan["Plans"][0] for plan in cursor.fetchone()[0][0]["Plan"]["Plans"]]
        estimates = (*(plan["Plan Rows"] for plan in plans), 0)[:4]
        return estimates, documents, newest, dict(zip(PLANNER, settings, strict=True))

    def _search(self, query: Query, *, offset: int, limit: int, now: datetime):
        """One page of hits with their posts, and the total.

        Only the newest ``rank_window`` matches (by id) are ranked, and past the window the
        total is ``rank_window + 1``, "more than the window": counting 90,000 matches took
        1.7 s. The planner does not know that testing a match reads the post's whole
        vector, so it is told which way to find them. A word in most posts: walk the
        primary key backwards and test each post (about 1,100 posts for 1,000 matches).
        Anything rarer: take the matches from the GIN index's bitmap, which reads no vector
        (walking back to the 1,000th match of a word in 4% of 100,000 posts tested 24,000
        vectors, 0.2 s). Either way in a statement of its own, before the page's. The page
        is ranked in tiers from bitmaps too (_page_statement), so no statement reads a
        vector per match.
        """
        q_sql, q_params = tsquery_sql(query)
        match = f"search_vector @@ {q_sql}"
        pairs, exact = self._phrase_pairs(query)
        window = self.rank_window
        threshold = DENSE if not pairs else 1e9
        tier = tier_tsquery_sql(query)
        # Each statement is sent with its planner settings (_run_planned). Inside a
        # transaction they last until it ends: they are put back, and a savepoint takes
        # them back if a statement fails.
        nested = not _own_transaction()
        with transaction.atomic() if nested else nullcontext(), connection.cursor() as cursor:
            guessed = any(t.prefix for c in query.positive for t in c.terms)
            estimated = _estimated_query(query) if guessed and not pairs else None
            if estimated is not None:
                # The prefixes as their words, for the estimate only: the planner has no
                # statistics of a prefix.
                guessed = False
                e_sql, e_params = tsquery_sql(estimated)
                asked = (f"search_vector @@ {e_sql}", e_params)
            else:
                asked = (match, q_params)
            estimates, documents, newest, previous = self._estimates(
                cursor, asked, tier, pairs if exact else ""
            )
            matches, in_titles, in_openings, with_pair = estimates
            share = matches / documents
            dense = share > threshold
            select, params = self._window_select(match, q_params, pairs, exact)
            within = []
            if exact:
                share = with_pair / documents
            if (exact or not pairs) and not dense and share > SPAN_FROM:
                within = [newest - math.ceil(SPAN_MARGIN * (window + 1) / share)]
            elif guessed and not pairs and not dense:
                within = [newest - GUESS_SPAN * (window + 1)]
            while True:
                bounded = select + (" AND post_id > %s" if within else "")
                found = _run_planned(
                    cursor,
                    _planner(walk_back=dense),
                    f"{bounded} ORDER BY post_id DESC LIMIT %s",
                    [*params, *within, window + 1],
                )
                ids = [row[0] for row in found]
                if not within or len(ids) > window:
                    break
                within = []  # fewer than expected among the newest: ask among all
            rows = []
            if ids:
                sql, sql_params = _page_statement(
                    query,
                    q_sql,
                    q_params,
                    ids[:window],
                    count=len(ids) <= window,
                    walk=_walks(
                        ids[:window],
                        matches,
                        in_titles,
                        in_openings,
                        offset + limit + RANK_DEPTH,
                        counted=len(ids) <= window,
                    ),
                    now=now,
                    limit=limit,
                    offset=offset,
                )
                rows = _run_planned(cursor, PAGE_PLANNER, sql, sql_params)
            if nested:
                _set_planner(cursor, previous)
        if not rows:
            return [], 0
        total = window + 1 if len(ids) > window else rows[0][2]
        fields = ["id", *POST_FIELDS]
        category_fields = ["id", "name", "slug"]
        hits = hits_in_rank_order(
            [(row[0], float(row[1]), total) for row in rows],
            {row[0]: row[3:7] for row in rows},
        )
        for hit, row in zip(hits, rows, strict=True):
            hit.post = Post.from_db(connection.alias, fields, (row[0], *row[7:-1]))
            if row[-1]:
                # As attach_terms() gives them; a post with none is left to it (the site's
                # default category is shown).
                hit.post.listed_categories = [
                    Category.from_db(connection.alias, category_fields, values)
                    for values in row[-1]
                ]
        return hits, total

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
        title = _title_vector_sql()
        sql = (
            f"WITH titles AS MATERIALIZED (SELECT post_id FROM {TABLE} WHERE {title} @@ {q_sql}"
            " ORDER BY post_id DESC LIMIT %s)"
            f" SELECT posts_post.id FROM titles JOIN {TABLE} ON {TABLE}.post_id = titles.post_id"
            " JOIN posts_post ON posts_post.id = titles.post_id"
            f" WHERE {where} ORDER BY ts_rank({title}, {q_sql}) DESC,"
            " posts_post.published_at DESC, posts_post.id DESC LIMIT %s"
        )
        params = [*q_params, self.rank_window, *live_params, *q_params, limit]
        nested = not _own_transaction()
        with transaction.atomic() if nested else nullcontext(), connection.cursor() as cursor:
            if nested:
                previous = _set_planner(cursor, PAGE_PLANNER)
            rows = _run_planned(cursor, PAGE_PLANNER, sql, params)
            if nested:
                _set_planner(cursor, previous)
        return [row[0] for row in rows]


SearchBackend = PostgresSearchBackend
