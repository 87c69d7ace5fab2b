"""Reading subscriber lists exported by other platforms (Jetpack/WordPress.com, Ghost,
Substack) or by Clarion itself. Parsing only: no database writes here.

Columns are found by their header names; ``--column email=Email`` style overrides say which
column is which when a file uses other names.

Also the one rule Clarion's own exports follow so that a spreadsheet opening them runs
nothing (``spreadsheet_safe``), and its inverse, applied to every cell read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .models import normalise_email

# Header names (lower-cased) each field may have, in order of preference.
ALIASES = {
    "email": ["email", "email_address", "email address", "e-mail", "subscriber_email", "mail"],
    "date": [
        "created_at",  # Ghost, Substack
        "date_subscribed",  # Jetpack / WordPress.com
        "subscribed_at",  # Clarion
        "subscription_date",
        "subscribed",
        "since",
        "date",
        "created",
    ],
    "status": ["status"],
    # Ghost: subscribed_to_emails = false; Substack: email_disabled = true.
    "subscribed_to_emails": ["subscribed_to_emails"],
    "email_disabled": ["email_disabled"],
}
FIELDS = tuple(ALIASES)

# Headers only one platform writes, used to name the format in the preview.
SIGNATURES = [
    ("clarion", {"email", "status", "consent"}),
    ("ghost", {"subscribed_to_emails"}),
    ("ghost", {"complimentary_plan"}),
    ("substack", {"active_subscription"}),
    ("substack", {"email_disabled"}),
    ("jetpack", {"email_address"}),
    ("jetpack", {"date_subscribed"}),
]

TRUE = {"1", "true", "yes", "y", "t"}
STOPPED_STATUSES = {"unsubscribed", "bounced", "complained"}


# A cell a spreadsheet would take for a formula (OWASP "CSV Injection") is written with a
# leading single quote, which spreadsheets show as text. A value that starts with a quote
# gets one more, so reading takes exactly one off and gives back the original value.
# Hand-written, not defusedcsv: that quotes both ends and escapes "|", which no reader can
# undo exactly, and leaves tab and CR alone.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def from_spreadsheet_safe(text: str) -> str:
    """The value ``spreadsheet_safe`` was given (other files' cells pass through)."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:]
    return text


def safe_row(values) -> list[str]:
    """A row for csv.writer whose cells a spreadsheet will not evaluate."""
    return [spreadsheet_safe(value) for value in values]


class ImportError_(Exception):
    """A problem with the file, as one line: ``file:line: field: what is wrong``."""


@dataclass
class Row:
    line: int
    email: str
    subscribed_at: datetime | None
    stopped: str = ""  # the status to import with when the address opted out at the source


@dataclass
class Parsed:
    path: str
    format: str
    columns: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    duplicates: int = 0


def parse_overrides(values: list[str]) -> dict[str, str]:
    overrides = {}
    for value in values:
        name, sep, column = value.partition("=")
        name = name.strip().lower()
        if not sep or name not in FIELDS or not column.strip():
            raise ImportError_(
                f"--column {value!r}: expected FIELD=HEADER with FIELD one of {', '.join(FIELDS)}"
            )
        overrides[name] = column.strip()
    return overrides


def _parse_date(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = parse_datetime(text)
        if value is None:
            day = parse_date(text)
            value = datetime.combine(day, time()) if day else None
    except ValueError:
        value = None
    if value is None:
        for fmt in ("%m/%d/%Y %H:%M", "%m/%d/%Y", "%d %b %Y", "%b %d, %Y"):
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(text)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def parse(path: str | Path, overrides: dict[str, str] | None = None) -> Parsed:
    path = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ImportError_(f"{path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportError_(f"{path}: not UTF-8 text; save the file as UTF-8 CSV") from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise ImportError_(f"{path}:1: the file is empty")
    names = [h.strip() for h in header]
    lowered = {h.lower(): h for h in names}
    columns: dict[str, str] = {}
    overrides = overrides or {}
    for name in FIELDS:
        if name in overrides:
            if overrides[name] not in names:
                raise ImportError_(
                    f"{path}:1: {name}: no column named {overrides[name]!r} (columns: "
                    f"{', '.join(names)})"
                )
            columns[name] = overrides[name]
            continue
        for alias in ALIASES[name]:
            if alias in lowered:
                columns[name] = lowered[alias]
                break
    if "email" not in columns:
        raise ImportError_(
            f"{path}:1: email: no email column found (columns: {', '.join(names)}); "
            "say which with --column email=HEADER"
        )
    present = set(lowered)
    fmt = next((name for name, sig in SIGNATURES if sig <= present), "csv")
    index = {name: names.index(column) for name, column in columns.items()}
    parsed = Parsed(path=path, format=fmt, columns=columns)
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row=row) -> str:
            i = index.get(name)
            if i is None or i >= len(row):
                return ""
            return from_spreadsheet_safe(row[i]).strip()

        address = cell("email")
        try:
            validate_email(address)
        except ValidationError:
            raise ImportError_(
                f"{path}:{line}: {columns['email']}: {address!r} is not an email address"
            ) from None
        email = normalise_email(address)
        try:
            subscribed_at = _parse_date(cell("date"))
        except ValueError:
            raise ImportError_(
                f"{path}:{line}: {columns['date']}: {cell('date')!r} is not a date"
            ) from None
        stopped = ""
        status = cell("status").lower()
        if status in STOPPED_STATUSES:
            stopped = status
        elif "subscribed_to_emails" in columns and cell("subscribed_to_emails").lower() not in TRUE:
            stopped = "unsubscribed"
        elif cell("email_disabled").lower() in TRUE:
            stopped = "unsubscribed"
        if email in seen:
            parsed.duplicates += 1
            continue
        seen.add(email)
        parsed.rows.append(
            Row(line=line, email=email, subscribed_at=subscribed_at, stopped=stopped)
        )
    return parsed
