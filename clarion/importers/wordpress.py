"""Read a WordPress export (WXR, from Tools → Export) as a stream of plain records.

No Django here: ``read(path)`` yields ``Site``, ``Author``, ``Term`` and ``Item`` records in
file order, parsed with lxml's ``iterparse`` and clearing each element once read, so a
500 MB export is read in bounded memory. Anything that is not a well-formed WXR file raises
``WXRError`` with a message naming the line (and the item, when inside one).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

WP_NAMESPACE_PREFIX = "http://wordpress.org/export/"
NAMESPACE_PREFIXES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}
# Post meta worth keeping; the rest (plugin caches, edit locks) is dropped while reading.
KEPT_META = {
    "_thumbnail_id",
    "_wp_attached_file",
    "_wp_attachment_image_alt",
    "_wp_old_slug",
}
_TAGS = re.compile(r"<[^>]+>")


class WXRError(ValueError):
    """The file is not a readable WordPress export; the message names where."""


@dataclass(slots=True)
class Site:
    title: str = ""
    link: str = ""
    base_site_url: str = ""
    base_blog_url: str = ""
    wxr_version: str = ""
    language: str = ""


@dataclass(slots=True)
class Author:
    login: str
    wp_id: int | None = None
    email: str = ""
    display_name: str = ""
    first_name: str = ""
    last_name: str = ""

    @property
    def name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return self.display_name or full or self.login


@dataclass(slots=True)
class Term:
    """A category or tag declared in the channel header (taxonomy ``category``/``post_tag``)."""

    taxonomy: str
    slug: str
    name: str
    term_id: int | None = None
    parent_slug: str = ""
    description: str = ""


@dataclass(slots=True)
class TermRef:
    """A post's ``<category domain=… nicename=…>``."""

    taxonomy: str
    slug: str
    name: str


@dataclass(slots=True)
class Item:
    wp_id: int
    post_type: str
    line: int
    index: int
    title: str = ""
    link: str = ""
    guid: str = ""
    creator: str = ""
    content: str = ""
    excerpt: str = ""
    slug: str = ""
    status: str = ""
    date_local: datetime | None = None
    date_gmt: datetime | None = None
    parent_id: int = 0
    menu_order: int = 0
    password: str = ""
    sticky: bool = False
    attachment_url: str = ""
    terms: list[TermRef] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)
    comments: int = 0

    def label(self) -> str:
        title = f" “{self.title}”" if self.title else ""
        return f"item {self.index} (ID {self.wp_id}{title}, line {self.line})"

    def first_meta(self, key: str) -> str:
        values = self.meta.get(key)
        return values[0] if values else ""


def _key(tag) -> str:
    """``{namespace}local`` → ``prefix:local`` whatever WXR version wrote the file."""
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    if tag[0] != "{":
        return tag
    uri, local = tag[1:].split("}", 1)
    if uri.startswith(WP_NAMESPACE_PREFIX):
        return f"excerpt:{local}" if uri.rstrip("/").endswith("excerpt") else f"wp:{local}"
    return f"{NAMESPACE_PREFIXES.get(uri, uri)}:{local}"


def _text(elem) -> str:
    return elem.text or ""


def _int(value: str, what: str, where: str) -> int:
    value = value.strip()
    if not value:
        return 0
    try:
        return int(value)
    except ValueError:
        raise WXRError(f"{where}: <{what}> is not a number: {value!r}") from None


def _date(value: str, what: str, where: str) -> datetime | None:
    value = value.strip()
    if not value or value.startswith("0000-00-00"):
        return None  # WordPress writes zeros for "never" (e.g. a draft's GMT date)
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise WXRError(f"{where}: <{what}> is not a date: {value!r}") from None


def plain(value: str) -> str:
    """Titles and names as WordPress stores them may hold entities or tags: plain text."""
    return html.unescape(_TAGS.sub("", value)).strip()


def _slug(value: str) -> str:
    # WordPress stores non-ASCII slugs percent-encoded (lower-case hex); Clarion keeps them
    # as Unicode, the way Django hands them to views.
    return unquote(value.strip())


def _author(elem) -> Author:
    values = {_key(child.tag): _text(child) for child in elem}
    where = f"line {elem.sourceline}: <wp:author>"
    login = values.get("wp:author_login", "").strip()
    if not login:
        raise WXRError(f"{where} has no <wp:author_login>")
    wp_id = values.get("wp:author_id", "")
    return Author(
        login=login,
        wp_id=_int(wp_id, "wp:author_id", where) if wp_id.strip() else None,
        email=values.get("wp:author_email", "").strip(),
        display_name=plain(values.get("wp:author_display_name", "")),
        first_name=plain(values.get("wp:author_first_name", "")),
        last_name=plain(values.get("wp:author_last_name", "")),
    )


def _term(elem, key: str) -> Term | None:
    values = {_key(child.tag): _text(child) for child in elem}
    where = f"line {elem.sourceline}: <{key}>"
    term_id = values.get("wp:term_id", "")
    term_id = _int(term_id, "wp:term_id", where) if term_id.strip() else None
    if key == "wp:category":
        taxonomy, slug = "category", values.get("wp:category_nicename", "")
        name, parent = values.get("wp:cat_name", ""), values.get("wp:category_parent", "")
        description = values.get("wp:category_description", "")
    elif key == "wp:tag":
        taxonomy, slug = "post_tag", values.get("wp:tag_slug", "")
        name, parent = values.get("wp:tag_name", ""), ""
        description = values.get("wp:tag_description", "")
    else:
        taxonomy, slug = values.get("wp:term_taxonomy", ""), values.get("wp:term_slug", "")
        name, parent = values.get("wp:term_name", ""), values.get("wp:term_parent", "")
        description = values.get("wp:term_description", "")
        if taxonomy not in ("category", "post_tag"):
            return None  # nav menus, post formats, plugin taxonomies
    if not slug.strip():
        raise WXRError(f"{where} has no slug")
    return Term(
        taxonomy=taxonomy,
        slug=_slug(slug),
        name=plain(name) or _slug(slug),
        term_id=term_id,
        parent_slug=_slug(parent),
        description=plain(description),
    )


def _item(elem, index: int) -> Item:
    line = elem.sourceline or 0
    fields: dict[str, str] = {}
    terms: list[TermRef] = []
    meta: dict[str, list[str]] = {}
    comments = 0
    for child in elem:
        key = _key(child.tag)
        if key == "category":
            domain = child.get("domain", "")
            if domain in ("category", "post_tag"):
                slug = _slug(child.get("nicename", ""))
                terms.append(TermRef(domain, slug, plain(_text(child)) or slug))
        elif key == "wp:postmeta":
            pair = {_key(c.tag): _text(c) for c in child}
            meta_key = pair.get("wp:meta_key", "")
            if meta_key in KEPT_META:
                meta.setdefault(meta_key, []).append(pair.get("wp:meta_value", ""))
        elif key == "wp:comment":
            comments += 1
        elif key:
            fields[key] = _text(child)
    title = plain(fields.get("title", ""))
    where = f"item {index} (line {line}{f', “{title}”' if title else ''})"
    if "wp:post_id" not in fields:
        raise WXRError(f"{where}: no <wp:post_id>")
    wp_id = _int(fields["wp:post_id"], "wp:post_id", where)
    if wp_id <= 0:
        raise WXRError(f"{where}: <wp:post_id> must be a positive number")
    where = f"item {index} (ID {wp_id}, line {line}{f', “{title}”' if title else ''})"
    post_type = fields.get("wp:post_type", "").strip()
    if not post_type:
        raise WXRError(f"{where}: no <wp:post_type>")
    gmt = _date(fields.get("wp:post_date_gmt", ""), "wp:post_date_gmt", where)
    return Item(
        wp_id=wp_id,
        post_type=post_type,
        line=line,
        index=index,
        title=title,
        link=fields.get("link", "").strip(),
        guid=fields.get("guid", "").strip(),
        creator=fields.get("dc:creator", "").strip(),
        content=fields.get("content:encoded", ""),
        excerpt=fields.get("excerpt:encoded", ""),
        slug=_slug(fields.get("wp:post_name", "")),
        status=fields.get("wp:status", "").strip(),
        date_local=_date(fields.get("wp:post_date", ""), "wp:post_date", where),
        date_gmt=gmt.replace(tzinfo=UTC) if gmt else None,
        parent_id=_int(fields.get("wp:post_parent", ""), "wp:post_parent", where),
        menu_order=_int(fields.get("wp:menu_order", ""), "wp:menu_order", where),
        password=fields.get("wp:post_password", ""),
        sticky=fields.get("wp:is_sticky", "0").strip() == "1",
        attachment_url=fields.get("wp:attachment_url", "").strip(),
        terms=terms,
        meta=meta,
        comments=comments,
    )


CHANNEL_FIELDS = {
    "title": "title",
    "link": "link",
    "language": "language",
    "wp:base_site_url": "base_site_url",
    "wp:base_blog_url": "base_blog_url",
    "wp:wxr_version": "wxr_version",
}


def read(path: str | Path, *, on_bytes=None) -> Iterator[Site | Author | Term | Item]:
    """Yield the export's records in file order: the ``Site`` (once, before the first
    author, term or item), then authors, terms and items.

    ``on_bytes(n)`` is called with the number of bytes read so far, for a progress bar.
    """
    with open(path, "rb") as raw:
        if not raw.read(1):
            raise WXRError("the file is empty, not a WordPress export (WXR)")
        raw.seek(0)
        source = _CountingReader(raw, on_bytes) if on_bytes else raw
        yield from _read(source)


def _read(source) -> Iterator[Site | Author | Term | Item]:
    parser = etree.iterparse(
        source,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # a post body may exceed libxml2's 10 MB text limit
        remove_comments=True,
    )
    site = Site()
    site_sent = False
    depth = 0
    channel = None
    item_index = 0
    item_line = 0
    try:
        for event, elem in parser:
            if event == "start":
                depth += 1
                if depth == 1 and _key(elem.tag) != "rss":
                    raise WXRError(
                        f"line {elem.sourceline}: not a WordPress export (WXR): the document "
                        f"is <{etree.QName(elem).localname}>, not <rss>"
                    )
                if depth == 2 and _key(elem.tag) == "channel":
                    channel = elem
                elif depth == 3 and _key(elem.tag) == "item":
                    item_index += 1
                    item_line = elem.sourceline or 0
                continue
            depth -= 1
            if depth != 2 or elem.getparent() is not channel:
                continue
            key = _key(elem.tag)
            if key in CHANNEL_FIELDS:
                setattr(site, CHANNEL_FIELDS[key], _text(elem).strip())
            elif key in ("wp:author", "wp:category", "wp:tag", "wp:term", "item"):
                if not site_sent:
                    if not site.wxr_version:
                        raise WXRError(
                            f"line {elem.sourceline}: not a WordPress export (WXR): no "
                            "<wp:wxr_version> before the first author, term or item"
                        )
                    site_sent = True
                    yield site
                if key == "wp:author":
                    yield _author(elem)
                elif key == "item":
                    yield _item(elem, item_index)
                    item_line = 0
                else:
                    term = _term(elem, key)
                    if term is not None:
                        yield term
            # Free what has been read: the element, and the siblings before it.
            elem.clear(keep_tail=False)
            while elem.getprevious() is not None:
                del channel[0]
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        inside = f" in item {item_index} (which starts at line {item_line})" if item_line else ""
        message = re.sub(r", line \d+, column \d+$", "", (exc.msg or str(exc)).splitlines()[0])
        raise WXRError(
            f"line {line}, column {column}{inside}: not well-formed XML ({message})"
        ) from None
    if channel is None:
        raise WXRError("not a WordPress export (WXR): no <channel> in the <rss> document")
    if not site_sent:
        if not site.wxr_version:
            raise WXRError("not a WordPress export (WXR): no <wp:wxr_version> in the channel")
        yield site


class _CountingReader:
    def __init__(self, raw, on_bytes):
        self.raw = raw
        self.on_bytes = on_bytes
        self.count = 0

    def read(self, size=-1):
        data = self.raw.read(size)
        self.count += len(data)
        self.on_bytes(self.count)
        return data
