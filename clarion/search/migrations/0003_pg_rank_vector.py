# PostgreSQL only: a small vector to rank by, and a narrow table to find matches in.
#
# ts_rank_cd read each match's whole weighted vector (about 4.7 kB, stored out of line): 60 to
# 80 ms for the 1,000 matches of the rank window at 100,000 posts. ``rank_vector`` holds the
# same weights over the title, the excerpt with category and tag names, and only the opening of
# the body (RANK_BODY_CHARS in clarion/search/backends/postgres/schema.py); matching still uses the
# full ``search_vector``. The column is not on the model (SQLite has no use for it); the
# backend writes it with ``search_vector``.
#
# toast_tuple_target = 128 moves the excerpt, body and vectors out of the table's rows, so that
# the rows are about 100 bytes: finding the newest matches visits the table's page of every
# match, and with the texts inline that was 13,000 pages for a common word. Titles stay in the
# row (STORAGE MAIN): suggestions read them. The UPDATE below rewrites every row, so an
# existing index takes the new layout at once; `rebuild_search_index` does the same.
from django.db import migrations

TABLE = "search_searchdocument"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from clarion.search.backends.postgres import RANK_VECTOR_SQL

    schema_editor.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS rank_vector tsvector")
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN title SET STORAGE MAIN")
    schema_editor.execute(f"ALTER TABLE {TABLE} SET (toast_tuple_target = 128)")
    schema_editor.execute(f"UPDATE {TABLE} SET rank_vector = {RANK_VECTOR_SQL}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} RESET (toast_tuple_target)")
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN title SET STORAGE EXTENDED")
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS rank_vector")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_title_gin")]
    operations = [migrations.RunPython(forwards, backwards)]
