"""The newsletter in the admin: subscribers, import with preview, export, delivery status."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clarion.newsletter.models import Delivery, Issue, Subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribers(db):
    now = timezone.now()
    return [
        Subscriber.objects.create(email="ada@example.org", status="confirmed", confirmed_at=now),
        Subscriber.objects.create(email="bob@example.org", status="pending"),
        Subscriber.objects.create(email="cy@example.org", status="bounced"),
    ]


def test_the_subscriber_list_searches_and_filters_by_status(admin_client, subscribers):
    page = admin_client.get("/admin/newsletter/subscriber/?q=ada").content.decode()
    assert "ada@example.org" in page and "bob@example.org" not in page
    page = admin_client.get("/admin/newsletter/subscriber/?status__exact=bounced").content.decode()
    assert "cy@example.org" in page and "ada@example.org" not in page


def test_import_shows_a_preview_then_imports(admin_client, tmp_path):
    upload = SimpleUploadedFile(
        "ghost.csv",
        b"email,subscribed_to_emails,created_at\nada@example.org,true,2019-01-02T00:00:00Z\n",
    )
    preview = admin_client.post(
        "/admin/newsletter/subscriber/import/", {"file": upload, "confirmed": "on"}
    )
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "ghost format" in text and "ada@example.org" in text
    assert Subscriber.objects.count() == 0
    stored = text.split('name="stored" value="')[1].split('"')[0]
    done = admin_client.post(
        "/admin/newsletter/subscriber/import/",
        {"stored": stored, "filename": "ghost.csv", "confirmed": "1", "columns": ""},
    )
    assert done.status_code == 302
    subscriber = Subscriber.objects.get()
    assert subscriber.status == "confirmed"
    assert subscriber.subscribed_at.year == 2019


def test_import_names_the_bad_line(admin_client):
    upload = SimpleUploadedFile("list.csv", b"email\nok@example.org\nnope\n")
    response = admin_client.post("/admin/newsletter/subscriber/import/", {"file": upload})
    assert response.status_code == 400
    assert "list.csv:3: email: &#x27;nope&#x27; is not an email address" in response.text
    assert Subscriber.objects.count() == 0


def test_a_subscriber_consent_record_downloads_as_json(admin_client, subscribers):
    response = admin_client.get(f"/admin/newsletter/subscriber/{subscribers[0].pk}/consent.json")
    assert response.status_code == 200
    assert json.loads(response.content)["email"] == "ada@example.org"


def test_the_export_action_downloads_csv(admin_client, subscribers):
    response = admin_client.post(
        "/admin/newsletter/subscriber/",
        {"action": "export_csv", "_selected_action": [s.pk for s in subscribers]},
    )
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().count("@example.org") == 3


def test_the_issue_page_shows_delivery_status_and_reasons(admin_client, subscribers, make_post):
    post = make_post("Sent")
    issue = Issue.objects.get(post=post)
    Delivery.objects.create(issue=issue, subscriber=subscribers[0], status="sent")
    Delivery.objects.create(
        issue=issue, subscriber=subscribers[2], status="failed", last_error="550 5.1.1 No such user"
    )
    page = admin_client.get(f"/admin/newsletter/issue/{issue.pk}/change/").content.decode()
    assert "1 failed, 1 sent" in page
    assert "550 5.1.1 No such user" in page
    listing = admin_client.get(f"/admin/newsletter/delivery/?issue__id__exact={issue.pk}")
    assert "cy@example.org" in listing.content.decode()


def test_the_outbox_lists_emails_written_to_files(admin_client, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    from django.core.mail import send_mail

    send_mail("Hello outbox", "Body", "a@example.org", ["b@example.org"])
    page = admin_client.get("/admin/newsletter/subscriber/outbox/")
    assert page.status_code == 200
    name = next(tmp_path.glob("*.log")).name
    assert name in page.content.decode()
    message = admin_client.get(f"/admin/newsletter/subscriber/outbox/?file={name}")
    assert b"Subject: Hello outbox" in message.content


def test_a_subscriber_page_shows_the_consent_record_read_only(admin_client, subscribers):
    from clarion.newsletter import services

    services.subscriber_unsubscribe(
        subscriber=subscribers[0], evidence=services.Evidence(detail="by test")
    )
    page = admin_client.get(f"/admin/newsletter/subscriber/{subscribers[0].pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Unsubscribed" in text and "by test" in text
    assert 'name="status"' not in text  # no bare edits that would bypass the record
