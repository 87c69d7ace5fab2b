from __future__ import annotations

from django.db import models
from django.db.models import F

from .generation import announce_after_commit


class ContentGeneration(models.Model):
    """A single counter bumped in the same transaction as any public content change.

    Every web process reads it once per request (generation.py says how); caches of
    rendered pages and of the site settings are keyed on it, so a change made through one
    process is fresh on all of them at once, with no per-process timers. Other apps bump it
    through ``clarion.web.cache.invalidate``.
    """

    value = models.BigIntegerField(default=0)

    class Meta:
        # Made by the posts app before the page cache had an app of its own.
        db_table = "posts_contentgeneration"

    def __str__(self):
        return f"content generation {self.value}"

    @classmethod
    def current(cls) -> int:
        row = cls.objects.filter(pk=1).values_list("value", flat=True).first()
        return row or 0

    @classmethod
    def bump(cls) -> None:
        if not cls.objects.filter(pk=1).update(value=F("value") + 1):
            cls.objects.get_or_create(pk=1, defaults={"value": 1})
        announce_after_commit()


class ThrottleCounter(models.Model):
    """Requests counted for one (scope, client) in one fixed window.

    ``client`` is a keyed hash of the address, never the address itself.
    """

    scope = models.CharField(max_length=64)
    client = models.CharField(max_length=64)
    window_start = models.DateTimeField(db_index=True)
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        # Made by the ops app before throttling moved here.
        db_table = "ops_throttlecounter"
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "client", "window_start"], name="throttle_one_row_per_window"
            )
        ]

    def __str__(self):
        return f"{self.scope} {self.client[:8]}… {self.hits} since {self.window_start}"
