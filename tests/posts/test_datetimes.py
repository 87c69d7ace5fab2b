"""Every datetime Clarion writes into a page is a valid HTML date: at most three fraction
digits (a post published without a date used to carry Python's six into ``<time datetime>``,
and the W3C checker rejected the home page).

The database keeps the full precision (posts published in the same second still sort in
order); pages, Open Graph and JSON-LD write it to the second, in the site's time zone.
"""

import json
import re
from datetime import UTC, datetime

from django.utils import timezone

from clarion.theme.environment import isodatetime
from tests.server import clarion_env, fetch, run_clarion, serving

# WHATWG HTML, "valid global date and time string" (§2.3.5.8): a valid date string, "T" or a
# space, a valid time string (seconds optional, then one to three fraction digits), and a
# valid time-zone offset string ("Z", or a sign, hours, an optional colon and minutes).
_YEAR = r"(?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3,})"
_DATE = _YEAR + r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?"
_OFFSET = r"(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)"
VALID_GLOBAL_DATE_AND_TIME = re.compile(rf"{_DATE}[T ]{_TIME}{_OFFSET}")

_TIME_ATTR = re.compile(r'<time\b[^>]*\bdatetime="([^"]*)"')
_META_TIME = re.compile(r'<meta property="article:[a-z_]+time" content="([^"]*)"')
_JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def test_the_grammar_takes_valid_dates_and_refuses_six_fraction_digits():
    for valid in ("2026-12-07T20:10Z", "2026-12-07 20:10:05.123+01:00", "2026-12-07T20:10:05-0530"):
        assert VALID_GLOBAL_DATE_AND_TIME.fullmatch(valid), valid
    for invalid in ("2026-12-07T20:10:05.123456+00:00", "2026-12-07T20:10:05", "2026-13-01T00:00Z"):
        assert not VALID_GLOBAL_DATE_AND_TIME.fullmatch(invalid), invalid


def test_isodatetime_writes_the_site_time_to_the_second(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    value = datetime(2026, 12, 7, 19, 45, 12, 987654, tzinfo=UTC)
    with timezone.override("Europe/Berlin"):
        assert isodatetime(value) == "2026-12-07T20:45:12+01:00"


def _datetimes(page: str) -> list[str]:
    found = _TIME_ATTR.findall(page) + _META_TIME.findall(page)
    for block in _JSON_LD.findall(page):
        data = json.loads(block)
        found += [data[key] for key in ("datePublished", "dateModified") if data.get(key)]
    return found


def test_a_post_published_without_a_date_has_valid_html_dates_everywhere(tmp_path, data_dir):
    env = clarion_env(data_dir)
    run_clarion("manage", "migrate", "-v", "0", env=env)
    source = tmp_path / "undated.md"
    source.write_text("---\ntitle: An undated letter\nauthor: Ada\n---\n\nText.\n")
    run_clarion("publish", str(source), env=env)
    stored = run_clarion(
        "manage",
        "shell",
        "-c",
        "from clarion.posts.models import Post; p = Post.objects.get(); "
        "print(p.published_at.isoformat(), p.get_absolute_url())",
        env=env,
    ).split()
    published_at, path = datetime.fromisoformat(stored[-2]), stored[-1]

    with serving("--no-worker", env=env) as server:
        status, _, home = fetch(server.url + "/")
        assert status == 200
        status, _, post = fetch(server.url + path)
        assert status == 200

    home_dates, post_dates = _datetimes(home), _datetimes(post)
    assert home_dates, "the home page shows the post's date"
    assert len(post_dates) >= 4  # <time>, Open Graph, JSON-LD published and modified
    for value in home_dates + post_dates:
        assert VALID_GLOBAL_DATE_AND_TIME.fullmatch(value), value
    # The same instant, to the second: the stored value is not truncated, the page is.
    shown = datetime.fromisoformat(_TIME_ATTR.findall(post)[0])
    assert shown == published_at.replace(microsecond=0)
