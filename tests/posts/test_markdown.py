import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarion.posts.markdown import render, to_text


def test_it_renders_tables_with_alignment():
    html = render("| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert "<table>" in html
    assert '<td style="text-align:left">1</td>' in html.replace(": ", ":")


def test_it_renders_footnotes_with_backlinks():
    html = render("A claim.[^1]\n\n[^1]: The source.\n")
    assert 'class="footnote-ref"' in html
    assert 'id="fn1"' in html
    assert "The source." in html


def test_it_links_bare_urls():
    html = render("See https://example.org/report for more.")
    assert '<a href="https://example.org/report" rel="noopener noreferrer">' in html


def test_it_gives_headings_anchors():
    html = render("## The United Kingdom's record\n")
    assert '<h2 id="the-united-kingdoms-record">' in html


def test_it_keeps_code_language_classes():
    html = render("```python\nprint(1)\n```\n")
    assert '<code class="language-python">' in html


def test_it_keeps_hard_line_breaks():
    assert render("King Charles Street\\\nLondon") == "<p>King Charles Street<br>\nLondon</p>\n"


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<svg onload="alert(1)"></svg>',
    '<form action="https://evil.example"><input name=x></form>',
    "<<script>script>alert(1)<</script>/script>",
]


def _assert_inert(html: str) -> None:
    """No element that runs script; text that merely mentions it is harmless."""
    lowered = html.lower()
    assert "<script" not in lowered
    assert not re.search(r"<[^>]+\s(href|src|style)\s*=\s*[\"']?\s*(javascript|data):", lowered)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", lowered)
    assert "<iframe" not in lowered and "<form" not in lowered and "<svg" not in lowered


def test_hostile_markdown_stays_inert():
    for source in HOSTILE:
        _assert_inert(render(source))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(
        st.sampled_from(HOSTILE + ["**b**", "[a](http://x.org)", "\n\n", "<p>", "`c`", "> q"])
        | st.text(max_size=40),
        max_size=12,
    )
)
def test_any_mix_of_markdown_and_markup_stays_inert(parts):
    _assert_inert(render("".join(parts)))


def test_to_text_strips_tags_and_unescapes():
    assert to_text("<p>Fish &amp; chips</p>\n<p>two</p>") == "Fish & chips two"
