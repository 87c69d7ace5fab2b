import json
import re

import pytest
from django.urls import reverse

from clarion.posts.models import Post
from clarion.search.backends import get_search_backend

from .test_backends import HOSTILE_QUERIES


def result_titles(response) -> list[str]:
    html = response.content.decode()
    items = re.findall(r'<li class="post-card search-hit">.*?<a href="[^"]+">(.*?)</a>', html, re.S)
    return [re.sub(r"</?mark>", "", t) for t in items]


@pytest.mark.parametrize("query", ["Shenyang", "forced repatriation", "escapee"])
def test_it_lists_the_reference_letter_first(client, letter_and_neighbours, query):
    response = client.get(reverse("search:results"), {"q": query})
    assert response.status_code == 200
    found = result_titles(response)
    assert len(found) >= 2, found  # the neighbours match too, but rank below
    assert found[0] == letter_and_neighbours.title


def test_it_shows_title_date_categories_snippet_and_count(client, letter_and_neighbours):
    response = client.get("/search/", {"q": "Shenyang"})
    html = response.content.decode()
    assert "3 posts found" in html
    assert '<time datetime="2021-07-19' in html
    assert 'href="/category/uncategorized/"' in html  # the letter's (default) category
    assert 'href="/category/politics/"' in html
    assert "<mark>Shenyang</mark> detention centre" in html
    assert response["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in html


def test_it_finds_a_category_by_name(client, letter_and_neighbours):
    response = client.get("/search/", {"q": "politics"})
    assert result_titles(response) == ["Weekly round-up"]


def test_it_shows_the_query_back_escaped(client, letter_and_neighbours):
    response = client.get("/search/", {"q": '<script>alert("x")</script> Shenyang'})
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Shenyang" in html
    # Both search boxes (page and sidebar) keep what was typed.
    assert html.count('value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Shenyang"') == 2


def test_it_has_a_helpful_empty_state(client, letter_and_neighbours):
    response = client.get("/search/", {"q": "zanzibar"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "No posts found" in html
    assert "Nothing published here matches “zanzibar”" in html
    assert 'href="/"' in html


def test_it_asks_for_words_when_the_query_has_none(client, db):
    for q in ["", "   ", "*", "-korea", '""']:
        response = client.get("/search/", {"q": q})
        assert response.status_code == 200
        html = response.content.decode()
        assert 'class="notice"' in html
        assert "search-results" not in html


def test_it_says_when_a_long_query_was_cut(client, letter_and_neighbours):
    response = client.get("/search/", {"q": "Shenyang " + "x" * 300})
    assert response.status_code == 200
    assert "only its beginning was used" in response.content.decode()


def test_it_answers_hostile_queries_with_a_page(client, make_post):
    make_post("North Korea", body="Korea and China.")
    get_search_backend().rebuild()
    for text in HOSTILE_QUERIES:
        response = client.get("/search/", {"q": text})
        assert response.status_code == 200, text
        suggest = client.get("/search/suggest/", {"q": text})
        assert suggest.status_code == 200, text
        assert isinstance(suggest.json()["results"], list), text


def test_a_one_letter_prefix_finds_its_word_not_every_word_it_begins(client, make_post):
    # One letter made FTS5 read every term of its index (seconds on a large site).
    make_post("Plan X for the border", body="The plan.")
    make_post("Xylophones", body="Music.")
    get_search_backend().rebuild()
    assert result_titles(client.get("/search/", {"q": "x*"})) == ["Plan X for the border"]
    assert result_titles(client.get("/search/", {"q": "xy*"})) == ["Xylophones"]


def test_it_paginates_ten_a_page(client, make_post):
    for n in range(23):
        make_post(f"Bulletin {n}", body="News from Tumen.")
    get_search_backend().rebuild()
    first = client.get("/search/", {"q": "tumen"})
    third = client.get("/search/", {"q": "tumen", "page": 3})
    assert len(result_titles(first)) == 10
    assert len(result_titles(third)) == 3
    assert "23 posts found · page 1 of 3" in first.content.decode()
    assert 'rel="next" href="?q=tumen&amp;page=2"' in first.content.decode()
    assert 'rel="prev" href="?q=tumen&amp;page=2"' in third.content.decode()
    assert '<ol class="search-results" start="21">' in third.content.decode()
    for bad in ["4", "0", "-1", "two"]:
        assert client.get("/search/", {"q": "tumen", "page": bad}).status_code == 404


def test_past_the_ranked_window_it_says_more_than_and_asks_to_narrow(
    client, make_post, monkeypatch
):
    for n in range(23):
        make_post(f"Bulletin {n}", body="News from Tumen.")
    backend = get_search_backend()
    backend.rebuild()
    monkeypatch.setattr(backend, "rank_window", 20)
    first = client.get("/search/", {"q": "tumen"}).content.decode()
    assert "More than 20 posts found, newest first among equals · page 1 of 2" in first
    assert "Add a word, or put a phrase in quotes, to find older ones." in first
    assert client.get("/search/", {"q": "tumen", "page": 2}).status_code == 200
    assert client.get("/search/", {"q": "tumen", "page": 3}).status_code == 404


def test_it_never_lists_drafts_or_scheduled_posts(client, make_post, scheduled_post):
    make_post("Shenyang draft", body="Unfinished.", status=Post.Status.DRAFT)
    make_post("Shenyang live", body="Out.")
    get_search_backend().index_posts(Post.objects.values_list("pk", flat=True))
    response = client.get("/search/", {"q": "shenyang"})
    assert result_titles(response) == ["Shenyang live"]


def test_wordpress_search_addresses_redirect_here(client, db):
    response = client.get("/", {"s": "forced repatriation"})
    assert response.status_code == 302
    assert response["Location"] == "/search/?q=forced+repatriation"


def test_it_suggests_titles_as_json(client, letter_and_neighbours):
    response = client.get("/search/suggest/", {"q": "letter to the for"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "max-age=60" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["results"] == [
        {"title": letter_and_neighbours.title, "url": letter_and_neighbours.get_absolute_url()}
    ]
    assert client.get("/search/suggest/", {"q": "t"}).json()["results"] == []


def test_it_limits_suggestions(client, make_post):
    for n in range(12):
        make_post(f"Letter number {n}", body="Text.")
    get_search_backend().rebuild()
    assert len(client.get("/search/suggest/", {"q": "lett"}).json()["results"]) == 8


def test_the_search_pages_only_answer_get(client, db):
    assert client.post("/search/", {"q": "x"}).status_code == 405
    assert client.post("/search/suggest/", {"q": "x"}).status_code == 405


def test_the_results_page_runs_no_inline_script(client, letter_and_neighbours):
    html = client.get("/search/", {"q": "Shenyang"}).content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in tag for tag in scripts)
    assert "/static/clarion/search.js" in html
    assert " on" not in "".join(re.findall(r"<[a-z]+\b[^>]*\son\w+=", html))
