"""Property tests over the public inputs this branch owns: Markdown bodies and front matter.
(The subscribe form, search query and CSV rows belong to the newsletter, search and import
apps, whose tests cover them.)"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarion.posts import frontmatter, markdown

DANGEROUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1) )",
    "<a href='java\tscript:alert(1)'>x</a>",
    "<svg onload=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    "![x](data:text/html;base64,PHNjcmlwdD4=)",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<object data=x></object>",
    "<form action=https://evil.example><button>go</button></form>",
    "<p onclick='x()'>hi</p>",
    "<style>body{}</style>",
    "<base href=https://evil.example>",
    "<meta http-equiv=refresh content='0;url=https://evil.example'>",
]
markdown_text = st.lists(
    st.one_of(
        st.sampled_from(DANGEROUS),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
        st.sampled_from(["# ", "## ", "> ", "- ", "1. ", "`", "```\n", "**", "[", "](", ")",
                         "<", ">", "\n", "\n\n", "|", "|---|", "[^1]", "[^1]: ", "!["]),
    ),
    max_size=25,
).map("".join)  # fmt: skip

BAD_TAGS = {"script", "iframe", "object", "embed", "style", "form", "base", "meta", "svg"}
CELL_STYLES = {"text-align:left", "text-align:center", "text-align:right"}


class Elements(HTMLParser):
    """Every tag and attribute the browser would build from the HTML."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown_text)
def test_rendered_markdown_never_carries_script(source):
    for tag, attrs in Elements(markdown.render(source)).found:
        assert tag not in BAD_TAGS
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name in {"href", "src"}:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value or "").lower().split(":", 1)
                assert (
                    len(scheme) == 1
                    or scheme[0] in {"http", "https", "mailto", "tel"}
                    or ("/" in scheme[0] or "?" in scheme[0] or "#" in scheme[0])
                ), value
            if name == "style":
                assert value in CELL_STYLES


field_value = st.one_of(
    st.text(max_size=30),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=10), max_size=3),
    st.sampled_from(["2021-07-19", "2021-07-19T09:30:00+01:00", "yesterday", "2021-13-45",
                     "draft", "published", "scheduled", "[", "{", ": :", "- a\n- b", "'"]),
)  # fmt: skip
header = st.dictionaries(
    st.sampled_from([*sorted(frontmatter.FIELDS), "unknown", "Title", ""]), field_value, max_size=6
)


def as_yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True)


front_matter_text = st.one_of(
    st.builds(lambda h, b: f"---\n{as_yaml(h)}---\n{b}", header, st.text(max_size=50)),
    st.builds(lambda raw, b: f"---\n{raw}\n---\n{b}", st.text(max_size=80), st.text(max_size=20)),
    st.text(max_size=120),
)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(front_matter_text)
def test_front_matter_parses_to_a_document_or_a_front_matter_error(text):
    try:
        doc = frontmatter.parse(Path("post.md"), text)
    except frontmatter.FrontMatterError as exc:
        assert str(exc).startswith("post.md:")
        assert exc.line >= 0
    else:
        assert isinstance(doc, frontmatter.Document)
        assert doc.title and len(doc.title) <= 300
        assert doc.status in frontmatter.STATUSES
        assert doc.slug is not None
