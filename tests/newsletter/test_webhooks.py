"""Bounce and complaint webhooks (through django-anymail) stop mail to the address."""

import base64
import json

import pytest

from clarion.newsletter.models import Subscriber

pytestmark = pytest.mark.django_db

URL = "/newsletter/webhooks/postmark/tracking/"


@pytest.fixture
def provider(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    auth = "Basic " + base64.b64encode(b"hook:s3cret").decode()

    def post(payload, authorization=auth):
        return client.post(
            URL,
            json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=authorization,
        )

    return post


def subscriber(email):
    return Subscriber.objects.create(email=email, status=Subscriber.Status.CONFIRMED)


def test_a_hard_bounce_marks_the_address(provider):
    sub = subscriber("gone@example.org")
    response = provider(
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "TypeCode": 1,
            "Email": "Gone@Example.org",
            "Description": "The server was unable to deliver your message",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "BouncedAt": "2026-11-28T08:00:00Z",
        }
    )
    assert response.status_code == 200
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.BOUNCED
    assert sub.consent_events.get().kind == "bounced"


def test_a_spam_complaint_marks_the_address(provider):
    sub = subscriber("angry@example.org")
    provider(
        {
            "RecordType": "SpamComplaint",
            "Type": "SpamComplaint",
            "TypeCode": 512,
            "Email": "angry@example.org",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79484",
            "BouncedAt": "2026-11-28T08:00:00Z",
        }
    )
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.COMPLAINED


def test_a_soft_bounce_changes_nothing(provider):
    sub = subscriber("full@example.org")
    provider(
        {
            "RecordType": "Bounce",
            "Type": "SoftBounce",
            "TypeCode": 4096,
            "Email": "full@example.org",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79485",
            "BouncedAt": "2026-11-28T08:00:00Z",
        }
    )
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.CONFIRMED


def test_a_webhook_without_the_secret_is_refused(provider):
    sub = subscriber("gone@example.org")
    response = provider(
        {"RecordType": "Bounce", "Type": "HardBounce", "Email": "gone@example.org"},
        authorization="Basic " + base64.b64encode(b"hook:wrong").decode(),
    )
    assert response.status_code == 400
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.CONFIRMED


def test_webhooks_are_off_until_a_secret_is_configured(client, settings):
    settings.ANYMAIL = {}
    sub = subscriber("gone@example.org")
    response = client.post(
        URL,
        json.dumps({"RecordType": "Bounce", "Type": "HardBounce", "Email": "gone@example.org"}),
        content_type="application/json",
    )
    assert response.status_code == 404
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.CONFIRMED
