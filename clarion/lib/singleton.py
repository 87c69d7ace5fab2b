"""Settings an administrator edits in the admin: a model with exactly one row, pk 1."""

from __future__ import annotations

from django.db import models


class OneRow(models.Model):
    class Meta:
        abstract = True

    def __str__(self):
        return self._meta.verbose_name.capitalize()

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def row(cls, queryset: models.QuerySet | None = None):
        """The row (from ``queryset``, to join what it refers to), made with its defaults
        the first time it is asked for."""
        queryset = cls.objects.all() if queryset is None else queryset
        obj = queryset.filter(pk=1).first()
        if obj is None:
            obj, _ = cls.objects.get_or_create(pk=1)
        return obj
