"""PostgreSQL full-text search (backend.py), as ``CLARION_SEARCH_BACKEND`` names it:
``clarion.search.backends.postgres``. The names migrations and the vocabulary use are
exported here so their import paths stay."""

from .backend import PostgresSearchBackend, SearchBackend
from .query import tsquery
from .schema import (
    CONFIG,
    RANK_BODY_CHARS,
    RANK_VECTOR_SQL,
    SEARCH_VECTOR_SQL,
    stems,
    title_vector,
    title_vector_index,
)

__all__ = [
    "CONFIG",
    "RANK_BODY_CHARS",
    "RANK_VECTOR_SQL",
    "SEARCH_VECTOR_SQL",
    "PostgresSearchBackend",
    "SearchBackend",
    "stems",
    "title_vector",
    "title_vector_index",
    "tsquery",
]
