"""The indexed words, whole, so that ``word*`` finds what stemming hides from a prefix.

Both engines stem the prefix of ``word*`` as if it were a whole word and match it against
the stems they indexed: ``sheny*`` is read as ``sheni*``, which no stem of *Shenyang* begins
with, and ``repatria*`` is longer than ``repatri``, the stem of *repatriation* (issue #5).
So a prefix also matches the vocabulary's whole words that begin with it, each passed to
the engine as an ordinary quoted word, which the engine stems as it stemmed the documents.
Only the words the stemmed prefix misses are needed: the vocabulary keeps each word's stem
as the engine makes it, and a word whose stem begins with the prefix's stem is left to the
stemmed prefix (``mai*`` needs none of its words; ``sheny*`` needs all of them).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import lru_cache

from django.db import connection

from .models import SearchDocument, SearchWord
from .query import WORD, Clause, Query, Term

Stems = Callable[[list[str]], dict[str, "str | None"]]

# At most this many whole words for one prefix, the shortest first (then in code-point
# order). Each word is one more term for the engine to look up and score (FTS5's bm25()
# counts every match of each: 0.3-0.5 ms a word at 100,000 posts), and a prefix that
# stemming changes (``sheny*``, or on PostgreSQL a stop word such as ``she*``) needs every
# word that begins with it. Shortest first because stemming cuts a word's end: a word much
# longer than the prefix keeps the prefix in its stem, while one only a little longer is
# the kind stemming cuts below the prefix's length ("repatriation" is "repatri" under
# "repatria*"), and, when the stems are not known, the stemmed prefix finds the long ones.
PREFIX_WORDS = 32
# Longer runs of letters (pasted identifiers, URLs' innards) are not kept: a prefix that
# long is rarely typed, and the stemmed prefix still finds them.
MAX_WORD_CHARS = SearchWord._meta.get_field("word").max_length
INSERT_BATCH = 2000


def fold(word: str) -> str:
    """Lower case without accents, as both engines compare words (FTS5's unicode61 with
    remove_diacritics, PostgreSQL's unaccent). lower(), not casefold(): FTS5 keeps "ß",
    so "strasse" would match nothing there."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words_of(texts: Iterable[str]) -> set[str]:
    """The folded words of ``texts``, split as the query parser splits what readers type."""
    found: set[str] = set()
    for text in texts:
        if text:
            found.update(WORD.findall(unicodedata.normalize("NFKC", text).lower()))
    words = set()
    for word in found:
        # Folding may split a word ("½" is "1⁄2"): split again.
        for folded in [word] if word.isascii() else WORD.findall(fold(word)):
            if len(folded) <= MAX_WORD_CHARS:
                words.add(folded)
    return words


def record(
    docs: Iterable[SearchDocument], *, seen: set[str] | None = None, stems: Stems | None = None
) -> None:
    """Add the words of ``docs`` to the vocabulary, with their ``stems``. ``seen`` holds
    the words already added by the caller (a rebuild), which are not sent again."""
    words = words_of(text for doc in docs for text in doc.as_row())
    if seen is not None:
        words -= seen
        seen |= words
    if not words:
        return
    ordered = sorted(words)
    stemmed = stems(ordered) if stems else {}
    SearchWord.objects.bulk_create(
        [SearchWord(word=w, stem=stemmed.get(w)) for w in ordered],
        batch_size=INSERT_BATCH,
        ignore_conflicts=True,
    )


def clear() -> None:
    SearchWord.objects.all().delete()


def after(prefix: str) -> str:
    """The first string past every string that begins with ``prefix``, in code-point
    order (the last character's successor, skipping the surrogates UTF-8 cannot hold)."""
    code = ord(prefix[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:
        code = 0xE000
    return prefix[:-1] + chr(code)


def starting_with(prefix: str, stem: str | None = None, limit: int = PREFIX_WORDS) -> list[str]:
    """Up to ``limit`` words of the vocabulary beginning with ``prefix``, shortest first,
    leaving out those whose stem begins with ``stem`` (the prefix's stem: the stemmed
    prefix finds them) and those the engine drops. With no ``stem`` ("" when the engine
    drops the prefix, None when not known), every word that begins with the prefix."""
    prefix = fold(prefix)
    if not prefix or len(prefix) > MAX_WORD_CHARS:
        return []
    table = SearchWord._meta.db_table
    missed, params = "", []
    if stem:
        missed, params = " AND substr(stem, 1, %s) <> %s", [len(stem), stem]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT word FROM {table} WHERE word >= %s AND word < %s"
            f" AND (stem IS NULL OR stem <> ''{missed}) ORDER BY length(word), word LIMIT %s",
            [prefix, after(prefix), *params, limit],
        )
        return [row[0] for row in cursor.fetchall()]


@lru_cache(maxsize=4096)
def _stem_of(stems: Stems, prefix: str) -> str | None:
    # A reader types the same prefixes again and again (suggestions ask at every letter).
    return stems([prefix]).get(prefix)


def expand(query: Query, stems: Stems | None = None) -> Query:
    """``query`` with each prefix term given the whole words that begin with its prefix
    and that its stemmed prefix misses, by the engine's ``stems``."""
    if not any(t.prefix for c in query.clauses for t in c.terms):
        return query
    known: dict[str, tuple[str, ...]] = {}

    def term(t: Term) -> Term:
        if not t.prefix:
            return t
        prefix = fold(t.words[-1])
        if prefix not in known:
            stem = _stem_of(stems, prefix) if stems and len(prefix) <= MAX_WORD_CHARS else None
            known[prefix] = tuple(starting_with(prefix, stem))
        return replace(t, alternatives=known[prefix])

    return replace(
        query,
        clauses=tuple(
            Clause(terms=tuple(term(t) for t in c.terms), negated=c.negated) for c in query.clauses
        ),
    )
