"""What a WordPress import reports, and the two rules every stage of it follows: a digest
of the values it would write tells whether anything changed, and values are cut to fit their
field (a long WordPress title must not fail the whole import)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from . import content

MAX_EXAMPLES = 5
KINDS = ["authors", "categories", "tags", "attachments", "posts", "pages", "redirects"]
OUTCOMES = ["created", "updated", "unchanged", "skipped"]


class ImportFailed(Exception):
    """An item could not be imported; the message names it. Nothing was written."""


@dataclass
class Summary:
    dry_run: bool = False
    counts: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    note_counts: Counter = field(default_factory=Counter)
    _last_example: dict[str, str] = field(default_factory=dict)

    def count(self, kind: str, outcome: str) -> None:
        self.counts[kind][outcome] += 1

    def note(self, reason: str, example: str = "") -> None:
        """Count ``reason`` once per distinct example in a row; keep the first few examples
        (a 500 MB export must not grow an unbounded list)."""
        if example and self._last_example.get(reason) == example:
            return
        self._last_example[reason] = example
        self.note_counts[reason] += 1
        if len(self.notes[reason]) < MAX_EXAMPLES and example:
            self.notes[reason].append(example)

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())


def values_digest(values: dict) -> str:
    values = {**values, "_converter": content.CONVERTER_VERSION}
    raw = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def cut(value: str, model, field_name: str) -> str:
    return value[: model._meta.get_field(field_name).max_length]
