"""Add N generated posts (default 1,000) to the Clarion site in CLARION_DATA_DIR/DATABASE_URL.

    python bench/make_posts.py [N]

Spread over five categories and ten tags, dated over the last three years, each with a
few paragraphs of Markdown, so archives paginate and the sidebar and feeds are realistic.
"""

import os
import random
import sys
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clarion.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from clarion.lib.planner import refresh_planner_statistics  # noqa: E402
from clarion.posts import services  # noqa: E402
from clarion.posts.models import Author, Category, Post, Tag  # noqa: E402

WORDS = (
    "parliament letter human rights minister escapees report committee evidence asylum "
    "government policy campaign justice freedom vote debate amendment inquiry charity "
    "refugees prison labour camps repatriation embassy sanctions united nations council"
).split()


def paragraph(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))).capitalize() + "."


def main(count: int) -> None:
    rng = random.Random(7)
    author = Author.objects.order_by("pk").first() or Author.objects.create(
        display_name="Bench Author", slug="bench-author"
    )
    categories = [
        Category.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in [
            ("human-rights", "Human rights"),
            ("north-korea", "North Korea"),
            ("parliament", "Parliament"),
            ("letters", "Letters"),
            ("campaigns", "Campaigns"),
        ]
    ]
    tags = [Tag.objects.get_or_create(slug=f"tag-{i}", defaults={"name": f"Tag {i}"})[0]
            for i in range(10)]  # fmt: skip
    now = timezone.now()
    with transaction.atomic():
        for i in range(count):
            body = "\n\n".join(paragraph(rng) for _ in range(rng.randint(3, 8)))
            post = Post.objects.create(
                title=f"Generated post {i}: " + " ".join(rng.sample(WORDS, 5)),
                slug=f"generated-post-{i}",
                body=body,
                status=Post.Status.PUBLISHED,
                published_at=now - timedelta(hours=rng.randint(1, 3 * 365 * 24)),
                author=author,
                notify_subscribers=False,
            )
            post.categories.set(rng.sample(categories, rng.randint(1, 2)))
            post.tags.set(rng.sample(tags, rng.randint(0, 3)))
            services.post_saved(post=post, was_live=True)
    # As `clarion worker` does at start-up and hourly (the benchmarks serve without it):
    # without statistics SQLite reads the home page's posts through the wrong index.
    refresh_planner_statistics(force=True)
    print(f"{Post.objects.count()} posts")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
