"""Property tests over the public inputs the newsletter takes: the subscribe form and
subscriber CSV files. Whatever arrives: no 500, nothing echoed as markup, no half-written
rows."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarion.newsletter.models import ConsentEvent, Subscriber

HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>@example.org",
        '"><img src=x onerror=alert(1)>',
        "a@b",
        "reader@example.org",
        "READER@Example.org ",
        "x" * 300 + "@example.org",
        "\x00@example.org",
        "",
    ]
)
EMAILS = st.one_of(HOSTILE, st.emails(), st.text(max_size=80))
CATEGORIES = st.lists(st.one_of(st.integers(-5, 10**12), st.text(max_size=10)), max_size=4)

pytestmark = pytest.mark.django_db


@override_settings(CLARION_THROTTLE_ENABLED=False)
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(email=EMAILS, categories=CATEGORIES)
def test_any_subscribe_request_gets_a_clear_answer(email, categories, demo_site):
    client = Client(raise_request_exception=False)
    before = Subscriber.objects.count()
    response = client.post(
        "/subscribe/", {"email": email, "categories": [str(c) for c in categories]}
    )
    assert response.status_code in {200, 302, 400}, response.status_code
    body = response.content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    added = Subscriber.objects.count() - before
    assert added in {0, 1}
    # Every subscriber has the consent record of the request that made it.
    assert not Subscriber.objects.exclude(pk__in=ConsentEvent.objects.values("subscriber")).exists()


CELL = st.one_of(
    st.text(max_size=30),
    st.emails(),
    st.sampled_from(["2021-07-19", "19/07/2021", "not a date", "=cmd|' /C calc'!A0", ""]),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    header=st.sampled_from(
        ["email,created_at", "Email,date_subscribed,status", "email_address", "name,notes"]
    ),
    rows=st.lists(st.lists(CELL, min_size=1, max_size=3), max_size=6),
)
def test_any_csv_imports_whole_or_not_at_all(tmp_path_factory, header, rows, db):
    import csv

    path = tmp_path_factory.mktemp("csv") / "subscribers.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(header + "\n")
        csv.writer(fh).writerows(rows)
    before = (Subscriber.objects.count(), ConsentEvent.objects.count())
    try:
        call_command("subscribers_import", str(path), "--confirmed", stdout=io.StringIO())
    except CommandError as exc:
        message = str(exc)
        assert "\n" not in message.strip()
        assert (Subscriber.objects.count(), ConsentEvent.objects.count()) == before
    else:
        assert Subscriber.objects.count() >= before[0]
