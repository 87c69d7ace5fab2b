"""Choosing the engine, rebuilding the index, and what each database holds."""

import importlib
import io
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from clarion.posts.models import Post
from clarion.search.backends import get_search_backend
from clarion.search.backends.fallback import FallbackSearchBackend
from clarion.search.backends.sqlite import (
    FTS_TABLE,
    RANK_TABLE,
    drop_sql,
    fts5_available,
    fts_table_exists,
    rank_drop_sql,
    schema_sql,
)
from clarion.search.checks import check_full_text_search
from clarion.search.models import SearchDocument

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="FTS5 exists only on SQLite; this run is PostgreSQL."
)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="The GIN index exists only on PostgreSQL."
)


@pytest.fixture(autouse=True)
def fresh_backend():
    get_search_backend.cache_clear()
    yield
    get_search_backend.cache_clear()


def test_it_picks_the_full_text_engine_of_the_database(db):
    expected = {"sqlite": "sqlite-fts5", "postgresql": "postgresql"}[connection.vendor]
    assert get_search_backend().name == expected


@override_settings(CLARION_SEARCH_BACKEND="clarion.search.backends.fallback")
def test_a_setting_chooses_another_backend(db):
    assert isinstance(get_search_backend(), FallbackSearchBackend)


@override_settings(CLARION_SEARCH_BACKEND="clarion.search.backends.fallback.FallbackSearchBackend")
def test_the_setting_may_name_a_class(db):
    assert isinstance(get_search_backend(), FallbackSearchBackend)


def test_rebuild_indexes_every_published_post_and_no_draft(make_post):
    make_post("First Shenyang", body="Text.")
    make_post("Second Shenyang", body="Text.")
    make_post("Draft Shenyang", body="Text.", status="draft")
    SearchDocument.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_search_index", "--batch-size", "1", stdout=out)
    assert "Indexed 2 posts with" in out.getvalue()
    assert get_search_backend().search("shenyang").total == 2


def test_rebuild_replaces_a_stale_index(make_post):
    missing = make_post("Shenyang letter", body="Text.")
    withdrawn = make_post("Tumen letter", body="Text.")
    get_search_backend().rebuild()
    # Changes that bypassed the signals: a lost document, a post unpublished by UPDATE.
    SearchDocument.objects.filter(pk=missing.pk).delete()
    Post.objects.filter(pk=withdrawn.pk).update(status="draft")
    assert SearchDocument.objects.filter(pk=withdrawn.pk).exists()
    call_command("rebuild_search_index", stdout=io.StringIO())
    assert get_search_backend().search("shenyang").total == 1
    assert not SearchDocument.objects.filter(pk=withdrawn.pk).exists()


@sqlite_only
def test_fts5_is_available_here():
    assert fts5_available() is True


@sqlite_only
def test_it_falls_back_with_a_warning_when_the_fts_table_is_missing(make_post):
    make_post("Shenyang letter", body="Text.")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {FTS_TABLE}")
    [warning] = check_full_text_search(databases=["default"])
    assert warning.id == "clarion.search.W002"
    with pytest.warns(RuntimeWarning, match="rebuild_search_index"):
        backend = get_search_backend()
    assert isinstance(backend, FallbackSearchBackend)
    call_command("rebuild_search_index", stdout=io.StringIO())
    assert fts_table_exists()
    assert get_search_backend().name == "sqlite-fts5"
    assert get_search_backend().search("shenyang").total == 1
    assert check_full_text_search(databases=["default"]) == []


@sqlite_only
def test_the_fts_index_stays_in_step_with_its_content_table(make_post):
    posts = [make_post(f"Post {n}", body=f"Word{n} text.") for n in range(5)]
    backend = get_search_backend()
    backend.index_posts([p.pk for p in posts])
    posts[0].title = "Changed"
    posts[0].save()
    ids = [p.pk for p in posts]
    posts[1].delete()
    backend.index_posts(ids)
    with connection.cursor() as cursor:
        # FTS5's own consistency check fails if the index and the content table disagree.
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")


def _rank_index_rows(expression: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {RANK_TABLE} WHERE {RANK_TABLE} MATCH %s", [expression])
        return {row[0] for row in cursor.fetchall()}


@sqlite_only
def test_the_rank_index_stays_in_step_with_its_content_table(make_post):
    posts = [make_post(f"Post {n}", body=f"Word{n} text. " + "Filler. " * 120) for n in range(3)]
    deep = make_post("Deep", body="Filler. " * 120 + "Fathom.")
    backend = get_search_backend()
    backend.index_posts([p.pk for p in [*posts, deep]])
    posts[0].title = "Changed"
    posts[0].save()
    ids = [p.pk for p in posts]
    posts[1].delete()
    backend.index_posts(ids)
    assert _rank_index_rows("changed") == {posts[0].pk}
    assert _rank_index_rows("{title} : post") == {posts[2].pk}
    assert _rank_index_rows("word1") == set()
    # The rank index holds the body's first 800 characters only.
    assert _rank_index_rows("word2") == {posts[2].pk}
    assert _rank_index_rows("fathom") == set()
    assert [h.post for h in backend.search("fathom").hits] == [deep]


@sqlite_only
def test_migration_0008_makes_and_fills_the_rank_index(make_post):
    post = make_post("Naidou letter", body="Text about Shenyang.")
    get_search_backend().index_posts([post.pk])
    with connection.cursor() as cursor:
        for statement in rank_drop_sql():
            cursor.execute(statement)
    migration = importlib.import_module("clarion.search.migrations.0008_sqlite_rank_index")
    migration.forwards(None, SimpleNamespace(connection=connection))
    assert _rank_index_rows("shenyang") == {post.pk}
    migration.forwards(None, SimpleNamespace(connection=connection))  # again: no duplicates
    assert _rank_index_rows("shenyang") == {post.pk}


@postgres_only
def test_the_gin_index_serves_the_match(make_post):
    post = make_post("Shenyang letter", body="Text.")
    get_search_backend().index_posts([post.pk])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT post_id FROM search_searchdocument"
            " WHERE search_vector @@ websearch_to_tsquery('clarion_search', 'shenyang')"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "search_doc_vector_gin" in plan


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Weighted tsvectors exist only on PostgreSQL."
)
def test_the_vector_weights_title_excerpt_and_body(make_post):
    post = make_post("Title word", body="Body word.", excerpt="Excerpt word.")
    get_search_backend().index_posts([post.pk])
    vector = SearchDocument.objects.values_list("search_vector", flat=True).get(pk=post.pk)
    assert "'titl':1A" in vector
    assert "'excerpt':" in vector and "B" in vector.split("'excerpt':")[1].split()[0]
    assert "'bodi':" in vector and vector.split("'bodi':")[1].split()[0].rstrip(",").endswith("C")


def test_past_the_rank_window_only_the_newest_matches_are_ranked(make_post, monkeypatch):
    oldest = make_post("Tumen", body="Tumen, Tumen and Tumen.")  # the best match, but old
    for n in range(5):
        make_post(f"Bulletin {n}", body="News from Tumen.")
    backend = get_search_backend()
    backend.rebuild()
    assert backend.search("tumen", limit=3).hits[0].post == oldest
    monkeypatch.setattr(backend, "rank_window", 3)
    page = backend.search("tumen", limit=3)
    # More than the window match: the page says so rather than counting them all.
    assert page.total == 3 and page.capped
    assert oldest not in [hit.post for hit in page.hits]
    # Pages end with the window: a reader narrows the search to reach older posts.
    beyond = backend.search("tumen", offset=3, limit=3)
    assert beyond.hits == [] and not beyond.capped
    assert backend.search("tumen -news", limit=3).hits[0].post == oldest
    assert [s.title for s in backend.suggest("tume")] == ["Tumen"]
    # Exactly as many matches as the window: all ranked, the count exact.
    monkeypatch.setattr(backend, "rank_window", 6)
    page = backend.search("tumen", limit=10)
    assert page.total == 6 and not page.capped and page.hits[0].post == oldest


@sqlite_only
def test_the_fts_index_reads_prefixes_of_up_to_four_letters(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [FTS_TABLE])
        assert "prefix='2 3 4'" in cursor.fetchone()[0]


@sqlite_only
def test_migration_0005_rebuilds_an_index_made_with_other_prefixes(make_post):
    post = make_post("Naidou letter", body="Text about Shenyang.")
    get_search_backend().index_posts([post.pk])
    with connection.cursor() as cursor:
        for statement in drop_sql():
            cursor.execute(statement)
        for statement in schema_sql():
            cursor.execute(statement.replace("prefix='2 3 4'", "prefix='2 3'"))
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    migration = importlib.import_module("clarion.search.migrations.0005_sqlite_prefix_4")
    migration.forwards(None, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [FTS_TABLE])
        assert "prefix='2 3 4'" in cursor.fetchone()[0]
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
    backend = get_search_backend()
    assert [h.post.title for h in backend.search("naid*").hits] == ["Naidou letter"]
    assert [h.post.title for h in backend.search("naido*").hits] == ["Naidou letter"]
    assert [s.title for s in backend.suggest("naid")] == ["Naidou letter"]
