# PostgreSQL only: a GIN index over the rank vectors (migration 0003), so ranking reads no
# vector per match.
#
# Results are ranked in tiers (docs/search.md, "Ranking on PostgreSQL"): the query's words in
# the title, else in the title, excerpt, category and tag names or the opening of the body
# (the rank vector), else deeper in the body. The tiers are bitmaps from this index and the
# titles' own (migration 0002), where ts_rank_cd read the rank vector of each of the newest
# 1,000 matches (17 ms of a 32 ms search at 100,000 posts). 31 MB at 100,000 posts, built in
# about 10 s.
from django.db import migrations

INDEX = "search_doc_rank_gin"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON search_searchdocument USING gin (rank_vector)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("search", "0005_sqlite_prefix_4")]
    operations = [migrations.RunPython(forwards, backwards)]
