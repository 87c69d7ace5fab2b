"""Compiling a reader's query for PostgreSQL: clause by clause into ``websearch_to_tsquery``
(words and phrases) and ``to_tsquery`` (prefixes, whose only input is a quoted run of
letters and digits), combined with ``&&``, ``||`` and ``!!``."""

from __future__ import annotations

from functools import reduce

from django.contrib.postgres.search import SearchQuery

from ...query import Clause, Query, Term
from .schema import CONFIG, lexeme


def _term_text(term: Term, weight: str = "") -> tuple[str, str]:
    """How a term is asked: ("raw" or "websearch", the text given to it)."""
    if term.prefix or weight:
        marked = f":{weight}" if weight else ""
        head = [lexeme(w) + marked for w in term.words[:-1]]
        suffix = ("*" if term.prefix else "") + weight
        text = " <-> ".join([*head, lexeme(term.words[-1]) + (f":{suffix}" if suffix else "")])
        if term.alternatives:
            # to_tsquery stems the prefix too: it also matches its whole words from the
            # vocabulary, which to_tsquery stems as it stemmed the documents.
            whole = [" <-> ".join([*head, lexeme(w) + marked]) for w in term.alternatives]
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


def words_of_term(term: Term) -> list[Term]:
    """A phrase's words as terms of their own (the last keeps the prefix and its words)."""
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
                [
                    _combined([_term_sql(w, weight) for w in words_of_term(t)], "&&")
                    for t in c.terms
                ],
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


def located(query: Query) -> list[str]:
    """The texts of the terms looked for, for LOCATOR_SQL: a prefix's whole words from the
    vocabulary too, as a stem may not begin them ("repatria*": "repatri")."""
    texts = []
    for clause in query.positive:
        for term in clause.terms:
            texts.append(" ".join(term.words))
            texts += [" ".join((*term.words[:-1], w)) for w in term.alternatives]
    return texts
