"""Public addresses built without reverse() are exactly the ones reverse() gives."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse, set_script_prefix
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from clarion.posts.models import Author, Category, SiteSettings, Tag, permalink

# What a slug may hold (SlugField with allow_unicode, the routes' [-\w]+): letters and
# digits of any script, "_" and "-".
slugs = st.from_regex(r"[-\w]{1,40}", fullmatch=True)


@pytest.mark.django_db
@given(
    slug=slugs,
    when=st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30)),
)
def test_a_permalink_is_what_reverse_gives(slug, when):
    when = when.replace(tzinfo=UTC)
    # The date in the address is the site's local date (Europe/London by default).
    local = timezone.localtime(when, SiteSettings.load().tzinfo)
    expected = reverse(
        "posts:detail",
        kwargs={
            "year": f"{local.year:04d}",
            "month": f"{local.month:02d}",
            "day": f"{local.day:02d}",
            "slug": slug,
        },
    )
    assert permalink(slug, when) == expected


@given(slug=slugs)
def test_archive_addresses_are_what_reverse_gives(slug):
    assert Category(slug=slug).get_absolute_url() == reverse("posts:category", args=[slug])
    assert Tag(slug=slug).get_absolute_url() == reverse("posts:tag", args=[slug])
    assert Author(slug=slug).get_absolute_url() == reverse("posts:author", args=[slug])


def test_addresses_keep_the_script_prefix_of_a_site_served_under_a_path():
    set_script_prefix("/blog/")
    try:
        assert Category(slug="north-korea").get_absolute_url() == "/blog/category/north-korea/"
        assert Tag(slug="droits-de-l_homme-é").get_absolute_url() == reverse(
            "posts:tag", args=["droits-de-l_homme-é"]
        )
    finally:
        set_script_prefix("/")


def test_addresses_and_dates_follow_a_change_of_the_sites_time_zone(client, make_post):
    # Both are remembered per process: the time zone must be part of what is remembered.
    post = make_post("Late", slug="late", published_at=datetime(2023, 5, 31, 23, 30, tzinfo=UTC))
    site = SiteSettings.load()
    assert site.time_zone == "Europe/London"
    page = client.get("/").content.decode()
    assert "/2023/06/01/late/" in page and ">1 Jun 2023</time>" in page
    site.time_zone = "UTC"
    site.save()
    page = client.get("/").content.decode()
    assert "/2023/05/31/late/" in page and ">31 May 2023</time>" in page
    assert post.get_absolute_url() == "/2023/05/31/late/"
