from django.contrib.postgres.search import SearchVectorField
from django.db import models

from clarion.posts.models import Post


class SearchDocument(models.Model):
    """The plain text of one post as the index sees it: derived data, rebuilt at will.

    One table on both engines. On SQLite it is the content table of the external-content
    FTS5 index ``search_fts`` (kept in step by triggers); on PostgreSQL ``search_vector``
    holds the weighted tsvector, under the GIN index ``search_doc_vector_gin``. Both are
    created by migration 0001 for the database in use (see the comment there). The column
    the other engine does not use stays empty: simpler than a model per vendor.
    """

    post = models.OneToOneField(
        Post, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    title = models.TextField()
    excerpt = models.TextField(blank=True)
    body = models.TextField(blank=True)
    # Category and tag names, so a search for a category finds its posts.
    terms = models.TextField(blank=True)
    search_vector = SearchVectorField(null=True, editable=False)

    def __str__(self):
        return self.title

    def as_row(self) -> tuple[str, str, str, str]:
        return (self.title, self.excerpt, self.body, self.terms)


class SearchWord(models.Model):
    """A word of the indexed text, folded (lower case, no accents), as a whole word, with
    the engine's stem of it.

    Both engines store stems, and stem a prefix before matching it (``sheny*`` becomes
    ``sheni*``, a prefix of no stem of *Shenyang*): the vocabulary gives ``word*`` the
    whole words that begin with it whose stems the stemmed prefix misses
    (clarion/search/vocabulary.py). Filled as documents are written; a word no document
    holds any longer stays, harmless (it matches nothing), until ``rebuild_search_index``
    starts the vocabulary afresh. Ordered by code point on both engines (migration 0007
    gives the column the "C" collation on PostgreSQL), so the words beginning with a prefix
    are one range of the primary key.
    """

    word = models.CharField(max_length=48, primary_key=True)
    # "" when the engine drops the word (a stop word), NULL when not known (no stemming
    # engine, or the engine reads it as several words).
    stem = models.TextField(null=True)

    def __str__(self):
        return self.word
