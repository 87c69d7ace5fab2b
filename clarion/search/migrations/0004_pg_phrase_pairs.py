# PostgreSQL only: an index of each post's pairs of adjacent words, for exact phrases.
#
# A tsvector's GIN index knows which posts hold each word but not where, so for "veira paire"
# PostgreSQL read the whole vector of each of the 38,000 posts holding both words to find the
# 653 where they stand together (0.4 to 1 s at 100,000 posts). clarion_bigrams() turns a vector
# into the set of its adjacent lexeme pairs ('veira pair'), and the GIN index over it narrows
# a phrase to the posts holding its pairs before the vectors are read (the backend's
# _phrase_pairs and _newest_matches). The pairs come from the stored vector's own positions,
# so every post the phrase matches holds them: the index only narrows, it decides nothing.
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION clarion_bigrams(v tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_to_tsvector(array_agg(DISTINCT a.lexeme || ' ' || b.lexeme)), '')
  FROM (SELECT l.lexeme, unnest(l.positions) AS pos FROM unnest(v) AS l) AS a
  JOIN (SELECT l.lexeme, unnest(l.positions) AS pos FROM unnest(v) AS l) AS b
    ON b.pos = a.pos + 1
$$
"""
INDEX = "search_doc_bigram_gin"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON search_searchdocument"
        " USING gin (clarion_bigrams(search_vector))"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute("DROP FUNCTION IF EXISTS clarion_bigrams(tsvector)")


class Migration(migrations.Migration):
    dependencies = [("search", "0003_pg_rank_vector")]
    operations = [migrations.RunPython(forwards, backwards)]
