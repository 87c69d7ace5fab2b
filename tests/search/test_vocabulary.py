"""The vocabulary of indexed words that prefixes are matched against whole
(clarion/search/vocabulary.py): what goes in, how it follows posts, and how it is read."""

import importlib
import io
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from clarion.search import vocabulary
from clarion.search.backends import get_search_backend
from clarion.search.models import SearchWord
from clarion.search.query import parse


def stored() -> set[str]:
    return set(SearchWord.objects.values_list("word", flat=True))


def test_words_are_folded_and_split_as_the_query_parser_splits_them():
    assert vocabulary.words_of(["Zürich's ÉCOLE", "l'escapée, north-east_2021 ½"]) == {
        "zurich",
        "s",
        "ecole",
        "l",
        "escapee",
        "north",
        "east",
        "2021",
        "1",
        "2",
    }
    # The engines keep "ß": folding it to "ss" would give a word that matches nothing.
    assert vocabulary.words_of(["Straße"]) == {"straße"}


def test_overlong_words_are_left_out():
    assert vocabulary.words_of(["x" * 49, "y" * 48]) == {"y" * 48}


@pytest.mark.django_db(transaction=True)
def test_publishing_a_post_adds_the_words_of_its_title_excerpt_body_and_labels(make_post, labels):
    make_post(
        "Shenyang letter",
        excerpt="An excerpt about Pyŏngyang.",
        body="Forced repatriation.",
        categories=[labels["category"]],
        tags=[labels["tag"]],
    )
    assert {"shenyang", "letter", "excerpt", "pyongyang", "repatriation", "human"} <= stored()
    assert "refugees" in stored()


@pytest.mark.django_db(transaction=True)
def test_an_edit_adds_its_new_words_and_an_old_word_matches_nothing(make_post):
    post = make_post("Old title", body="About Tumen.")
    post.body = "About Shenyang."
    post.save()
    assert {"tumen", "shenyang"} <= stored()
    backend = get_search_backend()
    assert backend.search("tum*").hits == []
    assert [h.post.title for h in backend.search("sheny*").hits] == ["Old title"]


def test_rebuilding_the_index_starts_the_vocabulary_afresh(make_post):
    make_post("Shenyang letter", body="Text.")
    SearchWord.objects.create(word="stale")
    SearchWord.objects.filter(word="shenyang").delete()
    call_command("rebuild_search_index", "--batch-size", "1", stdout=io.StringIO())
    # The post's default category too.
    assert stored() == {"shenyang", "letter", "text", "uncategorized"}


def test_the_migration_fills_the_vocabulary_from_the_documents_in_batches(make_post, monkeypatch):
    posts = [make_post(f"Bulletin {n}", body=f"Word{n} from Shenyang.") for n in range(5)]
    get_search_backend().index_posts([p.pk for p in posts])
    expected = stored()
    SearchWord.objects.all().delete()
    migration = importlib.import_module("clarion.search.migrations.0007_searchword")
    monkeypatch.setattr(migration, "BATCH", 2)
    migration.backfill(apps, SimpleNamespace(connection=connection))
    assert stored() == expected
    assert {"bulletin", "word0", "word4", "shenyang"} <= expected


def test_a_prefix_reads_its_words_shortest_first_and_no_others(db):
    SearchWord.objects.bulk_create(
        SearchWord(word=w)
        for w in ["shem", "shen", "shenyang", "shenz", "shenzhen", "sheo", "shenyangs", "ẓ"]
    )
    assert vocabulary.starting_with("shen") == [
        "shen",
        "shenz",
        "shenyang",
        "shenzhen",
        "shenyangs",
    ]
    assert vocabulary.starting_with("SHÉNY") == ["shenyang", "shenyangs"]
    assert vocabulary.starting_with("shen", limit=2) == ["shen", "shenz"]
    assert vocabulary.starting_with("x" * 49) == []


def test_a_prefix_is_given_only_the_words_its_stem_does_not_begin(db):
    SearchWord.objects.bulk_create(
        SearchWord(word=w, stem=s)
        for w, s in [
            ("repatriation", "repatri"),
            ("repatriations", "repatri"),
            ("repatriationist", "repatriationist"),
            ("repatriable", None),
            ("repatrias", ""),
        ]
    )
    assert vocabulary.starting_with("repatria", stem="repatria") == [
        "repatriable",
        "repatriation",
        "repatriations",
    ]
    # A prefix the engine drops (a stop word on PostgreSQL) needs every word it keeps.
    assert len(vocabulary.starting_with("repatria", stem="")) == 4


def test_the_engine_stems_words_as_it_indexed_them(db):
    stems = get_search_backend().stems(["sheny", "shenyang", "repatriation", "zurich"])
    assert stems == {
        "sheny": "sheni",
        "shenyang": "shenyang",
        "repatriation": "repatri",
        "zurich": "zurich",
    }


def test_a_prefix_term_is_given_the_words_and_other_terms_are_not(db):
    SearchWord.objects.bulk_create(SearchWord(word=w) for w in ["repatriation", "repatriate"])
    query = vocabulary.expand(parse('korea "forced repatria*" -repatr*'))
    korea, phrase, excluded = [c.terms[0] for c in query.clauses]
    assert korea.alternatives == ()
    assert phrase.words == ("forced", "repatria") and phrase.prefix
    assert phrase.alternatives == ("repatriate", "repatriation")
    assert excluded.alternatives == ("repatriate", "repatriation")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite compares text by code point already."
)
def test_the_words_are_ordered_by_code_point_on_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns"
            " WHERE table_name = 'search_searchword' AND column_name = 'word'"
        )
        assert cursor.fetchone()[0] == "C"
