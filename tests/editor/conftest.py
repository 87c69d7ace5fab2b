import io

import pytest
from django.utils import timezone

PASSWORD = "a long and unusual pass phrase"


@pytest.fixture
def make_user(db):
    """A signed-in-able staff user in one of the four role groups, with an author profile."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from clarion.posts.models import Author

    def make(username, role=None, *, superuser=False):
        user = get_user_model().objects.create_user(
            username, f"{username}@example.org", PASSWORD, is_staff=True, is_superuser=superuser
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        Author.objects.create(user=user, display_name=username.title(), slug=username)
        return user

    return make


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def local_parts(when):
    """A datetime as the admin's split date and time fields, in the site's time zone."""
    from clarion.posts.models import SiteSettings

    local = timezone.localtime(when, SiteSettings.load().tzinfo)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def post_form(**overrides):
    """The POST data of the post editor, filled in as an author would."""
    when = overrides.pop("published_at", None)
    data = {
        "title": "A letter",
        "slug": "",
        "body": "Dear Foreign Secretary,\n\nWe write to you.",
        "excerpt": "",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
        "notify_subscribers": "on",
        "new_categories": "",
        "new_tags": "",
        "image_alt": "",
        "featured_image_alt": "",
    }
    if when is not None:
        data["published_at_0"], data["published_at_1"] = local_parts(when)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def jpeg_with_gps(width=2000, height=1200, fmt="JPEG") -> bytes:
    """A real photo-sized image whose EXIF says where it was taken."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (180, 40, 40))
    for x in range(0, width, 50):  # some detail, so the encoder has work to do
        image.paste((20, 90, 160), (x, 0, x + 20, height))
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    exif[0x0110] = "Camera Model"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()
