"""What a reader typed, parsed into a small query that every backend compiles its own way.

Readers' syntax, as on the search engines they know: words (all must match), ``"exact
phrases"``, ``-excluded`` words or phrases (``NOT`` works too), ``prefix*`` (also as the
last word of a phrase: ``"forced repatria*"``) and ``OR`` between two alternatives.
Everything else is text: operators of the engines (``NEAR(``, ``^``, ``:``, ``AND``) are
not operators here, and only runs of letters and digits ever reach an engine, always
quoted by the backend, so no input can break its query syntax.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# The search box says maxlength=200; a longer query (pasted, or typed into the address bar)
# is cut rather than refused, and the page says so.
MAX_QUERY_CHARS = 200
MAX_CLAUSES = 12
# A prefix needs two letters or digits: FTS5's prefix indexes start at two (migration
# 0005), and a one-letter prefix made it read every term: "z*" took a second on 100,000
# posts, "a* b* c* d*" three and a half (docs/benchmarks.md). A one-letter "a*" is
# looked for as the word "a", on both engines.
MIN_PREFIX_CHARS = 2

# A word is a run of letters and digits. "_" and apostrophes split words, as they do in
# FTS5's unicode61 tokenizer and PostgreSQL's parser.
WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    """One word, or several that must be adjacent (a phrase); ``prefix`` applies to the last.

    ``alternatives`` are whole words that begin with a prefix, from the vocabulary of
    indexed words (clarion/search/vocabulary.py): the term also matches with its last word
    replaced by any of them, each read by the engine as an ordinary word.
    """

    words: tuple[str, ...]
    prefix: bool = False
    alternatives: tuple[str, ...] = ()

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class Clause:
    """Any one of ``terms`` must match; or, when ``negated``, none of them may."""

    terms: tuple[Term, ...]
    negated: bool = False


@dataclass(frozen=True)
class Query:
    text: str  # the cleaned query, as shown back to the reader
    clauses: tuple[Clause, ...] = ()
    truncated: bool = False  # the input was longer than MAX_QUERY_CHARS or MAX_CLAUSES

    @property
    def positive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.negated)

    @property
    def negative(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.negated)

    @property
    def searchable(self) -> bool:
        """A query needs something to look for: exclusions alone select nothing."""
        return bool(self.positive)

    @property
    def words(self) -> list[str]:
        """Every word looked for (not excluded), for highlighting by the plain backend."""
        return [w for c in self.positive for t in c.terms for w in t.words]


def clean(raw: str) -> str:
    """Normalise Unicode, turn control and invisible characters into spaces, squeeze spaces."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(text.split())


def parse(raw: str) -> Query:
    text = clean(raw)
    truncated = len(text) > MAX_QUERY_CHARS
    if truncated:
        text = text[:MAX_QUERY_CHARS].rstrip()
    clauses: list[Clause] = []
    negate_next = False
    or_next = False
    for kind, value in _tokens(text):
        if kind == "op":
            if value == "NOT":
                negate_next = True
            elif value == "OR":
                or_next = bool(clauses) and not clauses[-1].negated
            continue
        if kind == "neg":
            negate_next = True
            continue
        term = _term(value, phrase=(kind == "phrase"))
        if term is None:
            negate_next = or_next = False
            continue
        if or_next and not negate_next:
            last = clauses[-1]
            clauses[-1] = Clause(terms=last.terms + (term,))
        else:
            clauses.append(Clause(terms=(term,), negated=negate_next))
        negate_next = or_next = False
    if len(clauses) > MAX_CLAUSES:
        clauses = clauses[:MAX_CLAUSES]
        truncated = True
    return Query(text=text, clauses=tuple(clauses), truncated=truncated)


def _tokens(text: str):
    """Yield (kind, value): "phrase" for quoted text (an unclosed quote runs to the end),
    "neg" for a leading minus, "op" for OR/AND/NOT in capitals, else "chunk"."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in '"“”„':
            end = _closing_quote(text, i + 1)
            yield "phrase", text[i + 1 : end]
            i = end + 1
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace():
            yield "neg", "-"
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '"“”„':
                j += 1
            chunk = text[i:j]
            yield ("op" if chunk in {"OR", "AND", "NOT"} else "chunk"), chunk
            i = j


def _closing_quote(text: str, start: int) -> int:
    for j in range(start, len(text)):
        if text[j] in '"“”„':
            return j
    return len(text)


def _term(value: str, *, phrase: bool) -> Term | None:
    words = tuple(WORD.findall(value))
    if not words:
        return None
    # "Shen*" is a prefix, and so is the last word of "forced repatria*" (a star right
    # after it, inside the quotes); any other star inside quotes is only punctuation.
    stripped = value.rstrip()
    prefix = stripped.endswith("*") and (not phrase or stripped[-2:-1].isalnum())
    return Term(words=words, prefix=prefix and len(words[-1]) >= MIN_PREFIX_CHARS)
