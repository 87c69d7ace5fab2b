"""Leaving with everything: posts as Markdown files with front matter (what
``clarion publish`` reads), media as files, and every other row as JSON."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core import serializers

from clarion.posts import frontmatter
from clarion.posts.models import Post

from . import sitedata

# Never leaves the site, even in an export: passwords are hashed, but still secrets.
SECRET_FIELDS = {"auth.user": {"password"}}


class ExportError(Exception):
    pass


def export_site(folder: Path) -> dict:
    """Write the site to ``folder`` (new or empty); return counts of what was written."""
    folder = Path(folder).expanduser().absolute()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ExportError(f"{folder}: exists and is not an empty folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        counts = _write(staging)
        if folder.exists():
            folder.rmdir()
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts


def _write(root: Path) -> dict:
    posts_dir = root / "posts"
    posts_dir.mkdir()
    n_posts = 0
    posts = Post.objects.select_related("author").prefetch_related("categories", "tags")
    for post in posts.order_by("pk").iterator(chunk_size=500):
        (posts_dir / f"{post.slug}.md").write_text(frontmatter.dump(post), encoding="utf-8")
        n_posts += 1
    data_dir = root / "data"
    data_dir.mkdir()
    rows = {}
    for model in sitedata.site_models():
        lbl = sitedata.label(model)
        hidden = SECRET_FIELDS.get(lbl, set())
        fields = [
            f.name
            for f in [*model._meta.concrete_fields, *model._meta.many_to_many]
            if f.name not in hidden and not f.primary_key
        ]
        queryset = model._base_manager.order_by(model._meta.pk.name)
        with open(data_dir / f"{lbl}.json", "w", encoding="utf-8") as stream:
            serializers.serialize(
                "json",
                queryset.iterator(chunk_size=2000),
                stream=stream,
                indent=1,
                fields=fields,
                use_natural_foreign_keys=True,
            )
        rows[lbl] = queryset.count()
    media_root = Path(settings.MEDIA_ROOT)
    media = sitedata.media_files(media_root)
    for file in media:
        target = root / "media" / file.relative_to(media_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    summary = {"posts": n_posts, "media_files": len(media), "rows": rows}
    (root / "export.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    return summary
