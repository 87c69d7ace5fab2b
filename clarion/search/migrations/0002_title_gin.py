# A GIN index over the titles alone, for the as-you-type suggestions on PostgreSQL. Asking the
# weighted vector for title (weight A) matches made PostgreSQL read every matching post's whole
# vector to check the weights: 1.6 s at p95 on 100,000 posts. Created on PostgreSQL only, like
# the main GIN index in 0001; the expression is the one the backend filters on
# (clarion/search/backends/postgres/schema.py, title_vector), so the planner can use it.
from django.db import migrations

TITLE_INDEX = "search_doc_title_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from clarion.search.backends.postgres import title_vector_index

    schema_editor.add_index(apps.get_model("search", "SearchDocument"), title_vector_index())


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TITLE_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
