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

    # Opening the link (as a mail scanner does) shows a button and changes nothing.
    page = reader.get(path)
    assert page.status_code == 200
    assert "Confirm my subscription" in page.text and "reader@example.org" in page.text
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    assert not ConsentEvent.objects.filter(kind="confirmed").exists()

    response = press_confirm(reader, path)
    assert response.status_code == 200 and "You are subscribed" in response.text
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.confirmed_at is not None


def press_confirm(client, path, **extra):
    """Press the button on the confirmation page: its form, with its CSRF token."""
    page = client.get(path)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    token = found.group(1) if found else "none on the page"
    return client.post(path, {"csrfmiddlewaretoken": token}, **extra)


def confirmation_link(smtp, count=1, to="reader@example.org"):
    smtp.wait_for(count)
    return link(parts(smtp.to(to)[-1])[0], "/subscribe/confirm/")


def unsubscribe_link(subscriber):
    """The path of the subscriber's unsubscribe link, as every newsletter email carries it."""
    from clarion.newsletter import links

    return links.unsubscribe_url(subscriber.pk, subscriber.email).removeprefix(
        "http://127.0.0.1:8000"
    )


def test_confirming_needs_the_button_and_its_csrf_token(smtp, subscribe, reader):
    subscribe("reader@example.org")
    path = confirmation_link(smtp)
    for _ in range(3):  # a scanner, a preview pane, the reader: GETs change nothing
        assert reader.get(path).status_code == 200
    assert reader.post(path, {}).status_code == 403  # no CSRF token
    assert reader.head(path).status_code in (200, 405)
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    assert press_confirm(reader, path).status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


def test_a_used_confirmation_link_changes_nothing(smtp, subscribe, reader):
    subscribe("reader@example.org")
    path = confirmation_link(smtp)
    assert press_confirm(reader, path).status_code == 200
    confirmed_at = Subscriber.objects.get().confirmed_at
    events = ConsentEvent.objects.count()

    again = press_confirm(reader, path)
    assert again.status_code == 404
    assert "has been used already" in again.text and "Nothing has been changed" in again.text
    assert Subscriber.objects.get().confirmed_at == confirmed_at
    assert ConsentEvent.objects.count() == events


def test_an_old_confirmation_link_does_not_resubscribe_after_unsubscribing(smtp, subscribe, reader):
    subscribe("reader@example.org")
    path = confirmation_link(smtp)
    assert press_confirm(reader, path).status_code == 200
    subscriber = Subscriber.objects.get()
    assert reader.post(unsubscribe_link(subscriber)).status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED

    # Neither opening the old link nor pressing its button brings the address back.
    assert reader.get(path).status_code == 404
    response = press_confirm(reader, path)
    assert response.status_code == 404 and "This link does not work" in response.text
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    assert ConsentEvent.objects.filter(kind="confirmed").count() == 1


def test_an_unused_link_from_before_an_unsubscribe_does_not_subscribe(smtp, subscribe, reader):
    subscribe("reader@example.org")
    path = confirmation_link(smtp)
    subscriber = Subscriber.objects.get()
    assert reader.post(unsubscribe_link(subscriber)).status_code == 200
    assert press_confirm(reader, path).status_code == 404
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_a_new_request_gets_a_new_link_and_the_old_one_stops_working(smtp, subscribe, reader):
    subscribe("reader@example.org")
    NewsletterSettings.objects.update(confirmation_interval_minutes=0)
    first = confirmation_link(smtp)
    assert press_confirm(reader, first).status_code == 200
    assert reader.post(unsubscribe_link(Subscriber.objects.get())).status_code == 200

    subscribe("reader@example.org")  # they change their mind: a new request, a new link
    second = confirmation_link(smtp, 2)
    assert second != first
    assert press_confirm(reader, first).status_code == 404
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    assert press_confirm(reader, second).status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


def test_a_confirmation_token_for_another_address_changes_nothing(smtp, subscribe, reader):
    from clarion.lib import tokens

    subscribe("ann@example.org")
    subscribe("bob@example.org")
    smtp.wait_for(2)
    ann, bob = (
        Subscriber.objects.get(email="ann@example.org"),
        Subscriber.objects.get(email="bob@example.org"),
    )
    # Ann's id with Bob's request, properly signed: still not a link to any request.
    forged = tokens.make("newsletter.confirm", ann.pk, bob.confirmation_state())
    assert press_confirm(reader, f"/subscribe/confirm/{forged}/").status_code == 404
    # Ann's own link, after an administrator corrected her address, no longer applies.
    path = confirmation_link(smtp, 2, to="ann@example.org")
    Subscriber.objects.filter(pk=ann.pk).update(email="ann@example.net")
    assert press_confirm(reader, path).status_code == 404
    assert set(Subscriber.objects.values_list("status", flat=True)) == {"pending"}


def test_it_rejects_a_forged_or_tampered_confirmation_link(smtp, subscribe, reader):
    subscribe("reader@example.org")
    path = link(parts(smtp.wait_for(1)[0])[0], "/subscribe/confirm/")
    tampered = path[:-3] + ("x" if path[-3] != "x" else "y") + path[-2:]
    assert reader.get(tampered).status_code == 404
    assert press_confirm(reader, tampered).status_code == 404
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
    press_confirm(reader, path, REMOTE_ADDR="198.51.100.4")
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
