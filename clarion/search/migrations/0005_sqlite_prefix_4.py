# SQLite only: the FTS5 index gains a prefix index of four letters (PREFIXES in
# clarion/search/backends/sqlite.py), so a query such as ``naid*`` no longer merges the
# posting lists of every term that starts so. FTS5 cannot change a table's prefixes, so an
# index created with other prefixes is dropped, created again and filled from its content
# table (about two minutes at 100,000 posts). Without FTS5 there is nothing to do.
from django.db import migrations


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    from clarion.search.backends.sqlite import (
        FTS_TABLE,
        PREFIXES,
        create_fts,
        drop_sql,
        fts_table_exists,
    )

    if not fts_table_exists(using=connection):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [FTS_TABLE])
        if f"prefix='{PREFIXES}'" in cursor.fetchone()[0]:
            return
        for statement in drop_sql():
            cursor.execute(statement)
        create_fts(cursor)
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")


class Migration(migrations.Migration):
    dependencies = [("search", "0004_pg_phrase_pairs")]
    # Backwards, the larger index answers all the smaller one did.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
