"""Real Clarion sites in their own data folders, driven through subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import IN_CI
from tests.helpers import clarion_env

PG_HOST = "postgres://postgres@127.0.0.1:5432"
SETUP = (
    "import os, django\nos.environ['DJANGO_SETTINGS_MODULE'] = 'clarion.settings'\ndjango.setup()\n"
)


def clarion(data_dir, *args, database_url=None, timeout=120, check=True, **extra):
    result = subprocess.run(
        [sys.executable, "-m", "clarion", *map(str, args)],
        env=clarion_env(data_dir, database_url, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"clarion {args} failed:\n{result.stdout}\n{result.stderr}")
    return result


def python(data_dir, code, database_url=None, timeout=120, **extra) -> str:
    result = subprocess.run(
        [sys.executable, "-c", SETUP + textwrap.dedent(code)],
        env=clarion_env(data_dir, database_url, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"script failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def python_popen(data_dir, code, database_url=None, **extra) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SETUP + textwrap.dedent(code)],
        env=clarion_env(data_dir, database_url, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def fresh_postgres_database(name: str) -> str:
    """Drop and create ``name``; skip (fail in CI) when PostgreSQL is not there."""
    try:
        import psycopg

        with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL not available: {exc}")
    return f"{PG_HOST}/{name}"


FILL = """
import io
from datetime import timedelta
from django.contrib.auth.models import Group, Permission, User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image
from clarion.posts import services
from clarion.posts.models import Author, Category, Post, Redirect, SiteSettings, Tag
from clarion.newsletter import services as newsletter
from clarion.newsletter.models import Issue, Subscriber
from clarion.newsletter.sending import fan_out

def png(seed):
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (seed * 40 % 255, 90, 160)).save(buf, "PNG")
    return buf.getvalue()

# Subscribers with their consent records: three asked, two confirmed, one then left.
evidence = newsletter.Evidence(
    page="/subscribe/", wording="Enter your email address to subscribe to this blog.",
    ip="203.0.113.9", user_agent="Backup test",
)
for i in range(3):
    newsletter.subscribe_request(email=f"reader{i}@example.org", category_ids=[], evidence=evidence)
for subscriber in Subscriber.objects.order_by("pk")[:2]:
    newsletter.subscriber_confirm(subscriber=subscriber, evidence=evidence)
newsletter.subscriber_unsubscribe(
    subscriber=Subscriber.objects.order_by("pk")[1], evidence=evidence
)

with transaction.atomic():
    site = SiteSettings.load(); site.title = "Backed-up site"; site.save()
    editors = Group.objects.create(name="Editors")
    editors.permissions.add(Permission.objects.get(codename="change_post"))
    alice = User.objects.create_user("alice", "alice@example.org", "pw-alice-123", is_staff=True)
    alice.groups.add(editors)
    User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    author = Author.objects.create(user=alice, display_name="Alice Author", slug="alice")
    author.photo.save("alice.png", ContentFile(png(7)), save=True)
    cats = [Category.objects.create(name=f"Category {i}", slug=f"cat-{i}") for i in range(3)]
    tags = [Tag.objects.create(name=f"Tag {i}", slug=f"tag-{i}") for i in range(2)]
    now = timezone.now()
    for i in range(12):
        post = Post(
            title=f"Post {i} – ünïcode",
            body=f"Body **{i}**\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |",
            status=Post.Status.DRAFT if i == 11 else Post.Status.PUBLISHED,
            published_at=None if i == 11 else now - timedelta(days=i), author=author,
        )
        if i % 4 == 0:
            post.featured_image.save(f"post-{i}.png", ContentFile(png(i)), save=False)
            post.featured_image_alt = f"Picture {i}"
        post.save()
        post.categories.set(cats[: i % 3 + 1])
        post.tags.set(tags[: i % 2])
        services.post_saved(post=post, was_live=False)
    Redirect.objects.create(old_path="/?p=1", post=Post.objects.first())
# One delivery row per (post, confirmed subscriber), as the worker's fan-out makes them.
for issue in Issue.objects.all():
    fan_out(issue_id=issue.pk)
print(Post.objects.count())
"""

DUMP = """
import hashlib, json
from pathlib import Path
from django.conf import settings
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from clarion.ops import sitedata
tables = {}
for model in sitedata.site_models():
    rows = serializers.serialize(
        "python", model._base_manager.order_by("pk"), use_natural_foreign_keys=True
    )
    tables[sitedata.label(model)] = json.loads(json.dumps(rows, cls=DjangoJSONEncoder))
root = Path(settings.MEDIA_ROOT)
media = {
    p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
    for p in sitedata.media_files(root)
}
print(json.dumps({"tables": tables, "media": media}))
"""


def dump(data_dir, database_url=None) -> dict:
    return json.loads(python(data_dir, DUMP, database_url))


def to_milliseconds(value):
    """Django's JSON encoder keeps datetimes to the millisecond and writes a whole second
    with sub-millisecond digits as "…18.000Z", but the same value restored as "…18Z"."""
    if isinstance(value, dict):
        return {k: to_milliseconds(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_milliseconds(v) for v in value]
    if isinstance(value, str) and value.endswith(".000Z"):
        return value[:-5] + "Z"
    return value
