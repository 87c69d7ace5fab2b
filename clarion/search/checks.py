from django.core.checks import Warning
from django.db import connections


def check_full_text_search(app_configs=None, databases=None, **kwargs):
    """Warn when SQLite cannot give full-text search (run by `migrate` and `check --database`)."""
    from .backends.database import NO_FTS5, NO_FTS_TABLE
    from .backends.sqlite import fts5_available, fts_table_exists

    errors = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            continue
        if not fts5_available():
            errors.append(Warning(NO_FTS5, id="clarion.search.W001", hint="See docs/search.md."))
        elif _migrated(connection) and not fts_table_exists(connection):
            errors.append(
                Warning(NO_FTS_TABLE, id="clarion.search.W002", hint="See docs/search.md.")
            )
    return errors


def _migrated(connection) -> bool:
    return "search_searchdocument" in connection.introspection.table_names()
