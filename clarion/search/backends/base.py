"""The one interface every search backend implements, and what they share."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from clarion.posts.models import Post

from .. import documents, vocabulary
from ..documents import MARK_END, MARK_START
from ..models import SearchDocument
from ..query import MIN_PREFIX_CHARS, Clause, Query, Term, parse

Progress = Callable[[int, int], None]  # (done, total)

SUGGEST_MAX_CHARS = 100
_MARKERS = re.compile(f"([{MARK_START}{MARK_END}])")


@dataclass
class Hit:
    post_id: int
    score: float
    title_html: SafeString
    snippet_html: SafeString
    post: Post | None = None


@dataclass
class Results:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    # More posts match than were ranked: ``total`` is then the number ranked.
    capped: bool = False


@dataclass
class Suggestion:
    title: str
    url: str


def _folded(text: str) -> str:
    """Lower case without accents, as the engines compare words."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _begins_a_word(title: str, typed: str) -> bool:
    return any(word.startswith(typed) for word in re.findall(r"\w+", _folded(title)))


def marked_html(text: str) -> SafeString:
    """Escape ``text`` and turn the backends' match markers into balanced <mark> elements
    (a highlighter that cut a fragment between two markers leaves one unpaired)."""
    out, inside = [], False
    for part in _MARKERS.split(text):
        if part == MARK_START:
            if not inside:
                out.append("<mark>")
            inside = True
        elif part == MARK_END:
            if inside:
                out.append("</mark>")
            inside = False
        else:
            out.append(escape(part))
    if inside:
        out.append("</mark>")
    return mark_safe("".join(out))


def has_mark(text: str | None) -> bool:
    return bool(text) and MARK_START in text


def hits_in_rank_order(rows, highlighted, *, score_sign: int = 1) -> list[Hit]:
    """Hits for ``rows`` of (post id, score, total), in their order. ``highlighted`` maps a
    post id to its marked (title, body, excerpt) and plain excerpt; the snippet is the
    body's when it holds a match, else the excerpt's, else the plain excerpt."""
    hits = []
    for pk, score, _total in rows:
        title, body, excerpt, plain_excerpt = highlighted[pk]
        if has_mark(body):
            snippet = body
        elif has_mark(excerpt):
            snippet = excerpt
        else:
            snippet = plain_excerpt
        hits.append(
            Hit(
                post_id=pk,
                score=score_sign * score,
                title_html=marked_html(title),
                snippet_html=marked_html(snippet),
            )
        )
    return hits


def live_where(now: datetime) -> tuple[str, list]:
    """The WHERE clause of ``Post.objects.live(now)`` on table ``posts_post``.

    Raw-SQL backends join the index back to the posts table with exactly the condition the
    rest of the site uses for "a reader may see this", so visibility has one definition.
    The ORM compiles it once per database; each search puts its own time in (compiling it
    was 0.1-0.2 ms of every search).
    """
    sql, params, moments = _live_where_template(connection.alias, connection.vendor)
    params = list(params)
    if moments:
        value = Post._meta.get_field("published_at").get_db_prep_value(now, connection)
        for i in moments:
            params[i] = value
    return sql, params


@cache
def _live_where_template(alias: str, vendor: str) -> tuple[str, tuple, tuple[int, ...]]:
    """The compiled clause, its parameters, and which of them are the time: the ones that
    differ between two compilations at different times (the rest must not)."""
    compiled = []
    for year in (2001, 2002):
        query = Post.objects.live(datetime(year, 1, 1, tzinfo=UTC)).query
        sql, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
        compiled.append((sql, tuple(params)))
    (sql, params), (other_sql, other_params) = compiled
    if sql != other_sql or len(params) != len(other_params):
        raise ImproperlyConfigured("Post.objects.live() must compile alike at every time.")
    moments = tuple(i for i, (a, b) in enumerate(zip(params, other_params, strict=True)) if a != b)
    return sql, params, moments


def _load_live(queryset, ids: list[int]) -> dict[int, Post]:
    """The posts with these ids, by id, leaving out any no longer live.

    The engines' queries already joined on ``live()``; this second look (``is_live``) keeps
    a page right if a post was unpublished in between. It is done in Python because, with
    live()'s conditions in SQL, SQLite prefers the (status, published_at) index to the
    primary key and reads every live post to find ten.
    """
    return {pk: post for pk, post in queryset.in_bulk(ids).items() if post.is_live}


def suggest_query(text: str) -> Query | None:
    """Words typed so far, the last one (unless followed by a space) as a prefix."""
    parsed = parse(text[:SUGGEST_MAX_CHARS])
    words = parsed.words
    if not words or (len(words) == 1 and len(words[0]) < 2):
        return None
    terms = [Term(words=(w,)) for w in words]
    if not text.endswith(" ") and len(words[-1]) >= MIN_PREFIX_CHARS:
        terms[-1] = Term(words=(words[-1],), prefix=True)
    return Query(text=parsed.text, clauses=tuple(Clause(terms=(t,)) for t in terms))


class BaseSearchBackend:
    """Index posts and answer readers' queries.

    Subclasses implement ``_search``, ``_suggest`` and, when the engine needs more than the
    ``SearchDocument`` rows, ``_write``/``_clear``/``_finish_rebuild``.
    """

    name = "base"
    page_size = 10
    # How many matches are ranked at most: the newest this many when more posts match.
    # Ranking reads each match's positions, so a word found in most of 100,000 posts took
    # seconds; past this, readers are asked to narrow the search (docs/benchmarks.md).
    rank_window = 1000
    # Whether ``word*`` also matches the vocabulary's whole words that begin with it
    # (clarion/search/vocabulary.py): engines that stem do need it; plain substring
    # matching does not.
    expands_prefixes = True
    # The engine's stems of words: (words) -> {word: stem, "" if dropped, None if not
    # known}. Without it every whole word that begins with a prefix is a candidate.
    stems: Callable[[list[str]], dict[str, str | None]] | None = None

    def __init__(self, params: dict | None = None):
        self.params = params or {}

    # Writing

    def index_posts(self, post_ids: Iterable[int]) -> None:
        """Bring the index in step with these posts: add or update the indexable ones,
        drop the rest (drafts, deleted). Idempotent; unchanged documents are not rewritten."""
        ids = {int(pk) for pk in post_ids}
        if not ids:
            return
        docs = documents.build_many(ids)
        with transaction.atomic():
            stored = {d.pk: d.as_row() for d in SearchDocument.objects.filter(pk__in=ids)}
            changed = [d for d in docs if stored.get(d.pk) != d.as_row()]
            self._write(changed, fresh=False)
            vocabulary.record(changed, stems=self.stems)
            gone = ids - {d.pk for d in docs}
            if gone:
                SearchDocument.objects.filter(pk__in=gone).delete()

    def rebuild(self, *, progress: Progress | None = None, batch_size: int = 500) -> int:
        """Rebuild the whole index from the posts in one transaction; return the count."""
        ids = list(documents.indexable_posts().order_by("pk").values_list("pk", flat=True))
        total = len(ids)
        with transaction.atomic():
            self._clear()
            vocabulary.clear()
            seen: set[str] = set()
            if progress:
                progress(0, total)
            for start in range(0, total, batch_size):
                chunk = ids[start : start + batch_size]
                docs = documents.build_many(chunk)
                self._write(docs, fresh=True)
                vocabulary.record(docs, seen=seen, stems=self.stems)
                if progress:
                    progress(min(start + batch_size, total), total)
            self._finish_rebuild()
        return total

    def _write(self, docs: list[SearchDocument], *, fresh: bool) -> None:
        if not docs:
            return
        if fresh:
            SearchDocument.objects.bulk_create(docs)
        else:
            SearchDocument.objects.bulk_create(
                docs,
                update_conflicts=True,
                unique_fields=["post"],
                update_fields=["title", "excerpt", "body", "terms"],
            )

    def _clear(self) -> None:
        SearchDocument.objects.all().delete()

    def _finish_rebuild(self) -> None:
        pass

    # Reading

    def search(self, query: Query | str, *, offset: int = 0, limit: int | None = None) -> Results:
        """One page of live posts matching ``query``, best first, with the total count."""
        if isinstance(query, str):
            query = parse(query)
        limit = self.page_size if limit is None else limit
        if not query.searchable or offset >= self.rank_window:
            return Results(query=query)
        now = timezone.now()
        limit = min(limit, self.rank_window - offset)
        expanded = self._expanded(query)
        hits, total = self._search(expanded, offset=offset, limit=limit, now=now)
        if not hits and offset > 0:
            total = self._count(expanded, now=now)
        capped = total > self.rank_window
        # A backend may read the hits' posts with the hits (PostgreSQL does, checked live in
        # the same statement); the others are loaded here. The results page shows
        # snippets, not bodies: the largest columns are left unread.
        missing = [h.post_id for h in hits if h.post is None]
        if missing:
            listing = Post.objects.for_listing().defer("body", "body_html")
            posts = _load_live(listing, missing)
            for hit in hits:
                if hit.post is None:
                    hit.post = posts.get(hit.post_id)
        return Results(
            query=query,
            hits=[h for h in hits if h.post],
            total=min(total, self.rank_window),
            capped=capped,
        )

    def suggest(self, text: str, *, limit: int = 8) -> list[Suggestion]:
        """Titles of live posts matching what has been typed so far."""
        query = suggest_query(text or "")
        if query is None:
            return []
        now = timezone.now()
        found = self._suggestions(self._suggest(self._expanded(query), limit=limit, now=now))
        last = query.clauses[-1].terms[0]
        if last.prefix and len(found) < limit:
            # The engines stem a half-typed word as if it were whole: "sheny" becomes
            # "sheni", which "shenyang" never does, so suggestions vanished at one letter and
            # came back at the next (and PostgreSQL drops "she" as a stop word). The
            # vocabulary's whole words mend that, up to PREFIX_WORDS of them; past that, and
            # for a word not yet in the vocabulary, drop letters from its end until the
            # engine finds something (a stem can be much shorter than its word:
            # "repatriations" is "repatri"), then keep the titles with a word beginning
            # with what was typed.
            word = last.words[0]
            typed = _folded(word)
            for end in range(len(word) - 1, max(1, len(word) - 9), -1):
                term = Term((word[:end],), prefix=True)
                retry = Query(text=query.text, clauses=(*query.clauses[:-1], Clause((term,))))
                ids = self._suggest(retry, limit=limit * 4, now=now)
                if ids:
                    seen = {s.url for s in found}
                    found += [
                        s
                        for s in self._suggestions(ids)
                        if s.url not in seen and _begins_a_word(s.title, typed)
                    ]
                    break
        return found[:limit]

    def _expanded(self, query: Query) -> Query:
        return vocabulary.expand(query, stems=self.stems) if self.expands_prefixes else query

    @staticmethod
    def _suggestions(ids: list[int]) -> list[Suggestion]:
        posts = _load_live(Post.objects.only("title", "slug", "status", "published_at"), ids)
        return [
            Suggestion(title=posts[pk].title, url=posts[pk].get_absolute_url())
            for pk in ids
            if pk in posts
        ]

    def _search(self, query: Query, *, offset: int, limit: int, now: datetime):
        """Return ([Hit], total) for one page."""
        raise NotImplementedError

    def _count(self, query: Query, *, now: datetime) -> int:
        return self._search(query, offset=0, limit=1, now=now)[1]

    def _suggest(self, query: Query, *, limit: int, now: datetime) -> list[int]:
        """Return the ids of up to ``limit`` live posts whose titles match, best first."""
        raise NotImplementedError
