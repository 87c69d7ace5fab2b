"""Markdown files with YAML front matter, as `clarion publish` reads and `clarion export`
writes them. Errors name the file, the line and the field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from . import markdown

FIELDS = {"title", "slug", "date", "categories", "tags", "author", "excerpt", "status", "notify"}
STATUSES = {"draft", "published", "scheduled"}


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so a bad date is reported as a field error
    (PyYAML's own timestamp constructor raises a bare ValueError for 2024-13-45)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class FrontMatterError(ValueError):
    def __init__(self, path: Path | str, line: int, message: str):
        self.path, self.line = path, line
        super().__init__(f"{path}:{line}: {message}")


@dataclass
class Document:
    path: Path
    title: str
    body: str
    slug: str = ""
    date: dt.datetime | None = None
    status: str = "published"
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    author: str = ""
    excerpt: str = ""
    notify: bool = True


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers (1-based, in the file) of each top-level key."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 2 for k, _ in node.value if hasattr(k, "value")}


def _string_list(value, path, line, name) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise FrontMatterError(path, line, f"field '{name}': expected a list of names")
    return [str(v).strip() for v in value if str(v).strip()]


def parse(path: Path, text: str | None = None) -> Document:
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FrontMatterError(path, 0, "no such file") from None
        except UnicodeDecodeError:
            raise FrontMatterError(path, 1, "not UTF-8 text") from None
        except OSError as exc:
            raise FrontMatterError(path, 0, exc.strerror or str(exc)) from None
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError(path, 1, "expected front matter starting with '---'")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in {"---", "..."}), None)
    if end is None:
        raise FrontMatterError(path, 1, "front matter is not closed with '---'")
    header = "".join(lines[1:end])
    body = "".join(lines[end + 1 :]).lstrip("\n")
    if problem := markdown.too_long(body):
        raise FrontMatterError(path, end + 2, problem)
    try:
        data = yaml.load(header, Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise FrontMatterError(path, line, f"invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise FrontMatterError(path, 2, "front matter must be a set of 'field: value' lines")
    where = _key_lines(header)

    def line_of(name):
        return where.get(name, 1)

    unknown = sorted(set(map(str, data)) - FIELDS)
    if unknown:
        raise FrontMatterError(path, line_of(unknown[0]), f"unknown field '{unknown[0]}'")
    title = data.get("title")
    if not isinstance(title, (str, int, float)) or not str(title).strip():
        raise FrontMatterError(path, line_of("title"), "field 'title' is missing or empty")
    title = str(title).strip()
    if len(title) > 300:
        raise FrontMatterError(path, line_of("title"), "field 'title' is over 300 characters")

    status = str(data.get("status", "published")).strip().lower()
    if status not in STATUSES:
        raise FrontMatterError(
            path,
            line_of("status"),
            f"field 'status': unknown status {data.get('status')!r} "
            "(expected draft, published or scheduled)",
        )

    date = data.get("date")
    if date is not None:
        date = _parse_date(date)
        if date is None:
            raise FrontMatterError(
                path,
                line_of("date"),
                f"field 'date': not a date {str(data.get('date'))!r} "
                "(expected e.g. 2021-07-19 or 2021-07-19T09:30:00+01:00)",
            )
    if status == "scheduled" and date is None:
        raise FrontMatterError(path, line_of("status"), "a scheduled post needs a 'date'")

    slug = str(data.get("slug") or "").strip()
    if slug and slugify(slug, allow_unicode=True) != slug:
        raise FrontMatterError(
            path, line_of("slug"), f"field 'slug': {slug!r} may hold only letters, digits and -"
        )
    if len(slug) > 200:
        raise FrontMatterError(path, line_of("slug"), "field 'slug' is over 200 characters")
    notify = data.get("notify", True)
    if not isinstance(notify, bool):
        raise FrontMatterError(path, line_of("notify"), "field 'notify': expected true or false")

    return Document(
        path=path,
        title=title,
        body=body,
        slug=slug or slugify(title, allow_unicode=True)[:200],
        date=date,
        status=status,
        categories=_string_list(data.get("categories"), path, line_of("categories"), "categories"),
        tags=_string_list(data.get("tags"), path, line_of("tags"), "tags"),
        author=str(data.get("author") or "").strip(),
        excerpt=str(data.get("excerpt") or "").strip(),
        notify=notify,
    )


def _parse_date(value) -> dt.datetime | None:
    from .models import SiteSettings

    tz = SiteSettings.load().tzinfo
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day, 9, 0)
    else:
        text = str(value).strip()
        try:
            parsed = parse_datetime(text.replace(" ", "T", 1))
        except ValueError:
            return None
        if parsed is None:
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                return None
            parsed = dt.datetime(day.year, day.month, day.day, 9, 0)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, tz)
    return parsed


def dump(post) -> str:
    """The Markdown file for ``post``, in the format ``parse`` reads."""
    meta = {
        "title": post.title,
        "slug": post.slug,
        "status": post.status,
        "date": post.published_at.isoformat() if post.published_at else None,
        "author": post.author.slug if post.author else None,
        "categories": [c.name for c in post.categories.all()],
        "tags": [t.name for t in post.tags.all()],
        "excerpt": post.excerpt or None,
    }
    meta = {k: v for k, v in meta.items() if v not in (None, [])}
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{header}---\n\n{post.body}"
