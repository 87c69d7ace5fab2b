"""The demo site: the reference open letter, its author and a few social links."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from . import frontmatter, services
from .models import Author, Post, SiteSettings

DEMO_DIR = Path(__file__).parent / "demo"
DEMO_BIO = (
    "For 18 years David Alton was a Member of the House of Commons and today he is an "
    "Independent Crossbench Life Peer in the UK House of Lords."
)


def load_demo() -> str | None:
    """Fill an empty site with the reference letter and an admin account.

    Returns the admin's password (random, shown once) or None if the site was not empty.
    """
    User = get_user_model()
    if Post.objects.exists() or User.objects.exists():
        return None
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        site = SiteSettings.load()
        site.title = "David Alton"
        site.tagline = "Independent Crossbench Life Peer in the House of Lords"
        site.x_url = "https://x.com/DavidAltonHL"
        site.facebook_url = "https://www.facebook.com/DavidAltonLiverpool"
        site.youtube_url = "https://www.youtube.com/@DavidAlton"
        site.contact_email = "office@example.org"
        author = Author.objects.create(
            display_name="Lord David Alton",
            slug="david-alton",
            bio=DEMO_BIO,
            website="https://www.davidalton.net",
        )
        site.sidebar_author = author
        site.save()
        admin = User.objects.create_superuser("admin", "admin@example.org", password)
        author.user = admin
        author.save()
        doc = frontmatter.parse(DEMO_DIR / "open-letter.md")
        # The demo must not email anyone: the letter is an old one.
        doc.notify = False
        services.upsert_document(doc)
    return password
