# SQLite only: a second, contentless FTS5 index of what PostgreSQL's rank vector holds (the
# title, excerpt, category and tag names and the first 800 characters of the body:
# RANK_TABLE in clarion/search/backends/sqlite.py), so both engines rank in the same tiers
# (docs/search.md, "Ranking policy"). It is made again and filled from the content table
# (the same length of time as the main index's rebuild, or less). Without FTS5 there is
# nothing to do.
from django.db import migrations


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    from clarion.search.backends.sqlite import (
        RANK_TABLE,
        fill_rank_sql,
        fts_table_exists,
        rank_drop_sql,
        rank_schema_sql,
    )

    if not fts_table_exists(using=connection):
        return
    with connection.cursor() as cursor:
        for statement in [*rank_drop_sql(), *rank_schema_sql(), fill_rank_sql()]:
            cursor.execute(statement)
        cursor.execute(f"INSERT INTO {RANK_TABLE}({RANK_TABLE}) VALUES ('optimize')")


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    from clarion.search.backends.sqlite import rank_drop_sql

    with connection.cursor() as cursor:
        for statement in rank_drop_sql():
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0007_searchword")]
    operations = [migrations.RunPython(forwards, backwards)]
