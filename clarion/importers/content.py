"""WordPress post HTML → Clarion Markdown that renders the same.

WordPress stores a body as HTML with block comments (``<!-- wp:paragraph -->``), shortcodes
(``[caption]``, ``[embed]``) and, for classic-editor text, no paragraph tags at all (blank
lines are paragraphs, single newlines are line breaks: ``wpautop``). The pipeline:

1. drop block comments; expand the shortcodes Clarion can show;
2. for classic text, add the paragraphs and breaks WordPress would add on display;
3. convert the HTML to CommonMark with markdownify, keeping as (sanitised) HTML only what
   Markdown cannot say faithfully: captioned figures and tables with merged or block cells.

Scripts, styles, forms and event handlers never survive: they are dropped here, and
``clarion.posts.markdown.render`` sanitises the result again with nh3.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bs4 import Tag
from markdownify import ATX, BACKSLASH, MarkdownConverter

from clarion.posts.markdown import sanitise

# Bump when the conversion of the same HTML changes, so a re-import rewrites the posts.
CONVERTER_VERSION = 1

BLOCK_TAGS = (
    "table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map"
    "|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside"
    "|hgroup|header|footer|nav|figure|figcaption|details|menu|summary"
)
_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->", re.S)
_CAPTION = re.compile(r"\[caption([^\]]*)\](.*?)\[/caption\]", re.S | re.I)
_EMBED = re.compile(r"\[embed[^\]]*\](.*?)\[/embed\]", re.S | re.I)
_MEDIA = re.compile(r"\[(video|audio)([^\]]*)\](?:(.*?)\[/\1\])?", re.S | re.I)
_GALLERY = re.compile(r"\[gallery([^\]]*)\]", re.I)
_ATTRS = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|(\S+))')
_CAPTION_IMAGE = re.compile(r"^\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", re.S | re.I)
# Something WordPress would run as a shortcode: attributes, or a closing tag. Plain words in
# brackets ("[sic]") are left alone and not reported.
_SHORTCODE = re.compile(r"\[([a-zA-Z][\w-]*)(?:\s[^\]]*=[^\]]*\]|\](?=.*?\[/\1\]))", re.S)
_BARE_URL_LINE = re.compile(r"^[ \t]*(https?://[^\s<>\"']+)[ \t]*$", re.M)
_PLACEHOLDER = re.compile(r"<div data-wpsc=\"(\d+)\"></div>")
SAFE_SCHEMES = {"", "http", "https", "mailto", "tel"}
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


@dataclass
class Converted:
    markdown: str
    notes: list[str] = field(default_factory=list)


UrlRewriter = Callable[[str], str]
AttachmentLookup = Callable[[int], "tuple[str, str] | None"]


def convert(
    body: str,
    *,
    rewrite_url: UrlRewriter = lambda url: url,
    attachment: AttachmentLookup = lambda wp_id: None,
) -> Converted:
    """Convert a WordPress ``content:encoded`` body to Markdown.

    ``rewrite_url`` maps every image/link URL (to point media at Clarion's copies);
    ``attachment`` maps an attachment ID to (url, alt) for ``[gallery ids=…]``.
    """
    notes: list[str] = []
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    is_blocks = "<!-- wp:" in text
    text = _BLOCK_COMMENT.sub("", text)
    blocks: list[str] = []

    def hold(fragment: str) -> str:
        blocks.append(fragment)
        return f'\n\n<div data-wpsc="{len(blocks) - 1}"></div>\n\n'

    if not is_blocks:
        # A URL alone on its line is an embed in the classic editor.
        text = _BARE_URL_LINE.sub(r"[embed]\1[/embed]", text)
    text = _CAPTION.sub(lambda m: hold(_caption(m.group(1), m.group(2))), text)
    text = _EMBED.sub(lambda m: hold(_link_paragraph(m.group(1).strip())), text)
    text = _MEDIA.sub(lambda m: hold(_media(m.group(2), m.group(3))), text)
    text = _GALLERY.sub(lambda m: hold(_gallery(m.group(1), attachment, notes)), text)
    for match in _SHORTCODE.finditer(text):
        notes.append(f"shortcode [{match.group(1)}] kept as text")
    if not is_blocks:
        text = autop(text)
    text = _PLACEHOLDER.sub(lambda m: blocks[int(m.group(1))], text)
    markdown = _Converter(rewrite_url=rewrite_url).convert(text)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"
    return Converted(markdown=markdown if markdown.strip() else "", notes=notes)


def _attrs(raw: str) -> dict[str, str]:
    return {
        m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
        for m in _ATTRS.finditer(raw)
    }


def _caption(raw_attrs: str, inner: str) -> str:
    attrs = _attrs(raw_attrs)
    match = _CAPTION_IMAGE.match(inner)
    image, caption = (match.group(1), match.group(2)) if match else ("", inner)
    caption = caption.strip() or attrs.get("caption", "")
    align = attrs.get("align", "")
    css = f' class="wp-caption {html.escape(align)}"' if align else ' class="wp-caption"'
    figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure{css}>{image}{figcaption}</figure>"


def _link_paragraph(url: str) -> str:
    url = html.unescape(url).strip()
    if not _safe_url(url):
        return ""
    quoted = html.escape(url)
    return f'<p><a href="{quoted}">{quoted}</a></p>'


def _media(raw_attrs: str, inner: str | None) -> str:
    attrs = _attrs(raw_attrs)
    for key in ("src", "mp4", "m4v", "webm", "ogv", "mp3", "m4a", "ogg", "wav"):
        if attrs.get(key):
            return _link_paragraph(attrs[key])
    return _link_paragraph((inner or "").strip()) if inner else ""


def _gallery(raw_attrs: str, attachment: AttachmentLookup, notes: list[str]) -> str:
    ids = [i for i in re.split(r"[,\s]+", _attrs(raw_attrs).get("ids", "")) if i.isdigit()]
    images = []
    for wp_id in ids:
        found = attachment(int(wp_id))
        if found is None:
            notes.append(f"gallery image {wp_id} not available (no such attachment, or no file)")
            continue
        url, alt = found
        images.append(f'<img src="{html.escape(url)}" alt="{html.escape(alt)}">')
    if not ids:
        notes.append("shortcode [gallery] without ids kept out")
    return f'<figure class="gallery">{"".join(images)}</figure>' if images else ""


def autop(text: str) -> str:
    """WordPress's ``wpautop``: blank lines become paragraphs, newlines become ``<br />``."""
    if not text.strip():
        return ""
    pres: list[str] = []

    def keep_pre(match):
        pres.append(match.group(0))
        return f"<pre wp-pre-tag-{len(pres) - 1}></pre>"

    text = re.sub(r"<pre[\s>].*?</pre>", keep_pre, text, flags=re.S | re.I)
    # A newline inside a tag is not a line break.
    text = re.sub(r"<[^>]*>", lambda m: m.group(0).replace("\n", " "), text)
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text + "\n", flags=re.I)
    text = re.sub(rf"(<(?:{BLOCK_TAGS})[\s/>])", r"\n\n\1", text, flags=re.I)
    text = re.sub(rf"(</(?:{BLOCK_TAGS})>)", r"\1\n\n", text, flags=re.I)
    chunks = re.split(r"\n\s*\n", text)
    text = "".join(f"<p>{c.strip(chr(10))}</p>\n" for c in chunks if c.strip())
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(rf"<p>\s*(</?(?:{BLOCK_TAGS})[^>]*>)\s*</p>", r"\1", text, flags=re.I)
    text = re.sub(rf"<p>\s*(</?(?:{BLOCK_TAGS})[^>]*>)", r"\1", text, flags=re.I)
    text = re.sub(rf"(</?(?:{BLOCK_TAGS})[^>]*>)\s*</p>", r"\1", text, flags=re.I)
    text = re.sub(r"<br\s*/?>", "<br />", text, flags=re.I)
    text = re.sub(r"(?<!<br />)\s*\n", "<br />\n", text)
    text = re.sub(rf"(</?(?:{BLOCK_TAGS})[^>]*>)\s*<br />", r"\1", text, flags=re.I)
    text = re.sub(
        r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text, flags=re.I
    )
    text = re.sub(r"\n</p>$", "</p>", text)
    for i, pre in enumerate(pres):
        text = text.replace(f"<pre wp-pre-tag-{i}></pre>", pre)
    return text


def _safe_url(url: str) -> bool:
    cleaned = _CONTROL.sub("", url)
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return False
    return scheme in SAFE_SCHEMES


_LINE_START = [
    re.compile(r"(^|\n)([ \t]*)(-+|\++|={2,}|#{1,6}|>)(?=\s|$)"),
    re.compile(r"(^|\n)([ \t]*\d{1,9})([.)])(?=\s|$)"),
]


class _Converter(MarkdownConverter):
    """markdownify, told WordPress's habits and Clarion's renderer."""

    def __init__(self, *, rewrite_url: UrlRewriter):
        super().__init__(
            heading_style=ATX,
            bullets="-",
            newline_style=BACKSLASH,
            keep_inline_images_in=["td", "th"],
            bs4_options="lxml",
            sub_symbol="<sub>",
            sup_symbol="<sup>",
        )
        self.rewrite_url = rewrite_url

    # Escape only what CommonMark would read as markup; markdownify's escape_misc escapes
    # every punctuation mark, which makes the Markdown unreadable to edit.
    def escape(self, text, parent_tags):
        if not text:
            return ""
        text = text.replace("\\", "\\\\")
        text = re.sub(r"([`*_\[\]<])", r"\\\1", text)
        text = re.sub(r"&(?=#?\w+;)", r"\\&", text)
        text = text.replace("~~", r"\~\~")
        if "td" in parent_tags or "th" in parent_tags:
            text = text.replace("|", r"\|")
        text = _LINE_START[0].sub(lambda m: f"{m.group(1)}{m.group(2)}\\{m.group(3)}", text)
        text = _LINE_START[1].sub(r"\1\2\\\3", text)
        return text

    def _url(self, url: str | None) -> str | None:
        url = (url or "").strip()
        if not url or not _safe_url(url):
            return None
        return self.rewrite_url(url)

    @staticmethod
    def _destination(url: str) -> str:
        if re.search(r"[\s()<>]", url):
            return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
        return url

    def convert_a(self, el, text, parent_tags):
        href = self._url(el.get("href"))
        if href is None or "_noformat" in parent_tags:
            return text
        inner = text.strip()
        prefix, suffix = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        if not inner:
            return ""
        if inner.replace("\\_", "_") == href and re.match(r"^https?://\S+$", href):
            return f"{prefix}<{href}>{suffix}"
        title = el.get("title")
        title_part = ' "{}"'.format(title.replace('"', r"\"")) if title else ""
        return f"{prefix}[{inner}]({self._destination(href)}{title_part}){suffix}"

    def convert_img(self, el, text, parent_tags):
        src = self._url(el.get("src"))
        if src is None:
            return ""
        alt = re.sub(r"([\[\]\\])", r"\\\1", el.get("alt") or "")
        if "_inline" in parent_tags and el.parent.name not in ("td", "th"):
            return alt
        return f"![{alt}]({self._destination(src)})"

    def _raw(self, el) -> str:
        """``el`` as one line of sanitised HTML, URLs rewritten: a CommonMark HTML block."""
        for img in el.find_all("img"):
            src = self._url(img.get("src"))
            if src is None:
                img.decompose()
                continue
            img["src"] = src
            for attr in ("srcset", "sizes", "class"):
                img.attrs.pop(attr, None)
        for a in el.find_all("a"):
            href = self._url(a.get("href"))
            if href is None:
                a.unwrap()
            else:
                a["href"] = href
        for dropped in el.find_all(["script", "style", "iframe", "object", "form", "svg"]):
            dropped.decompose()
        markup = re.sub(r"\s*\n\s*", " ", str(el))
        return "\n\n" + sanitise(markup).strip() + "\n\n"

    def convert_figure(self, el, text, parent_tags):
        classes = el.get("class") or []
        wrapper = el.find(class_="wp-block-embed__wrapper")
        if "wp-block-embed" in classes or wrapper is not None:
            url = (wrapper or el).get_text(" ", strip=True).split(" ")[0]
            iframe = el.find("iframe")
            url = url or (iframe.get("src", "") if iframe else "")
            caption = el.find("figcaption")
            link = self._url(url)
            out = f"\n\n<{link}>\n\n" if link and link.startswith("http") else ""
            if caption is not None and caption.get_text(strip=True):
                out += "\n\n" + self.escape(caption.get_text(" ", strip=True), set()) + "\n\n"
            return out
        if el.find("table") is not None:
            return text
        if el.find("img") is not None:
            if el.find("figcaption") is not None or len(el.find_all("img")) > 1:
                return self._raw(el)
            return text
        return self.convert_div(el, text, parent_tags)

    def convert_figcaption(self, el, text, parent_tags):
        return "\n\n" + text.strip() + "\n\n"

    def convert_table(self, el, text, parent_tags):
        if not _is_simple_table(el):
            return self._raw(el)
        return "\n\n" + text.strip() + "\n\n"

    def _link_to_source(self, el, text, parent_tags):
        src = el.get("src") or el.get("data") or ""
        if not src:
            source = el.find("source")
            src = source.get("src", "") if source is not None else ""
        link = self._url(src)
        if not link or not link.startswith("http"):
            return ""
        return f"\n\n<{link}>\n\n"

    convert_iframe = _link_to_source
    convert_video = _link_to_source
    convert_audio = _link_to_source
    convert_embed = _link_to_source
    convert_object = _link_to_source

    def _drop(self, el, text, parent_tags):
        return ""

    convert_script = convert_style = convert_noscript = convert_template = _drop
    convert_form = convert_button = convert_input = convert_select = convert_textarea = _drop
    convert_svg = convert_math = convert_head = convert_title = convert_meta = _drop

    def _inline_html(name):  # noqa: N805 - a factory used in the class body
        def convert(self, el, text, parent_tags):
            inner = text.strip()
            return f"<{name}>{inner}</{name}>" if inner else ""

        return convert

    convert_cite = _inline_html("cite")
    convert_u = _inline_html("u")
    convert_mark = _inline_html("mark")
    convert_small = _inline_html("small")
    convert_ins = _inline_html("ins")


def _is_simple_table(table: Tag) -> bool:
    """Whether a Markdown (GFM) table says the same: one header row, plain inline cells."""
    rows = table.find_all("tr")
    if not rows or table.find("table") is not None:
        return False
    first = rows[0]
    if not (
        first.parent.name == "thead" or all(c.name == "th" for c in first.find_all(["td", "th"]))
    ):
        return False
    widths = set()
    for row in rows:
        cells = row.find_all(["td", "th"])
        widths.add(len(cells))
        for cell in cells:
            if cell.get("colspan") or cell.get("rowspan"):
                return False
            if cell.find(["p", "ul", "ol", "br", "div", "blockquote", "pre", "figure", "img"]):
                return False
    return len(widths) == 1 and not table.find("caption") and not table.find("tfoot")
