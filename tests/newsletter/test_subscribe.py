"""Double opt-in through the subscribe form, against a real SMTP server."""

import re

import pytest
from django.test import Client

from clarion.newsletter.forms import SIDEBAR_WORDING
from clarion.newsletter.models import ConsentEvent, NewsletterSettings, Subscriber

from .conftest import link
from .smtpsink import parts

pytestmark = pytest.mark.django_db


def test_it_sends_a_confirmation_and_activates_only_on_its_link(smtp, subscribe, reader):
    response = subscribe("Reader@Example.org", page="/2021/07/19/a-letter/")
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    subscriber = Subscriber.objects.get(email="reader@example.org")
    assert subscriber.status == Subscriber.Status.PENDING

    [message] = smtp.wait_for(1)
    assert message["To"] == "reader@example.org"
    assert message["Message-ID"].endswith("@127.0.0.1>")
    text, html = parts(message)
    path = link(text, "/subscribe/confirm/")
    assert path in html

    assert reader.get(path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.confirmed_at is not None


def test_it_rejects_a_forged_or_tampered_confirmation_link(smtp, subscribe, reader):
    subscribe("reader@example.org")
    path = link(parts(smtp.wait_for(1)[0])[0], "/subscribe/confirm/")
    tampered = path[:-3] + ("x" if path[-3] != "x" else "y") + path[-2:]
    assert reader.get(tampered).status_code == 404
    assert reader.get("/subscribe/confirm/1.abc:def:ghi/").status_code == 404
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_it_rejects_an_expired_confirmation_link(smtp, subscribe, reader):
    subscribe("reader@example.org")
    path = link(parts(smtp.wait_for(1)[0])[0], "/subscribe/confirm/")
    NewsletterSettings.objects.update(confirmation_valid_days=0)
    import time

    time.sleep(1.1)
    assert reader.get(path).status_code == 404
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_it_answers_the_same_whatever_the_address_state(smtp, subscribe, reader):
    Subscriber.objects.create(email="known@example.org", status=Subscriber.Status.CONFIRMED)
    Subscriber.objects.create(email="gone@example.org", status=Subscriber.Status.BOUNCED)
    answers = [
        subscribe(address).content.decode().replace(address, "")
        for address in ("new@example.org", "known@example.org", "gone@example.org")
    ]
    # Per-request values (CSRF token, CSP nonce) aside, the pages are identical.
    strip = [re.sub(r'(value|nonce)="[^"]*"', "", a) for a in answers]
    assert strip[0] == strip[1] == strip[2]
    # The known subscriber gets a note with a manage link, not a second confirmation.
    smtp.wait_for(2)
    [note] = smtp.to("known@example.org")
    assert "/subscribe/manage/" in parts(note)[0]
    assert "/subscribe/confirm/" not in parts(note)[0]
    assert smtp.to("gone@example.org") == []
    assert Subscriber.objects.get(email="known@example.org").status == "confirmed"


def test_it_sends_at_most_one_confirmation_per_interval(smtp, subscribe, reader):
    for _ in range(3):
        assert subscribe("reader@example.org").status_code == 200
    import time

    time.sleep(0.3)
    assert len(smtp.messages) == 1
    assert ConsentEvent.objects.filter(kind="requested").count() == 3
    NewsletterSettings.objects.update(confirmation_interval_minutes=0)
    subscribe("reader@example.org")
    assert len(smtp.wait_for(2)) == 2


def test_it_shows_a_form_error_for_an_invalid_address(smtp, subscribe):
    response = subscribe("not an address")
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert Subscriber.objects.count() == 0
    assert smtp.messages == []


def test_it_enforces_csrf(smtp):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/subscribe/", {"email": "reader@example.org"})
    assert response.status_code == 403
    assert Subscriber.objects.count() == 0


def test_it_throttles_requests_per_client_address(smtp, subscribe, settings, reader):
    settings.CLARION_THROTTLE_RATES = {**settings.CLARION_THROTTLE_RATES, "subscribe": "3/h"}
    codes = [subscribe(f"r{i}@example.org").status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert Subscriber.objects.count() == 3
    other = Client(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.7")
    assert subscribe("other@example.org", client=other).status_code == 200


def test_it_keeps_a_consent_record_of_request_and_confirmation(smtp, subscribe, reader, site):
    from clarion.posts.models import Category

    news = Category.objects.create(name="News", slug="news")
    subscribe("reader@example.org", categories=[news], form="sidebar", page="/about/")
    path = link(parts(smtp.wait_for(1)[0])[0], "/subscribe/confirm/")
    reader.get(path, REMOTE_ADDR="198.51.100.4")
    subscriber = Subscriber.objects.get()
    assert subscriber.category_slugs() == ["news"]
    requested, confirmed = subscriber.consent_events.all()
    assert requested.kind == "requested"
    assert requested.page == "http://127.0.0.1:8000/about/"
    assert requested.wording == SIDEBAR_WORDING
    assert requested.categories == ["news"]
    assert len(requested.ip_hash) == 64 and "127.0.0.1" not in requested.ip_hash
    assert requested.user_agent_hash and requested.user_agent_hash != requested.ip_hash
    assert confirmed.kind == "confirmed"
    assert confirmed.categories == ["news"]
    assert confirmed.ip_hash != requested.ip_hash  # a different client address


def test_the_sidebar_shows_the_wording_the_consent_record_keeps(client, site):
    page = client.get("/").content.decode()
    assert SIDEBAR_WORDING in page
    assert 'name="form" value="sidebar"' in page


def test_the_throttle_reads_the_trusted_proxy_header(smtp, subscribe, settings):
    settings.CLARION_THROTTLE_RATES = {**settings.CLARION_THROTTLE_RATES, "subscribe": "1/h"}
    settings.CLARION_PROXY_COUNT = 1
    first = subscribe("a@example.org", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1")
    second = subscribe("b@example.org", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.2")
    third = subscribe("c@example.org", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1")
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
