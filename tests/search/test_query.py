import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarion.search.backends import get_search_backend
from clarion.search.backends.base import suggest_query
from clarion.search.backends.sqlite import match_expression
from clarion.search.query import MAX_CLAUSES, Clause, Query, Term, parse


def test_it_reads_words_phrases_exclusions_prefixes_and_or():
    query = parse('forced "North Korean escapees" -china Shen* seoul OR tumen')
    assert query.clauses == (
        Clause(terms=(Term(words=("forced",)),)),
        Clause(terms=(Term(words=("North", "Korean", "escapees")),)),
        Clause(terms=(Term(words=("china",)),), negated=True),
        Clause(terms=(Term(words=("Shen",), prefix=True),)),
        Clause(terms=(Term(words=("seoul",)), Term(words=("tumen",)))),
    )


def test_it_runs_an_open_quote_to_the_end():
    assert parse('"forced repatriation').clauses == (
        Clause(terms=(Term(words=("forced", "repatriation")),)),
    )


def test_a_star_ending_the_last_word_of_a_phrase_makes_it_a_prefix():
    assert parse('"forced repatria*"').clauses[0].terms == (
        Term(words=("forced", "repatria"), prefix=True),
    )
    # Anywhere else inside quotes a star is punctuation.
    assert parse('"forced * repatriation"').clauses[0].terms[0].prefix is False
    assert parse('"forced repatriation *"').clauses[0].terms[0].prefix is False


def test_a_prefix_needs_two_letters_and_a_one_letter_one_is_its_word():
    # A one-letter prefix read every term of the index: seconds on a large site.
    assert parse("a* z*").clauses == (
        Clause(terms=(Term(words=("a",)),)),
        Clause(terms=(Term(words=("z",)),)),
    )
    assert parse('"forced r*"').clauses[0].terms[0].prefix is False
    assert parse("ab*").clauses[0].terms[0] == Term(words=("ab",), prefix=True)
    assert suggest_query("shenyang a").clauses[-1].terms[0] == Term(words=("a",))
    assert suggest_query("shenyang ab").clauses[-1].terms[0] == Term(words=("ab",), prefix=True)


def test_a_prefix_matches_its_whole_words_too_in_fts5():
    term = Term(words=("forced", "repatria"), prefix=True, alternatives=("repatriation",))
    query = Query(text="", clauses=(Clause(terms=(term,)),))
    assert match_expression(query) == '((("forced repatria"* OR "forced repatriation")))'


def test_it_treats_engine_operators_as_words():
    query = parse("NEAR(korea china, 5) title:x {body}")
    assert [t.words for c in query.clauses for t in c.terms] == [
        ("NEAR", "korea"),
        ("china",),
        ("5",),
        ("title", "x"),
        ("body",),
    ]


def test_it_joins_hyphenated_words_into_a_phrase():
    assert parse("shoot-to-kill").clauses[0].terms[0].words == ("shoot", "to", "kill")


def test_not_and_a_leading_minus_exclude():
    assert [c.negated for c in parse("korea NOT china -japan").clauses] == [False, True, True]


def test_exclusions_alone_are_not_searchable():
    assert parse("-china -japan").searchable is False
    assert parse("* ** ()").searchable is False
    assert parse("").searchable is False


def test_it_removes_control_characters_and_cuts_long_input():
    query = parse("ko\x00rea\u202e " + "word " * 100)
    assert "\x00" not in query.text and "\u202e" not in query.text
    assert len(query.text) <= 200 and query.truncated is True
    assert len(query.clauses) == MAX_CLAUSES


def test_it_quotes_every_word_for_fts5():
    assert match_expression(parse('korea -"and china" Shen* a OR b')) == (
        '(("korea") AND ("Shen"*) AND ("a" OR "b")) NOT ("and china")'
    )


@pytest.fixture
def indexed(make_post):
    make_post("North Korea", body="Korea, China and a 1951 convention. Ünïcode text.")
    get_search_backend().rebuild()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text(max_size=300))
def test_the_engine_accepts_whatever_is_typed(indexed, text):
    results = get_search_backend().search(text)
    assert results.total >= 0
    get_search_backend().suggest(text)


def test_marked_html_escapes_and_balances_marks():
    from clarion.search.backends.base import marked_html
    from clarion.search.documents import MARK_END, MARK_START

    assert marked_html(f"a <b> {MARK_START}x{MARK_END}") == "a &lt;b&gt; <mark>x</mark>"
    assert marked_html(f"cut{MARK_END} then {MARK_START}open") == "cut then <mark>open</mark>"
