# The vocabulary of indexed words (SearchWord, clarion/search/vocabulary.py), so that a
# prefix such as ``sheny*`` or ``repatria*`` finds the words stemming hides from it
# (issue #5). Filled here from the documents already indexed, so an existing site needs no
# rebuild: 500 documents at a time (a site may have 100,000 posts), each word sent once,
# with its stem as the engine in use makes it.
from django.db import migrations, models

BATCH = 500


def c_collation(apps, schema_editor):
    # Words beginning with a prefix are one range of the primary key only in code-point
    # order: SQLite's BINARY collation is that order, PostgreSQL's "C" too; a database's
    # default (en_US.UTF-8, say) is not.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE search_searchword ALTER COLUMN word TYPE varchar(48) COLLATE "C"'
        )


def backfill(apps, schema_editor):
    from clarion.search.backends import stemmer
    from clarion.search.vocabulary import INSERT_BATCH, words_of

    SearchDocument = apps.get_model("search", "SearchDocument")
    SearchWord = apps.get_model("search", "SearchWord")
    db = schema_editor.connection.alias
    stems = stemmer(schema_editor.connection)
    documents = SearchDocument.objects.using(db).order_by("post_id")
    seen: set[str] = set()
    last = None
    while True:
        batch = documents if last is None else documents.filter(post_id__gt=last)
        rows = list(batch.values_list("post_id", "title", "excerpt", "body", "terms")[:BATCH])
        if not rows:
            break
        last = rows[-1][0]
        words = sorted(words_of(text for row in rows for text in row[1:]) - seen)
        seen.update(words)
        stemmed = stems(words) if stems and words else {}
        SearchWord.objects.using(db).bulk_create(
            [SearchWord(word=w, stem=stemmed.get(w)) for w in words],
            batch_size=INSERT_BATCH,
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("search", "0006_pg_rank_gin")]
    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("word", models.CharField(max_length=48, primary_key=True, serialize=False)),
                ("stem", models.TextField(null=True)),
            ],
        ),
        migrations.RunPython(c_collation, migrations.RunPython.noop),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
