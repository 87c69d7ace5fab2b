"""Publishes the reference letter on the benchmark's Wagtail site.

    DJANGO_SETTINGS_MODULE=benchsite.settings.bench python load_letter.py LETTER.json

Prints the page's URL.
"""

import json
import sys

import django

django.setup()

from blog.models import BlogCategory, BlogPage  # noqa: E402
from wagtail.models import Site  # noqa: E402

letter = json.loads(open(sys.argv[1], encoding="utf-8").read())
site = Site.objects.get(is_default_site=True)
site.site_name = letter["site_name"]
site.save()
category = BlogCategory.objects.create(name=letter["category"], slug=letter["category_slug"])
page = BlogPage(
    title=letter["title"],
    slug=letter["slug"],
    date=letter["date"][:10],
    author=letter["author"],
    search_description=letter["excerpt"],
    body=letter["body_html"],
    categories=[category],
)
site.root_page.add_child(instance=page)
page.save_revision().publish()
print(page.get_url())
