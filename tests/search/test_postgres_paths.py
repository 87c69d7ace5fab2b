"""PostgreSQL's shortcuts to the same answers: the ranking vector (migration 0003), the
index of adjacent word pairs for phrases (0004), the two ways to the newest matches, the
ranking in tiers (0006) and snippets cut from around the match."""

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clarion.posts.models import Category, Post, Tag
from clarion.search import ranking, vocabulary
from clarion.search.backends.postgres import (
    RANK_BODY_CHARS,
    PostgresSearchBackend,
    page,
    planning,
    schema,
    tsquery,
)
from clarion.search.backends.postgres import query as pg_query
from clarion.search.models import SearchDocument, SearchWord
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
    assert planning.phrase_pairs(parse('"faced forced repatriation"')) == (
        "'face forc' & 'forc repatri'",
        False,
    )
    assert planning.phrase_pairs(parse('"prison and labour"')) == ("", False)
    assert planning.phrase_pairs(parse('"forced repatriation" OR camps')) == ("", False)
    assert planning.phrase_pairs(parse("forced repatriation")) == ("", False)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT post_id FROM search_searchdocument"
            " WHERE clarion_bigrams(search_vector) @@ %s::tsquery",
            ["'forc repatri'"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "search_doc_bigram_gin" in plan


@pytest.mark.parametrize(
    "text, exact",
    [
        ('"forced repatriation"', True),
        ('"Forced Repatriations"', True),
        ('"long long"', True),
        ('"repatriation forced"', True),
        ('"forced repatriation" border', False),
        ('"forced repatriation" -border', False),
        ('"escapee faced forced"', False),
        ('"north-east"', True),  # read as the words north east
        ('"forced the repatriation"', False),  # a stop word between
    ],
)
def test_a_phrase_of_two_words_alone_is_answered_by_its_pair(backend, phrase_posts, text, exact):
    """Its one pair stands for the phrase: the window is read from the pairs' index alone,
    and finds what the vectors would."""
    assert planning.phrase_pairs(parse(text))[1] is exact
    plain = SearchDocument.objects.filter(search_vector=tsquery(parse(text)))
    assert set(titles(backend.search(text))) == set(plain.values_list("title", flat=True))


@pytest.mark.parametrize("dense", [0.0, 1.0], ids=["walk-back", "bitmap"])
def test_both_ways_to_the_newest_matches_agree(backend, make_post, monkeypatch, dense):
    """DENSE 0 walks the posts from the newest for every query; 1 never does."""
    monkeypatch.setattr(planning, "DENSE", dense)
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
    assert [s.title for s in backend.suggest("tum")] == ["Tumen"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'),"
            " current_setting('enable_bitmapscan')"
        )
        assert cursor.fetchone() == ("on", "on", "on")


def test_the_planner_leaves_out_parallel_workers_and_puts_the_setting_back(backend, make_post):
    post = make_post("Tumen", body="Text.")
    backend.index_posts([post.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        before = cursor.fetchone()[0]
        backend.search("tumen")
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        assert cursor.fetchone()[0] == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dense", [0.0, 1e9], ids=["walk-back", "bitmap"])
def test_outside_a_transaction_a_search_opens_none_and_leaves_the_planner_as_it_was(
    make_post, monkeypatch, dense
):
    """As in a web request: each round trip carries its planner settings and is its own
    transaction, so nothing is committed or put back afterwards, and the settings are
    gone with it."""
    monkeypatch.setattr(planning, "DENSE", dense)
    backend = PostgresSearchBackend()
    oldest = make_post("Tumen", body="Tumen.", published_at=timezone.now() - timezone.timedelta(9))
    bulletins = [make_post(f"Bulletin {n}", body="News from Tumen today.") for n in range(3)]
    backend.index_posts([oldest.pk, *(p.pk for p in bulletins)])
    assert connection.get_autocommit()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        parallel = cursor.fetchone()[0]
    with CaptureQueriesContext(connection) as queries:
        assert titles(backend.search("tumen", limit=1)) == ["Tumen"]
        assert backend.search("tumen").total == 4
        assert titles(backend.search('"tumen today"')) == [f"Bulletin {n}" for n in (2, 1, 0)]
        assert set(titles(backend.search("bullet*"))) == {p.title for p in bulletins}
        assert {s.title for s in backend.suggest("bullet")} == {p.title for p in bulletins}
    sent = " ".join(q["sql"] for q in queries)
    assert "SAVEPOINT" not in sent and "COMMIT" not in sent
    assert "set_config('enable_seqscan', 'off', true)" in sent
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'),"
            " current_setting('enable_bitmapscan'),"
            " current_setting('max_parallel_workers_per_gather')"
        )
        assert cursor.fetchone() == ("on", "on", "on", parallel)


@pytest.mark.django_db(transaction=True)
def test_with_server_side_binding_each_statement_is_sent_alone(make_post, monkeypatch):
    """A DATABASE_URL may ask for server-side binding, whose prepared statements hold one
    statement each: searches then send the planner settings apart, in a transaction."""
    backend = PostgresSearchBackend()
    oldest = make_post("Tumen", body="Tumen.", published_at=timezone.now() - timezone.timedelta(9))
    bulletins = [make_post(f"Bulletin {n}", body="News from Tumen today.") for n in range(3)]
    backend.index_posts([oldest.pk, *(p.pk for p in bulletins)])
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    connection.close()
    try:
        with connection.cursor() as cursor:
            assert "ServerBinding" in type(cursor.cursor).__name__
        assert titles(backend.search("tumen", limit=1)) == ["Tumen"]
        assert titles(backend.search('"tumen today"')) == [f"Bulletin {n}" for n in (2, 1, 0)]
        assert set(titles(backend.search("bullet*"))) == {p.title for p in bulletins}
        assert {s.title for s in backend.suggest("bullet")} == {p.title for p in bulletins}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'),"
                " current_setting('enable_bitmapscan')"
            )
            assert cursor.fetchone() == ("on", "on", "on")
    finally:
        connection.close()


def test_suggestions_read_the_titles_index_not_each_title(backend, make_post):
    """Planned with bitmaps: the planner had walked the posts from the newest and parsed
    each title (47,000 titles, 230 ms, for a word in 4% of them)."""
    post = make_post("Tumen bulletin", body="Text.")
    backend.index_posts([post.pk])
    with CaptureQueriesContext(connection) as queries:
        assert [s.title for s in backend.suggest("tume")] == ["Tumen bulletin"]
    asked = next(q["sql"] for q in queries if "ts_rank(" in q["sql"])
    assert "set_config('enable_indexscan', 'off', true)" in asked
    assert "set_config('enable_bitmapscan', 'on', true)" in asked


# Ranking in tiers (migration 0006): the words in the title; else in the rank vector (title,
# excerpt, category and tag names, opening of the body); else deeper; newest first within.


@pytest.fixture
def tiered(backend, make_post):
    """Posts in every tier, the newest in the lowest, a day apart within a tier."""
    now = timezone.now()
    tag = Tag.objects.create(name="Shenyang visits")

    def post(title, days, **fields):
        return make_post(title, published_at=now - timezone.timedelta(days=days), **fields)

    posts = [
        post("Shenyang, older", 40, body="Text."),
        post("Shenyang, newer", 39, body="Text."),
        post("Summary", 30, body="Text.", excerpt="Held in Shenyang."),
        post("Label", 29, body="Text.", tags=[tag]),
        post("Opening", 28, body="Shenyang at the start. " + FILLER * 20),
        post("Deep, older", 2, body=FILLER * 20 + "Shenyang at the end."),
        post("Deep, newer", 1, body=FILLER * 20 + "Shenyang at the end."),
    ]
    backend.index_posts([p.pk for p in posts])
    return posts


def route(monkeypatch, walk: tuple[bool, bool]):
    """Force the title and opening tiers through each post's rank vector (True) or their
    GIN indexes' bitmaps (False)."""
    monkeypatch.setattr(planning, "walks", lambda *args, **kwargs: walk)


ROUTES = pytest.mark.parametrize(
    "walk",
    [(False, False), (True, True), (False, True), (True, False)],
    ids=["bitmaps", "rank-vectors", "title-bitmap", "opening-bitmap"],
)


@ROUTES
def test_tiers_rank_title_then_opening_then_the_rest_newest_first(
    backend, tiered, monkeypatch, walk
):
    route(monkeypatch, walk)
    results = backend.search("shenyang")
    assert titles(results) == [
        "Shenyang, newer",
        "Shenyang, older",
        "Opening",
        "Label",
        "Summary",
        "Deep, newer",
        "Deep, older",
    ]
    assert [hit.score for hit in results.hits] == [2, 2, 1, 1, 1, 0, 0]
    assert results.total == 7


@ROUTES
def test_a_phrase_is_tiered_by_its_words_and_found_by_its_order(
    backend, make_post, monkeypatch, walk
):
    route(monkeypatch, walk)
    words = make_post("Repatriation was forced", body="The forced repatriation of escapees.")
    other = make_post("Weekly notes", body=FILLER * 20 + "Talk of forced repatriation.")
    backend.index_posts([words.pk, other.pk])
    assert titles(backend.search('"forced repatriation"')) == [
        "Repatriation was forced",
        "Weekly notes",
    ]
    assert titles(backend.search('"repatriation forced"')) == []


@ROUTES
def test_exclusions_do_not_change_the_tiers(backend, tiered, monkeypatch, walk):
    route(monkeypatch, walk)
    assert titles(backend.search("shenyang -older")) == [
        "Shenyang, newer",
        "Opening",
        "Label",
        "Summary",
        "Deep, newer",
    ]


# Within the title and opening tiers, ts_rank_cd over the rank vectors orders the newest
# RANK_DEPTH posts; the rest of a tier follows by date.


def days_ago(days):
    return timezone.now() - timezone.timedelta(days=days)


@ROUTES
def test_within_a_tier_more_and_weightier_occurrences_rank_first(
    backend, make_post, monkeypatch, walk
):
    route(monkeypatch, walk)
    posts = [
        make_post("Shenyang", body="Text.", excerpt="A note.", published_at=days_ago(1)),
        make_post(
            "Shenyang again",
            body="Shenyang once more, and Shenyang.",
            excerpt="On Shenyang.",
            published_at=days_ago(20),
        ),
        make_post(
            "Notes", body="Shenyang, at the start.", excerpt="A note.", published_at=days_ago(2)
        ),
        make_post("Summary", body="Text.", excerpt="Held in Shenyang.", published_at=days_ago(30)),
    ]
    backend.index_posts([p.pk for p in posts])
    # The title tier, then the opening tier: an excerpt (weight B) above the body (C).
    assert titles(backend.search("shenyang")) == ["Shenyang again", "Shenyang", "Summary", "Notes"]


@ROUTES
def test_within_a_tier_words_close_together_rank_first(backend, make_post, monkeypatch, walk):
    route(monkeypatch, walk)
    far = make_post("Forced to wait for news of repatriation", body="Text.", excerpt="A note.")
    near = make_post(
        "Forced repatriation", body="Text.", excerpt="A note.", published_at=days_ago(10)
    )
    backend.index_posts([far.pk, near.pk])
    assert titles(backend.search("forced repatriation")) == [near.title, far.title]
    assert titles(backend.search('"forced repatriation"')) == [near.title]


@pytest.fixture
def title_tier(backend, make_post):
    """Four title matches, the oldest with the most occurrences."""
    posts = [
        make_post(f"Shenyang {n}", body="Text.", excerpt="A note.", published_at=days_ago(n))
        for n in (1, 2, 3)
    ]
    posts.append(
        make_post(
            "Shenyang, Shenyang",
            body="Shenyang.",
            excerpt="Shenyang.",
            published_at=days_ago(9),
        )
    )
    backend.index_posts([p.pk for p in posts])
    return posts


def test_past_the_rank_depth_a_tier_is_in_date_order(backend, title_tier, monkeypatch):
    assert titles(backend.search("shenyang"))[0] == "Shenyang, Shenyang"
    monkeypatch.setattr(ranking, "RANK_DEPTH", 2)
    # The newest two are ranked (a tie: newest first), then the rest by date.
    assert titles(backend.search("shenyang")) == [
        "Shenyang 1",
        "Shenyang 2",
        "Shenyang 3",
        "Shenyang, Shenyang",
    ]


@pytest.mark.parametrize("depth", [1, 2, 50])
def test_pages_of_one_hit_follow_the_order_of_one_page(backend, title_tier, monkeypatch, depth):
    monkeypatch.setattr(ranking, "RANK_DEPTH", depth)
    whole = titles(backend.search("shenyang"))
    pages = [titles(backend.search("shenyang", offset=n, limit=1)) for n in range(4)]
    assert [title for page in pages for title in page] == whole


def test_a_post_unpublished_since_it_was_indexed_is_neither_listed_nor_counted(backend, tiered):
    Post.objects.filter(title="Shenyang, newer").update(status=Post.Status.DRAFT)
    results = backend.search("shenyang")
    assert "Shenyang, newer" not in titles(results)
    assert results.total == 6


def test_the_hits_come_with_their_posts_in_the_same_statement(backend, tiered):
    with CaptureQueriesContext(connection) as queries:
        results = backend.search("shenyang")
    assert len(results.hits) == 7
    assert all(hit.post.get_absolute_url() for hit in results.hits)
    assert not [q for q in queries if 'FROM "posts_post"' in q["sql"]]


# Snippets are highlighted from the text around the first word of the body that looks like
# a match, not from the whole body.


def test_a_snippet_is_cut_from_around_the_first_match(backend, make_post):
    body = FILLER * 40 + "They were held in a Shenyang detention centre. " + FILLER * 40
    post = make_post("A letter", body=body)
    backend.index_posts([post.pk])
    snippet = backend.search("shenyang").hits[0].snippet_html
    assert "<mark>Shenyang</mark> detention centre" in snippet
    assert len(snippet) < page.SNIPPET_CHARS


def test_a_look_alike_before_the_match_falls_back_to_the_whole_body(backend, make_post):
    # 'forcibly' looks like 'forc' (forced) to the locator, but is not a match.
    body = "Forcibly moved. " + FILLER * 40 + "Then forced out of the camp."
    post = make_post("A letter", body=body)
    backend.index_posts([post.pk])
    assert "<mark>forced</mark> out" in backend.search("forced").hits[0].snippet_html


def test_a_match_spelt_with_accents_is_found_in_the_whole_body(backend, make_post):
    post = make_post("Notes", body=FILLER * 40 + "A meeting in Zürich about the camps.")
    backend.index_posts([post.pk])
    assert "<mark>Zürich</mark>" in backend.search("zurich").hits[0].snippet_html


def test_a_title_match_with_no_word_in_the_body_shows_the_excerpt(backend, make_post):
    post = make_post("Shenyang", body="Nothing here.", excerpt="A short summary.")
    backend.index_posts([post.pk])
    assert backend.search("shenyang").hits[0].snippet_html == "A short summary."


def test_migration_0006_adds_the_rank_index_and_takes_it_away(backend):
    migration = importlib.import_module("clarion.search.migrations.0006_pg_rank_gin")
    editor = SimpleNamespace(connection=connection, execute=_execute)

    def exists():
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('search_doc_rank_gin') IS NOT NULL")
            return cursor.fetchone()[0]

    assert exists()
    migration.backwards(None, editor)
    assert not exists()
    migration.forwards(None, editor)
    assert exists()


def _execute(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)


def test_a_rebuild_leaves_no_pending_entries_in_the_gin_indexes(backend, make_post):
    make_post("Tumen", body="Text.")
    backend.rebuild()
    assert backend.clean_pending_lists() == 0


def test_a_phrase_snippet_is_cut_from_around_the_phrase_not_its_first_word(backend, make_post):
    body = "Forced out early. " + FILLER * 40 + "Then came the forced repatriation of many."
    post = make_post("A letter", body=body)
    backend.index_posts([post.pk])
    snippet = backend.search('"forced repatriation"').hits[0].snippet_html
    assert "<mark>forced</mark> <mark>repatriation</mark> of many" in snippet


def _an_old_post_four_bulletins_and_others(backend, make_post, old_body, bulletin_body):
    """ "Tumen" nine days old, "Bulletin 0-3" now, six posts about Seoul; all indexed."""
    old = make_post(
        "Tumen", body=old_body, published_at=timezone.now() - timezone.timedelta(days=9)
    )
    news = [make_post(f"Bulletin {n}", body=bulletin_body) for n in range(4)]
    others = [make_post(f"Other {n}", body="Seoul.") for n in range(6)]
    backend.index_posts([old.pk, *(p.pk for p in news + others)])


def window_selects(queries) -> list[str]:
    """The statements asking for the newest matches, each sent after its planner settings."""
    return [q["sql"].split("; ", 1)[1] for q in queries if "; SELECT post_id FROM" in q["sql"]]


@pytest.mark.parametrize("margin", [1e-9, 1e9], ids=["too-few-then-all", "enough"])
def test_the_newest_matches_among_the_newest_ids_are_the_newest_matches(
    backend, make_post, monkeypatch, margin
):
    """With SPAN_FROM 0 every query is first asked among the newest ids; a tiny margin finds
    too few there and asks again among all, a huge one finds them at once."""
    monkeypatch.setattr(planning, "DENSE", 1e9)  # never the walk back
    monkeypatch.setattr(planning, "SPAN_FROM", 0.0)
    monkeypatch.setattr(planning, "SPAN_MARGIN", margin)
    monkeypatch.setattr(backend, "rank_window", 3)
    _an_old_post_four_bulletins_and_others(backend, make_post, "Tumen.", "News from Tumen.")
    with CaptureQueriesContext(connection) as queries:
        page = backend.search("tumen")
    windows = window_selects(queries)
    assert "AND post_id >" in windows[0]
    assert len(windows) == (2 if margin < 1 else 1)
    assert page.capped and page.total == 3
    assert titles(page) == ["Bulletin 3", "Bulletin 2", "Bulletin 1"]
    assert titles(backend.search("tumen -news")) == ["Tumen"]


@pytest.mark.parametrize("span", [0, 1, 1000], ids=["none-there", "few-there", "all-there"])
@pytest.mark.parametrize("text", ["tum*"])
def test_a_prefix_first_asks_a_guessed_span_of_the_newest_ids(
    backend, make_post, monkeypatch, span, text
):
    """The planner cannot estimate a prefix begun by more than ESTIMATE_WORDS words:
    GUESS_SPAN windows of the newest ids are asked first, then all ids when that finds too
    few; the answer is the same."""
    monkeypatch.setattr(planning, "ESTIMATE_WORDS", 0)
    monkeypatch.setattr(planning, "DENSE", 1e9)
    monkeypatch.setattr(planning, "SPAN_FROM", 1e9)  # no span from the estimates
    monkeypatch.setattr(planning, "GUESS_SPAN", span)
    monkeypatch.setattr(backend, "rank_window", 3)
    _an_old_post_four_bulletins_and_others(backend, make_post, "Tumen news.", "Tumen news today.")
    with CaptureQueriesContext(connection) as queries:
        page = backend.search(text)
    windows = window_selects(queries)
    assert "AND post_id >" in windows[0]
    assert len(windows) == (1 if span == 1000 else 2)
    assert page.capped and page.total == 3
    assert titles(page) == ["Bulletin 3", "Bulletin 2", "Bulletin 1"]


@pytest.mark.parametrize(
    ("span_from", "margin", "asked"),
    [(1e9, 1.0, 1), (0.0, 1e-9, 2), (0.0, 1e9, 1)],
    ids=["rare-asks-all", "too-few-then-all", "enough-among-the-newest"],
)
@pytest.mark.parametrize(
    ("text", "estimated_by", "not_by"),
    [
        # A phrase answered by its pair: the pair's own statistics (migration 0004's index).
        ('"tumen news"', "clarion_bigrams(search_vector) @@", None),
        # A prefix begun by few words of the vocabulary: those words.
        ("tum*", "'tumen'", "'tum':*"),
    ],
    ids=["pair", "prefix"],
)
def test_a_span_of_the_newest_ids_is_asked_only_when_the_estimate_says_it_is_common(
    backend, make_post, monkeypatch, span_from, margin, asked, text, estimated_by, not_by
):
    """A pair or a prefix the planner cannot estimate as it stands is estimated otherwise,
    and then, as a word, asks a span of the newest ids only when common; a rare one asks
    all ids at once."""
    monkeypatch.setattr(planning, "DENSE", 1e9)
    monkeypatch.setattr(planning, "SPAN_FROM", span_from)
    monkeypatch.setattr(planning, "SPAN_MARGIN", margin)
    monkeypatch.setattr(planning, "GUESS_SPAN", 1000)  # would find them all at once
    monkeypatch.setattr(backend, "rank_window", 3)
    _an_old_post_four_bulletins_and_others(backend, make_post, "Tumen news.", "Tumen news today.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE search_searchdocument")
    with CaptureQueriesContext(connection) as queries:
        page = backend.search(text)
    estimate = next(q["sql"] for q in queries if "EXPLAIN" in q["sql"])
    assert estimated_by in estimate
    assert not_by is None or not_by not in estimate
    windows = window_selects(queries)
    assert len(windows) == asked
    assert ("AND post_id >" in windows[0]) is (span_from == 0.0)
    assert page.capped and page.total == 3
    assert titles(page) == ["Bulletin 3", "Bulletin 2", "Bulletin 1"]


def test_the_estimated_query_reads_each_prefix_as_its_words(db, monkeypatch):
    SearchWord.objects.bulk_create(
        [
            SearchWord(word=w, stem=s)
            for w, s in [("tumen", "tumen"), ("tumult", "tumult"), ("the", ""), ("then", "")]
        ]
    )
    query = parse('"forced tum*" OR seoul -the* zzq*')
    estimated = planning.estimated_query(query)
    assert [[t.words for t in c.terms] for c in estimated.clauses] == [
        [("forced", "tumen"), ("forced", "tumult"), ("seoul",)],
        [("the",)],
        [("zzq",)],
    ]
    assert [[t.prefix for t in c.terms] for c in estimated.clauses][1:] == [[True], [True]]
    assert planning.estimated_query(parse("tumen seoul")) is None
    monkeypatch.setattr(planning, "ESTIMATE_WORDS", 1)
    assert planning.estimated_query(query) is None


def test_the_estimates_are_read_off_a_plan_without_parallel_workers(backend, make_post):
    """A parallel plan's aggregate counts the two or three partial counts of its workers:
    read there, an estimate of thousands of posts came out as 2."""
    posts = [make_post(f"Tumen {n}", body="Tumen news today.") for n in range(40)]
    backend.index_posts([p.pk for p in posts])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE search_searchdocument")
        for name in (
            "parallel_setup_cost",
            "parallel_tuple_cost",
            "min_parallel_table_scan_size",
            "min_parallel_index_scan_size",
        ):
            cursor.execute("SELECT set_config(%s, '0', true)", [name])
        cursor.execute("SELECT set_config('max_parallel_workers_per_gather', '2', true)")
        query = parse('"tumen news"')
        pairs, _ = planning.phrase_pairs(query)
        match_sql, match_params = pg_query.tsquery_sql(query)
        estimates = planning.estimates(
            cursor,
            (f"search_vector @@ {match_sql}", match_params),
            pg_query.tier_tsquery_sql(query),
            pairs,
        )[0]
        matching, _in_titles, in_openings, with_pair = estimates
        assert min(matching, in_openings, with_pair) >= 20, estimates


@pytest.mark.parametrize(
    "text",
    [
        "shenyang",
        "forced repatriation",
        '"forced repatriation"',
        "Shen*",
        '"forced repatriation" -border',
        "camps OR prisons -china",
        '"north-east" labour*',
        "l'escapée",
        "Sheny*",
        '"forced repatria*"',
        "repatria* -shen* OR tumen*",
    ],
)
def test_the_page_statements_tsquery_is_the_one_the_orm_builds(db, text):
    """The page statement writes its tsquery as SQL (tsquery_sql) to save the ORM's cost;
    the count and suggestions still use the ORM's (tsquery). Both must ask the same."""
    SearchWord.objects.bulk_create(
        SearchWord(word=w) for w in ["shenyang", "shenzhen", "repatriation", "tumen", "she"]
    )
    query = vocabulary.expand(parse(text))
    orm_sql, orm_params = schema.compile_expression(tsquery(query))
    sql, params = pg_query.tsquery_sql(query)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({orm_sql})::text, ({sql})::text", [*orm_params, *params])
        from_orm, written = cursor.fetchone()
    assert written == from_orm


def test_a_tier_in_most_matches_is_walked_and_a_rare_one_read_from_its_index():
    window = list(range(100_000, 99_000, -1))
    # A word in 60% of the posts, in 1% of their titles and two thirds of their openings.
    assert planning.walks(window, 60_000, 600, 40_000, 60) == (False, True)
    # A rare word: both tiers from their bitmaps.
    assert planning.walks(window, 1_200, 20, 300, 60) == (False, False)


def test_a_phrase_only_in_the_title_shows_the_excerpt(backend, make_post):
    body = FILLER * 40 + "They were forced out. " + FILLER * 2 + "Repatriation came next. "
    post = make_post("Forced repatriation", body=body, excerpt="A short summary.")
    backend.index_posts([post.pk])
    hit = backend.search('"forced repatriation"').hits[0]
    assert hit.title_html == "<mark>Forced</mark> <mark>repatriation</mark>"
    assert hit.snippet_html == "A short summary."


def test_the_hits_come_with_their_categories_by_name(backend, make_post):
    zulu, alpha = Category.objects.create(name="Zulu"), Category.objects.create(name="Alpha")
    filed = make_post("Shenyang notes", categories=[zulu, alpha])
    loose = make_post("Shenyang loose", published_at=days_ago(3))
    loose.categories.clear()
    backend.index_posts([filed.pk, loose.pk])
    with CaptureQueriesContext(connection) as queries:
        hits = backend.search("shenyang").hits
    assert not [q for q in queries if "posts_category" in q["sql"] and "WITH" not in q["sql"]]
    listed = hits[0].post.listed_categories
    assert [(c.name, c.get_absolute_url()) for c in listed] == [
        ("Alpha", alpha.get_absolute_url()),
        ("Zulu", zulu.get_absolute_url()),
    ]
    # Left to attach_terms(), which shows the site's default category.
    assert not hasattr(hits[1].post, "listed_categories")


def test_a_window_read_anyway_to_be_counted_is_walked_sooner():
    window = list(range(1_000, 0, -1))
    assert planning.walks(window, 900, 20, 700, 60) == (False, False)
    assert planning.walks(window, 900, 20, 700, 60, counted=True) == (False, True)
