"""The statement of one page of hits on PostgreSQL: its tiers, ranking and highlights.

Ranking follows the policy (clarion/search/ranking.py, docs/search.md "Ranking policy"):
tiers read lazily from GIN indexes, best first, ``ts_rank_cd`` with the policy's weights
within the two upper tiers' newest RANK_DEPTH posts, newest first otherwise. Highlighted by
``ts_headline`` on the text around the first match.
"""

from __future__ import annotations

from functools import cache

from django.db import connection

from clarion.posts.models import Category, Post

from ... import ranking
from ...documents import MARK_END, MARK_START
from ...query import Query
from .query import SQL, body_words_tsquery_sql, located, tier_tsquery_sql
from .schema import CONFIG, TABLE, title_vector_sql

TIER_TITLE, TIER_OPENING, TIER_BODY = ranking.TIER_TITLE, ranking.TIER_OPENING, ranking.TIER_BODY
# ts_rank_cd's weights of D, C, B and A (unused; the opening of the body; excerpt and names;
# title): the policy's, relative to the title's (ts_rank_cd's own are 0.1, 0.2, 0.4, 1.0).
RANK_WEIGHTS = (
    "{"
    + ", ".join(
        str(w / ranking.TITLE_WEIGHT)
        for w in (
            ranking.BODY_WEIGHT,
            ranking.BODY_WEIGHT,
            ranking.EXCERPT_WEIGHT,
            ranking.TITLE_WEIGHT,
        )
    )
    + "}"
)
# The columns of the posts the results page needs (Post.from_db defers the rest).
POST_FIELDS = ("title", "slug", "status", "published_at", "author_id")
# The tiers' bitmaps are cut to the window's range of ids when it spans fewer ids than this.
NARROW_RANGE = 20_000
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


@cache
def _headline_options(options: tuple) -> str:
    return ", ".join(connection.ops.compose_sql(f"{name}=%s", [value]) for name, value in options)


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


class _Statement:
    """The SQL of one statement and its parameters, written in order."""

    def __init__(self, query: Query, q_sql: str, q_params: list, ids: list[int], where: SQL):
        self.query, self.q_sql, self.q_params = query, q_sql, q_params
        self.where, self.live_params = where
        self.tier_sql, self.tier_params = tier_tsquery_sql(query)
        # The ids as one array literal: psycopg adapts a list of 1,000 ints in about 1 ms.
        self.array = "{" + ",".join(str(int(pk)) for pk in ids) + "}"
        self.sql: list[str] = []
        self.params: list = []

    def add(self, text: str, *values) -> None:
        self.sql.append(text)
        self.params.extend(values)

    def headline(self, text: str, options: tuple) -> None:
        self.add(
            f"ts_headline('{CONFIG}', {text}, {self.q_sql}, %s)",
            *self.q_params,
            _headline_options(options),
        )

    def built(self) -> SQL:
        return "".join(self.sql), self.params


def _tier_tests(s: _Statement, ids: list[int], walk: tuple[bool, bool]) -> list[tuple]:
    """Each upper tier's test: from a bitmap of its GIN index (a CTE, computed only if a
    tier that needs it is read), or from each post's rank vector as the walk reaches it,
    as (walked, test, the walked test's parameters or the bitmap's CTE)."""
    # The tiers' bitmaps are cut to the window's range of ids when it is narrow. Its bound
    # is a subquery's value: given as a number, the planner sees how few ids it leaves and
    # tests each one's title or vector instead of asking the index (7.5 and 3.5 us each).
    # A wide range is not worth its own bitmap (the primary key's: 7 ms for all ids).
    within, bound = "", []
    if max(ids) - min(ids) < NARROW_RANGE:
        within, bound = " AND post_id >= (SELECT %s::bigint)", [min(ids)]
    tests = []
    for walked, weight, name, vector in (
        (walk[0], "A", "titled", title_vector_sql()),
        (walk[1], "", "opening", "rank_vector"),
    ):
        if walked:
            test_sql, test_params = tier_tsquery_sql(s.query, weight)
            tests.append((True, f"ts_match_vq(rank_vector, {test_sql})", test_params))
        else:
            s.add(f", {name} AS MATERIALIZED (SELECT post_id FROM {TABLE} WHERE {vector}")
            s.add(f" @@ {s.tier_sql}{within})", *s.tier_params, *bound)
            tests.append((False, f"s.id IN (SELECT post_id FROM {name})", name))
    return tests


def _tier_branch(s: _Statement, tier: int, tests: list[tuple], wanted: tuple, needed: int):
    """The SELECT of one tier's posts, newest first, and its parameters. ``wanted`` says,
    for each upper tier's test, whether a post must pass it (True), fail it (False) or
    either (None)."""
    outer, inner, inner_params = [], [], []
    source = "SELECT id, published_at FROM live ORDER BY published_at DESC, id DESC OFFSET 0"
    source_params = []
    for (walked, test, more), is_wanted in zip(tests, wanted, strict=True):
        if is_wanted is None:
            continue
        if is_wanted and not walked:
            # The members of the tier's bitmap that are in the window, and live.
            source = (
                "SELECT id, published_at FROM posts_post WHERE id IN (SELECT post_id"
                f" FROM {more} WHERE post_id = ANY(%s::bigint[])) AND {s.where}"
                " ORDER BY published_at DESC, id DESC OFFSET 0"
            )
            source_params = [s.array, *s.live_params]
            continue
        text = test if is_wanted else f"NOT {test}"
        if walked:
            inner.append(text)
            inner_params += more
        else:
            outer.append(text)
    if inner:
        # The rank vector's tests first: the planner keeps the order written.
        outer.insert(0, f"(SELECT {' AND '.join(inner)} FROM {TABLE} WHERE post_id = s.id)")
    return (
        f"(SELECT s.id, {tier} AS tier, s.published_at FROM ({source}) AS s"
        + (f" WHERE {' AND '.join(outer)}" if outer else "")
        + f" LIMIT {needed})",
        [*source_params, *inner_params],
    )


def _ranked(s: _Statement, tests: list[tuple], *, limit: int, offset: int) -> None:
    """The page's hits in the policy's order: tier by tier, best first, until the page and
    the rest of its ts_rank_cd block (RANK_DEPTH) are found; a tier from a bitmap reads the
    posts of its members, a walked one goes through the window's live posts by date and
    stops as soon as it has enough; a lower tier is not read at all."""
    depth = ranking.RANK_DEPTH
    needed = offset + limit + depth
    branches = [
        _tier_branch(s, TIER_TITLE, tests, (True, None), needed),
        _tier_branch(s, TIER_OPENING, tests, (False, True), needed),
        _tier_branch(s, TIER_BODY, tests, (False, False), needed),
    ]
    s.add(
        ", dated AS MATERIALIZED (SELECT * FROM ("
        + " UNION ALL ".join(text for text, _ in branches)
        + f") AS tiers LIMIT {needed})",
        *(p for _, branch_params in branches for p in branch_params),
    )
    s.add(
        ", numbered AS MATERIALIZED (SELECT dated.*, row_number() OVER (PARTITION BY tier"
        " ORDER BY published_at DESC, id DESC) AS newest FROM dated)"
    )
    s.add(
        ", ranked AS MATERIALIZED (SELECT numbered.id, numbered.tier, numbered.published_at,"
        f" CASE WHEN numbered.tier > {TIER_BODY} AND numbered.newest <= {depth}"
        f" THEN ts_rank_cd('{RANK_WEIGHTS}'::real[], d.rank_vector, {s.tier_sql}) END AS score"
        f" FROM numbered JOIN {TABLE} d ON d.post_id = numbered.id"
        " ORDER BY numbered.tier DESC, score DESC NULLS LAST, numbered.published_at DESC,"
        " numbered.id DESC LIMIT %s OFFSET %s)",
        *s.tier_params,
        limit,
        offset,
    )


def _snippets(s: _Statement) -> None:
    """The page's rows, each read once: where the body's first word that looks like one of
    the query's lexemes is (a stem is the start of most of its words; English stemming
    turns some final y into i, "sheni"), the text around it from the start of a word to
    the end of the last whole one, and its highlight. Each step is a materialised CTE, or
    the planner would copy the expressions into every use."""
    s.add(
        ", hits AS MATERIALIZED (SELECT ranked.*, d.title, d.excerpt, d.body, d.search_vector,"
        f" coalesce(regexp_instr(d.body, ({LOCATOR_SQL}), 1, 1, 0, 'i'), 0) AS at"
        f" FROM ranked JOIN {TABLE} d ON d.post_id = ranked.id)",
        located(s.query),
    )
    s.add(
        ", chunks AS MATERIALIZED (SELECT id, at, CASE WHEN at > 0 THEN substr(body,"
        f" greatest(1, at - {SNIPPET_BEFORE}), {SNIPPET_CHARS}) END AS text FROM hits)"
    )
    s.add(", near AS MATERIALIZED (SELECT id, CASE WHEN text IS NOT NULL THEN ")
    s.headline(
        f"regexp_replace(CASE WHEN at > {SNIPPET_BEFORE + 1}"
        " THEN regexp_replace(text, '^\\S*\\s+', '') ELSE text END,"
        f" CASE WHEN length(text) = {SNIPPET_CHARS} THEN '\\s+\\S*$' ELSE '$^' END, '')",
        BODY_HEADLINE,
    )
    s.add(" END AS headline FROM chunks)")
    # The whole body when the text around the look-alike marks nothing but the body holds
    # a word looked for (asked of the stored vector: the body is weight C).
    body_sql, body_params = body_words_tsquery_sql(s.query)
    s.add(
        ", snippets AS MATERIALIZED (SELECT hits.id, CASE WHEN strpos(near.headline, %s) > 0"
        " THEN near.headline",
        MARK_START,
    )
    s.add(f" WHEN hits.search_vector @@ {body_sql} THEN ", *body_params)
    s.headline("hits.body", BODY_HEADLINE)
    s.add(" END AS headline FROM hits JOIN near ON near.id = hits.id)")


def _rows(s: _Statement, *, count: bool) -> None:
    s.add(" SELECT hits.id, hits.tier, ")
    s.add("(SELECT count(*) FROM live), " if count else "NULL, ")
    s.headline("hits.title", TITLE_HEADLINE)
    # The excerpt's highlight is only shown when the body's marks nothing.
    s.add(
        ", snippets.headline, CASE WHEN strpos(snippets.headline, %s) > 0 THEN NULL ELSE ",
        MARK_START,
    )
    s.headline("hits.excerpt", TITLE_HEADLINE)
    s.add(" END, hits.excerpt, " + ", ".join(f"p.{name}" for name in POST_FIELDS))
    s.add(f", ({_categories_sql()})")
    s.add(" FROM hits JOIN snippets ON snippets.id = hits.id JOIN posts_post p ON p.id = hits.id")
    s.add(
        " ORDER BY hits.tier DESC, hits.score DESC NULLS LAST, hits.published_at DESC, hits.id DESC"
    )


def page_statement(
    query: Query,
    q_sql: str,
    q_params: list,
    ids: list[int],
    *,
    count: bool,
    walk: tuple[bool, bool],
    where: SQL,
    limit: int,
    offset: int,
) -> SQL:
    """SQL and parameters of one page of hits among the window's ``ids``: rows of (id,
    tier, total, marked title, marked snippet, marked excerpt, excerpt, *POST_FIELDS,
    categories), in their order; ``total`` is None unless ``count``. ``where`` is the
    live clause (base.live_where).

    The posts are read tier by tier, best first, newest first within a tier, until the
    page and the rest of its ts_rank_cd block are found. A tier ``walk`` says is walked:
    the window's live posts by date, each tested on its rank vector, stopping when enough
    are found; else its members come from a bitmap scan of its GIN index over the window's
    range of ids, and only their posts are read. With ``count``, every post of the window
    is checked, to count the live ones. Only the page's rows are read in full, for their
    highlights. Run with plain index scans off: the planner would otherwise walk the
    window's range of ids and test each vector.
    """
    s = _Statement(query, q_sql, q_params, ids, where)
    # The window's live posts, read only by the branches that walk the whole window (and
    # the count): a CTE is computed when first read.
    s.add(
        "WITH live AS MATERIALIZED (SELECT id, published_at FROM posts_post"
        f" WHERE id = ANY(%s::bigint[]) AND {s.where})",
        s.array,
        *s.live_params,
    )
    tests = _tier_tests(s, ids, walk)
    _ranked(s, tests, limit=limit, offset=offset)
    _snippets(s)
    _rows(s, count=count)
    return s.built()
