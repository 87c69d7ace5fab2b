"""The ranking policy (docs/search.md, "Ranking policy"), held on both engines.

The suite runs once on SQLite and once on PostgreSQL: the same corpus and the same queries
run on each, and each query's expected order is written out here, as the policy makes it.
Where the policy leaves a choice to the engine (how rare words weigh inside a tier), the
corpus does not depend on it.
"""

from datetime import UTC, datetime, timedelta

import pytest

from clarion.posts.models import Category
from clarion.search.backends import get_search_backend
from clarion.search.backends.fallback import FallbackSearchBackend

# Neutral text, none of whose words (or their beginnings) are looked for. Every body is
# OPENING words, then FILLER (past the 800 characters the opening tier reads), then DEEP
# words, then FILLER again: the same length, give or take the words placed.
FILLER = (
    "The committee met on Tuesday and read the minutes aloud before the vote. "
    "Members spoke briefly about the budget, the roads and the school timetable. "
) * 7
EXCERPT = "A short account of the week, written for readers who could not attend."
START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def body(opening: str = "", deep: str = "") -> str:
    return f"{opening} {FILLER} {deep} {FILLER}".strip()


# (title, excerpt, opening of the body, deep in the body, category, day published)
CORPUS = [
    # Where a word stands: title > excerpt or names > opening of the body > deep in it.
    ("Glacier walk above the valley", EXCERPT, "", "", None, 1),
    ("Glacier report with pictures", "The glacier retreated again. " + EXCERPT, "", "", None, 0),
    ("Notes from the mountain hut", "We saw the glacier at dawn. " + EXCERPT, "", "", None, 2),
    ("A talk at the village hall", EXCERPT, "The glacier was the first topic.", "", None, 3),
    ("Minutes of the spring meeting", EXCERPT, "", "A glacier was mentioned late.", None, 9),
    ("Photographs of the north face", EXCERPT, "", "", "Glacier studies", 4),
    # All the words of a query, across fields.
    ("Copper kettle restored", EXCERPT, "", "", None, 5),
    ("Copper pans at the fair", "An old kettle too. " + EXCERPT, "", "", None, 6),
    ("Market day", EXCERPT, "", "A copper kettle for sale.", None, 10),
    # A rare word does not lift a post out of its tier: "harbour" is common, "beacon" rare.
    ("Harbour wall repairs", EXCERPT, "", "", None, 7),
    ("Evening by the water", EXCERPT, "A beacon shone by the door.", "", None, 11),
    ("Ferry timetable", EXCERPT, "", "The harbour was busy.", None, 12),
    ("Boats in winter", EXCERPT, "", "The harbour froze.", None, 13),
    ("Fishing season opens", EXCERPT, "", "The harbour filled up.", None, 14),
    # Phrases: found only as phrases; their tier asks for their words in any order.
    ("Salt marsh birds counted", EXCERPT, "", "", None, 15),
    ("Marsh and salt pans", EXCERPT, "", "Out on the salt marsh at dusk.", None, 8),
    ("Walking the coast", "A morning on the salt marsh. " + EXCERPT, "", "", None, 16),
    ("Salt for the roads", EXCERPT, "The marsh path was closed.", "", None, 17),
    # Prefixes: every word that begins so counts, in its own field's weight.
    ("Lanterns of the old town", EXCERPT, "", "", None, 18),
    ("Festival night", "Paper lanterns everywhere. " + EXCERPT, "", "", None, 19),
    ("Museum visit", EXCERPT, "An old lanthorn was on show.", "", None, 23),
    ("Autumn fair", EXCERPT, "", "Lantana in pots by the gate.", None, 24),
    # Ties: the same words in the same places, of the same lengths: newest first, then by id.
    ("Orchard notes one", EXCERPT, "", "", None, 20),
    ("Orchard notes two", EXCERPT, "", "", None, 22),
    ("Orchard notes six", EXCERPT, "", "", None, 21),
    ("Orchard notes ten", EXCERPT, "", "", None, 22),
]

EXPECTED = {
    # Title and excerpt before title alone (the weightier places add up), then the title;
    # then excerpt and category name (equal weights: newest first) before the body's
    # opening; the deep match last although it is the newest.
    "glacier": [
        "Glacier report with pictures",
        "Glacier walk above the valley",
        "Photographs of the north face",
        "Notes from the mountain hut",
        "A talk at the village hall",
        "Minutes of the spring meeting",
    ],
    "copper kettle": ["Copper kettle restored", "Copper pans at the fair", "Market day"],
    "harbour OR beacon": [
        "Harbour wall repairs",
        "Evening by the water",
        "Fishing season opens",
        "Boats in winter",
        "Ferry timetable",
    ],
    # "Salt for the roads" holds both words, never side by side: not found.
    '"salt marsh"': ["Salt marsh birds counted", "Marsh and salt pans", "Walking the coast"],
    "salt marsh": [
        "Salt marsh birds counted",
        "Marsh and salt pans",
        "Walking the coast",
        "Salt for the roads",
    ],
    "lant*": [
        "Lanterns of the old town",
        "Festival night",
        "Museum visit",
        "Autumn fair",
    ],
    "orchard": ["Orchard notes ten", "Orchard notes two", "Orchard notes six", "Orchard notes one"],
}


@pytest.fixture
def corpus(db, make_post):
    backend = get_search_backend()
    if isinstance(backend, FallbackSearchBackend):
        pytest.skip("The plain fallback keeps no ranking policy (docs/search.md).")
    for title, excerpt, opening, deep, category, day in CORPUS:
        categories = [Category.objects.create(name=category)] if category else []
        make_post(
            title,
            excerpt=excerpt,
            body=body(opening, deep),
            categories=categories,
            published_at=START + timedelta(days=day),
        )
    backend.rebuild()
    return backend


@pytest.mark.parametrize("query", list(EXPECTED))
def test_both_engines_rank_the_contract_corpus_alike(corpus, query):
    results = corpus.search(query)
    assert [hit.post.title for hit in results.hits] == EXPECTED[query]


def test_a_page_continues_the_order_of_the_one_before(corpus):
    whole = [hit.post.title for hit in corpus.search("glacier").hits]
    paged = [
        hit.post.title
        for offset in range(6)
        for hit in corpus.search("glacier", offset=offset, limit=1).hits
    ]
    assert paged == whole
