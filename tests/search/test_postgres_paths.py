"""PostgreSQL's shortcuts to the same answers: the ranking vector (migration 0003), the
index of adjacent word pairs for phrases (0004) and the two ways to the newest matches."""

import pytest
from django.db import connection
from django.utils import timezone

from clarion.search.backends import postgres
from clarion.search.backends.postgres import RANK_BODY_CHARS, PostgresSearchBackend, tsquery
from clarion.search.models import SearchDocument
from clarion.search.query import parse

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="These shortcuts exist only on PostgreSQL."
)

FILLER = "Questions in the Lords this week covered housing, energy prices and the courts. "


@pytest.fixture
def backend(db):
    return PostgresSearchBackend()


def titles(results):
    return [hit.post.title for hit in results.hits]


def rank_vector(pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rank_vector FROM search_searchdocument WHERE post_id = %s", [pk])
        return cursor.fetchone()[0]


def test_the_rank_vector_holds_title_excerpt_and_the_opening_of_the_body(backend, make_post):
    body = "Held in Shenyang. " + FILLER * (RANK_BODY_CHARS // len(FILLER) + 1) + "Then Tumen."
    post = make_post("Title word", body=body, excerpt="Excerpt word.")
    backend.index_posts([post.pk])
    vector = rank_vector(post.pk)
    assert "'titl':1A" in vector
    assert "'excerpt':" in vector
    assert "'shenyang':" in vector
    assert "tumen" not in vector
    # Matching still reads the whole body.
    assert titles(backend.search("tumen")) == ["Title word"]


def test_the_rank_vector_follows_edits_and_rebuilds(backend, make_post):
    post = make_post("Old title", body="About Tumen.")
    backend.index_posts([post.pk])
    post.title = "Shenyang letter"
    post.save()
    backend.index_posts([post.pk])
    assert "'shenyang':1A" in rank_vector(post.pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE search_searchdocument SET rank_vector = NULL")
    backend.rebuild()
    assert "'shenyang':1A" in rank_vector(post.pk)


def test_a_word_near_the_top_of_a_post_outranks_the_same_word_deep_in_another(backend, make_post):
    top = make_post(
        "Weekly notes",
        body="Shenyang first. " + FILLER * 60,
        published_at=timezone.now() - timezone.timedelta(days=30),
    )
    deep = make_post("Round-up", body=FILLER * 60 + "Shenyang last.")
    backend.index_posts([top.pk, deep.pk])
    assert titles(backend.search("shenyang")) == ["Weekly notes", "Round-up"]


@pytest.fixture
def phrase_posts(backend, make_post):
    bodies = {
        "First": "They face forced repatriation to the north.",
        "Second": "Repatriation was forced on them.",
        "Camps": "Sent to prison and labour camps in the north-east.",
        "Labour": "Prison labour, and camps.",
        "Deep": FILLER * 80 + "An escapee faced forced repatriation at the border.",
        "Repeated": "Long long forced; later repatriation.",
    }
    posts = [make_post(title, body=body) for title, body in bodies.items()]
    backend.index_posts([p.pk for p in posts])


@pytest.mark.parametrize(
    "text, expected",
    [
        ('"forced repatriation"', {"First", "Deep"}),
        ('"escapee faced forced"', {"Deep"}),
        ('"forced repatriation" border', {"Deep"}),
        ('"forced repatriation" -border', {"First"}),
        ('"forced repatriation" OR "prison labour"', {"First", "Deep", "Labour"}),
        ('"prison and labour camps"', {"Camps"}),  # a stop word inside: no pair to ask for
        ('"north-east"', {"Camps"}),
        ('"long long"', {"Repeated"}),
        ('"repatriation forced"', set()),
        ('"the north"', {"First", "Camps"}),  # a stop word first: 'north' alone
    ],
)
def test_phrases_find_the_same_posts_through_the_pairs_index(backend, phrase_posts, text, expected):
    assert set(titles(backend.search(text))) == expected
    # The same as asking the full vectors alone: the pairs index only narrows.
    plain = SearchDocument.objects.filter(search_vector=tsquery(parse(text)))
    assert set(plain.values_list("title", flat=True)) == expected


def test_a_phrase_asks_the_pairs_index_for_its_adjacent_words(backend, phrase_posts):
    assert backend._phrase_pairs(parse('"faced forced repatriation"')) == (
        "'face forc' & 'forc repatri'"
    )
    assert backend._phrase_pairs(parse('"prison and labour"')) == ""
    assert backend._phrase_pairs(parse('"forced repatriation" OR camps')) == ""
    assert backend._phrase_pairs(parse("forced repatriation")) == ""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT post_id FROM search_searchdocument"
            " WHERE clarion_bigrams(search_vector) @@ %s::tsquery",
            ["'forc repatri'"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "search_doc_bigram_gin" in plan


@pytest.mark.parametrize("dense", [0.0, 1.0], ids=["walk-back", "bitmap"])
def test_both_ways_to_the_newest_matches_agree(backend, make_post, monkeypatch, dense):
    """DENSE 0 walks the posts from the newest for every query; 1 never does."""
    monkeypatch.setattr(postgres, "DENSE", dense)
    oldest = make_post(
        "Tumen",
        body="Tumen, Tumen and Tumen.",
        published_at=timezone.now() - timezone.timedelta(days=9),
    )
    bulletins = [make_post(f"Bulletin {n}", body="News from Tumen and Seoul.") for n in range(4)]
    backend.index_posts([oldest.pk, *(p.pk for p in bulletins)])
    assert titles(backend.search("tumen", limit=1)) == ["Tumen"]
    assert backend.search("tumen").total == 5
    assert set(titles(backend.search("seoul"))) == {p.title for p in bulletins}
    monkeypatch.setattr(backend, "rank_window", 3)
    page = backend.search("tumen")
    assert page.capped and page.total == 3
    assert titles(page) == ["Bulletin 3", "Bulletin 2", "Bulletin 1"]


def test_the_planner_settings_are_put_back(backend, make_post):
    post = make_post("Tumen", body="Text.")
    backend.index_posts([post.pk])
    backend.search("tumen")
    backend.search('"tumen text"')
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'),"
            " current_setting('enable_bitmapscan')"
        )
        assert cursor.fetchone() == ("on", "on", "on")
