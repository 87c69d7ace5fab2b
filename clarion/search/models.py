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
