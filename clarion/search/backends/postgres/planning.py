"""Finding the window of a search on PostgreSQL: the newest ``rank_window`` matches, by id.

The planner's estimates (of the matches, of the posts holding the words in their titles and
rank vectors, of a phrase's pairs) choose how: a word in most posts walks the primary key
backwards and tests each post; anything rarer takes the matches from the GIN index's
bitmap, which reads no vector, among the newest ids first when enough of them are expected
there. The same estimates choose how the page's tiers are read (``walks``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from django.db import connection

from ... import vocabulary
from ...models import SearchWord
from ...query import Clause, Query, Term
from .query import SQL, tier_tsquery_sql, tsquery_sql
from .schema import CONFIG, TABLE, lexeme, title_vector_sql
from .statements import PARALLEL, PLANNER, planner, run_planned, run_two

# Past this share of all posts matching, the newest matches are found by walking the posts
# from the newest and testing each, rather than from the GIN index.
DENSE = 0.5
# A tier's posts come from a bitmap of its GIN index, unless walking the window is expected
# to cost less (walks). A bitmap reads every entry of the index for the words and visits
# its row: about 0.3 us an entry (13,700 entries 4.2 ms, 47,000 9.3 ms, measured), then
# the post of each member in the window. A walk reads every post of the window, for their
# dates, then tests rank vectors by date until it has found enough, each read and tested
# in 6 to 15 us (more when it is not in shared buffers). Reading a post: about 2 us (2 ms
# for 1,000 whose rows are spread over as many pages).
BITMAP_ENTRY_US, VECTOR_ROW_US, LIVE_ROW_US = 0.3, 8.0, 2.0
# Past this share (and below DENSE), the newest matches are asked for among the newest ids
# where SPAN_MARGIN times the window's matches are expected: the planner then ands the GIN
# bitmap with the primary key's range, and visits those rows only (a word in 44% of posts,
# 18 ms from all its matches, 10 ms so). When that finds too few, among all.
SPAN_FROM, SPAN_MARGIN = 0.03, 2.0
# When the planner cannot estimate the matches (a prefix: always 0.5% of the posts), the
# newest matches are first asked for among this many times the window's newest ids, enough
# for a query matching one post in 16. A rarer one then looks again at its few entries in
# the index. A phrase answered by its pair is estimated from the pair's own statistics
# instead (its words would say 96% of the posts for a pair in 20%): a guessed span was
# asked first and in vain for most phrases, 2-3 ms each.
GUESS_SPAN = 16
# A prefix begun by at most this many words of the vocabulary is estimated as those words
# (estimated_query); past it, the guessed span is asked first (GUESS_SPAN).
ESTIMATE_WORDS = 64


@dataclass
class Window:
    """The newest matches (up to one past the window), and what the planner expected."""

    ids: list[int]
    matches: float
    in_titles: float
    in_openings: float
    # The planner settings as they were before the search.
    previous: dict[str, str]


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


def estimated_query(query: Query) -> Query | None:
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


def walks(
    ids: list[int],
    matches: float,
    in_titles: float,
    in_openings: float,
    needed: int,
    counted: bool = False,
) -> tuple[bool, bool]:
    """Whether to test the title tier, and the opening tier, on each post's rank vector as
    the walk through the window reaches it (True) rather than from a bitmap of its GIN
    index (page.page_statement), given the planner's estimates of the documents matching
    and of those holding the tiers' words; ``needed`` is how many posts a tier must give.
    When the window's posts are ``counted``, they are read anyway."""
    found = len(ids)
    walked = []
    for in_tier in (in_titles, in_openings):
        of_matches = min(1.0, in_tier / max(1.0, matches))
        bitmap = in_tier * BITMAP_ENTRY_US + found * of_matches * LIVE_ROW_US
        walk = (0 if counted else found * LIVE_ROW_US) + min(
            found, needed / max(of_matches, 1e-6)
        ) * VECTOR_ROW_US
        walked.append(walk < bitmap)
    return walked[0], walked[1]


def phrase_pairs(query: Query) -> tuple[str, bool]:
    """A tsquery of the pairs of adjacent lexemes every match must hold, as
    ``clarion_bigrams`` writes them, from the exact phrases that must match, or ''; and
    whether holding them is the whole query: one phrase of two lexemes side by side (no
    stop word between, nothing else asked), which a post matches exactly when its vector
    holds that pair."""
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
    return " & ".join(lexeme(pair) for pair in pairs), alone and len(pairs) == 1


def window_select(match: str, params: list, pairs: str, exact: bool = False) -> SQL:
    """A SELECT of the ids of the documents matching, and its parameters.

    An exact phrase is first narrowed to the posts holding its pairs of adjacent words,
    through the pairs' own index (migration 0004); only those posts' vectors are read, and
    none when the pair is the whole query (``exact``).
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


def estimates(cursor, match: SQL, tier: SQL, pairs: str = ""):
    """In one round trip: how many documents the planner expects to match the query, to
    hold the tiers' words in their titles and in their rank vectors, and to hold the
    ``pairs`` of a phrase (``match`` is the WHERE clause of the matches; 0 without pairs);
    how many documents there are, the newest one's id, and the planner settings as they
    are."""
    counts = [
        (match[0], match[1]),
        (f"{title_vector_sql()} @@ {tier[0]}", tier[1]),
        (f"rank_vector @@ {tier[0]}", tier[1]),
    ]
    if pairs:
        counts.append(("clarion_bigrams(search_vector) @@ %s::tsquery", [pairs]))
    # Without parallel workers: the estimate is read under each count's aggregate, which
    # in a parallel plan is a Gather of two or three partial counts.
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
    [(documents, newest, *settings, _)] = run_two(cursor, table, [TABLE], explain, explain_params)
    # One InitPlan per count: an aggregate over the scan whose rows are estimated.
    plans = [plan["Plans"][0] for plan in cursor.fetchone()[0][0]["Plan"]["Plans"]]
    expected = (*(plan["Plan Rows"] for plan in plans), 0)[:4]
    return expected, documents, newest, dict(zip(PLANNER, settings, strict=True))


def _asked(query: Query, match: SQL, pairs: str) -> tuple[SQL, bool]:
    """The WHERE clause whose matches the planner is asked to estimate, and whether the
    estimate is a guess (a prefix the vocabulary could not spell out as its words)."""
    guessed = any(t.prefix for c in query.positive for t in c.terms)
    spelt = estimated_query(query) if guessed and not pairs else None
    if spelt is None:
        return match, guessed
    # The prefixes as their words, for the estimate only: the planner has no statistics
    # of a prefix.
    e_sql, e_params = tsquery_sql(spelt)
    return (f"search_vector @@ {e_sql}", e_params), False


def _first_span(share: float, newest: int, window: int, *, exact, pairs, dense, guessed):
    """The lowest id to ask among first ([] for all), from the expected share of posts."""
    if (exact or not pairs) and not dense and share > SPAN_FROM:
        return [newest - math.ceil(SPAN_MARGIN * (window + 1) / share)]
    if guessed and not pairs and not dense:
        return [newest - GUESS_SPAN * (window + 1)]
    return []


def find_window(cursor, query: Query, match: SQL, window: int) -> Window:
    """The newest matches of ``query`` (``match`` is its WHERE clause), up to ``window + 1``
    of them, each way of finding them in a statement of its own."""
    pairs, exact = phrase_pairs(query)
    asked, guessed = _asked(query, match, pairs)
    expected, documents, newest, previous = estimates(
        cursor, asked, tier_tsquery_sql(query), pairs if exact else ""
    )
    matches, in_titles, in_openings, with_pair = expected
    dense = matches / documents > (DENSE if not pairs else 1e9)
    share = (with_pair if exact else matches) / documents
    select, params = window_select(match[0], match[1], pairs, exact)
    within = _first_span(
        share, newest, window, exact=exact, pairs=pairs, dense=dense, guessed=guessed
    )
    while True:
        bounded = select + (" AND post_id > %s" if within else "")
        found = run_planned(
            cursor,
            planner(walk_back=dense),
            f"{bounded} ORDER BY post_id DESC LIMIT %s",
            [*params, *within, window + 1],
        )
        ids = [row[0] for row in found]
        if not within or len(ids) > window:
            return Window(ids, matches, in_titles, in_openings, previous)
        within = []  # fewer than expected among the newest: ask among all
