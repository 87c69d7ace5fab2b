"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitises.

Bump RENDERER_VERSION whenever the output for the same source changes, so cached
``Post.body_html`` is re-rendered (see ``Post.render``).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin

RENDERER_VERSION = 2

# The most Markdown a post may hold (UTF-8 bytes), checked by the editor, its preview and
# `clarion publish`: about 8,000 words of prose. Rendering costs grow with the text, far
# faster for hostile text than for prose: markdown-it takes ~17 µs per character of "!["
# (300 KB of "[" took 17 s), and nh3 is quadratic in nesting (60,000 nested <div> took
# 19 s). At this size the worst case measured renders in under a second
# (tests/posts/test_markdown_cost.py).
MAX_SOURCE_BYTES = 50_000


def too_long(source: str) -> str | None:
    """Why ``source`` is too long to be a post's body, or None."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size <= MAX_SOURCE_BYTES:
        return None
    return (
        f"The text is {size // 1000} KB; a post can be at most {MAX_SOURCE_BYTES // 1000} KB "
        "of Markdown. Split it into several posts."
    )


# Widths (px) of the resized copies made of an uploaded image (clarion.editor.images): a copy
# at each width below the image's own, and one at its own width capped at the largest.
RESPONSIVE_WIDTHS = (480, 960, 1600)
IMAGE_SIZES = "(max-width: 48rem) 100vw, 48rem"

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "section", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul",
}  # fmt: skip

# nh3 strips every attribute it is not told about; heading anchors, code language
# classes and footnote back-references need these to survive.
ALLOWED_ATTRIBUTES = {
    "*": {"id", "title", "lang", "dir"},
    "a": {"href", "class"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height", "loading", "srcset", "sizes"},
    "code": {"class"},
    "pre": {"class"},
    "div": {"class"},
    "span": {"class"},
    "section": {"class"},
    "ol": {"start", "class"},
    "li": {"class"},
    "sup": {"class"},
    "hr": {"class"},
    "td": {"style", "colspan", "rowspan"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "figure": {"class"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Only table cell alignment, which markdown-it writes as style="text-align:…".
ALLOWED_STYLE_PROPERTIES = {"text-align"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=2, max_level=4, permalinkSymbol="#")
    return md


def sanitise(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        filter_style_properties=ALLOWED_STYLE_PROPERTIES,
    )


def render(source: str) -> str:
    """Return sanitised HTML for CommonMark ``source`` (with tables, footnotes, anchors)."""
    return responsive_images(sanitise(_parser().render(source or "")))


def rendition_widths(width: int) -> list[int]:
    """The widths of the renditions made for an image ``width`` pixels wide, smallest first."""
    top = min(width, RESPONSIVE_WIDTHS[-1])
    return [w for w in RESPONSIVE_WIDTHS if w < top] + [top]


# An uploaded image's largest rendition, as the editor links to it:
# …/uploads/YYYY/MM/<name>-<width>w.<ext>. Runs on sanitised HTML, where nh3 has written
# every attribute as name="value".
_IMG = re.compile(r"<img\b[^>]*>")
_RENDITION_SRC = re.compile(
    r'\ssrc="(?P<base>[^"\s]*/uploads/\d{4}/\d{2}/[a-z0-9-]+)-(?P<width>\d{1,5})w'
    r'\.(?P<ext>jpg|png|webp)"'
)


def responsive_images(sanitised_html: str) -> str:
    """Give uploaded images a ``srcset`` of their renditions, ``sizes`` and lazy loading."""

    def add(match: re.Match) -> str:
        tag = match.group(0)
        src = _RENDITION_SRC.search(tag)
        if src is None or "srcset=" in tag:
            return tag
        base, ext = src.group("base"), src.group("ext")
        widths = rendition_widths(int(src.group("width")))
        srcset = ", ".join(f"{base}-{w}w.{ext} {w}w" for w in widths)
        extra = f' srcset="{srcset}" sizes="{IMAGE_SIZES}"'
        if "loading=" not in tag:
            extra += ' loading="lazy"'
        return tag[:-1].rstrip("/").rstrip() + extra + ">"

    return _IMG.sub(add, sanitised_html)


_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def to_text(rendered_html: str) -> str:
    """Plain text of rendered HTML, for excerpts, search and email text parts."""
    return _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", rendered_html))).strip()


def first_paragraph_text(rendered_html: str) -> str:
    match = re.search(r"<p>(.*?)</p>", rendered_html, flags=re.S)
    return to_text(match.group(1)) if match else to_text(rendered_html)
