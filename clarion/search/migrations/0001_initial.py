import django.contrib.postgres.search
import django.db.models.deletion
from django.db import DatabaseError, migrations, models, transaction

# The engine-specific parts of the index are created here, by vendor, rather than lazily by
# the backend on first use: a web request should never run DDL (several processes would
# race to create the table), and a failure belongs at `migrate` time, where an operator
# sees it. The GIN index is created by SQL rather than declared in Meta.indexes because a
# GinIndex in the model state breaks SQLite, whose schema editor recreates every declared
# index whenever it rebuilds the table. If FTS5 is missing, the SQLite part is skipped and
# search falls back to plain matching (with a warning and system check clarion.search.W001);
# `rebuild_search_index` creates the FTS table later, once FTS5 is available.

PG_CONFIG = "clarion_search"
PG_INDEX = "search_doc_vector_gin"


def create_engine_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        from clarion.search.backends.sqlite import create_fts, fts5_available

        if fts5_available():
            create_fts(schema_editor)
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_ts_config WHERE cfgname = %s", [PG_CONFIG])
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = english)")
                if _unaccent_available(connection):
                    # Accents fold before stemming, in documents and queries alike, and
                    # ts_headline still shows the text as written.
                    cursor.execute(
                        f"ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG} ALTER MAPPING FOR"
                        " hword, hword_part, word WITH unaccent, english_stem"
                    )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON search_searchdocument"
                " USING gin (search_vector)"
            )


def _unaccent_available(connection) -> bool:
    """unaccent is a trusted extension (PostgreSQL 13+): a database owner may create it."""
    try:
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        return True
    except DatabaseError:
        return False


def drop_engine_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        from clarion.search.backends.sqlite import drop_sql

        for statement in drop_sql():
            schema_editor.execute(statement)
    elif connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_CONFIG}")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("posts", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "post",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="posts.post",
                    ),
                ),
                ("title", models.TextField()),
                ("excerpt", models.TextField(blank=True)),
                ("body", models.TextField(blank=True)),
                ("terms", models.TextField(blank=True)),
                (
                    "search_vector",
                    django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
                ),
            ],
        ),
        migrations.RunPython(create_engine_index, drop_engine_index),
    ]
