"""An email to every confirmed subscriber when a post is published, through real SMTP."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from clarion.newsletter import sending, tasks
from clarion.newsletter.models import Delivery, Issue, NewsletterSettings, Subscriber
from clarion.posts import services as post_services
from clarion.posts.models import Category, Post

from .conftest import link
from .smtpsink import parts

pytestmark = pytest.mark.django_db


def confirmed(email, *categories, at=None):
    subscriber = Subscriber.objects.create(
        email=email,
        status=Subscriber.Status.CONFIRMED,
        confirmed_at=at or timezone.now() - timedelta(days=1),
    )
    subscriber.categories.set(categories)
    return subscriber


@pytest.fixture
def publish(make_post, django_capture_on_commit_callbacks):
    def run(title="A new letter", **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return make_post(title, **fields)

    return run


def test_it_emails_each_confirmed_subscriber_once_with_compliant_headers(smtp, publish, site):
    confirmed("one@example.org")
    confirmed("two@example.org")
    Subscriber.objects.create(email="pending@example.org")
    Subscriber.objects.create(email="left@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    post = publish("Letter to the Foreign Secretary", body="Dear Foreign Secretary,\n\nWords.")

    messages = smtp.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["one@example.org", "two@example.org"]
    message = smtp.to("one@example.org")[0]
    assert message["Subject"] == "Letter to the Foreign Secretary"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    list_unsubscribe = str(message["List-Unsubscribe"]).strip()  # may be folded
    assert list_unsubscribe.startswith("<http://127.0.0.1:8000/unsubscribe/")
    assert message["List-Id"].endswith("<newsletter.127.0.0.1>")
    subscriber = Subscriber.objects.get(email="one@example.org")
    issue = Issue.objects.get(post=post)
    assert message["Message-ID"] == f"<{issue.key}.{subscriber.pk}@127.0.0.1>"
    text, html = parts(message)
    post_url = "http://127.0.0.1:8000" + post.get_absolute_url()
    assert post_url in text and post_url in html
    assert "Dear Foreign Secretary," in text and "<p>Dear Foreign Secretary,</p>" in html
    unsubscribe = link(text, "/unsubscribe/")
    assert f"<http://127.0.0.1:8000{unsubscribe}>" == list_unsubscribe
    assert unsubscribe in html
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert Issue.objects.get().completed_at is not None


def test_it_sends_the_excerpt_when_the_site_says_so(smtp, publish, site):
    NewsletterSettings.objects.update_or_create(pk=1, defaults={"content": "excerpt"})
    confirmed("one@example.org")
    publish("Short", body="First paragraph.\n\nSecret second paragraph.", excerpt="The lede.")
    text, html = parts(smtp.wait_for(1)[0])
    assert "The lede." in text and "Secret second paragraph." not in text
    assert "Read the whole post" in html


def test_one_click_unsubscribe_works_with_a_bare_post(smtp, publish, site):
    confirmed("one@example.org")
    publish()
    message = smtp.wait_for(1)[0]
    url = str(message["List-Unsubscribe"]).strip().strip("<>").removeprefix("http://127.0.0.1:8000")
    # What a mail client sends (RFC 8058): no cookie, no CSRF token, no login.
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.consent_events.last().detail == "one-click (RFC 8058)"


def test_the_unsubscribe_link_shows_a_button_and_does_nothing_on_get(smtp, publish, site):
    confirmed("one@example.org")
    publish()
    path = link(parts(smtp.wait_for(1)[0])[0], "/unsubscribe/")
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200 and "<button" in page.text
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED
    assert client.post(path).status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    assert client.post("/unsubscribe/1.bad:token:here/").status_code == 404


def test_it_emails_only_subscribers_who_want_one_of_the_posts_categories(smtp, publish, site):
    news = Category.objects.create(name="News", slug="news")
    letters = Category.objects.create(name="Letters", slug="letters")
    confirmed("all@example.org")
    confirmed("news@example.org", news)
    confirmed("letters@example.org", letters)
    confirmed("both@example.org", news, letters)
    publish("A news item", categories=[news])
    smtp.wait_for(3)
    assert sorted(m["To"] for m in smtp.messages) == [
        "all@example.org",
        "both@example.org",
        "news@example.org",
    ]


def test_the_manage_page_changes_categories(smtp, publish, site):
    news = Category.objects.create(name="News", slug="news")
    letters = Category.objects.create(name="Letters", slug="letters")
    subscriber = confirmed("reader@example.org")
    publish("Hello", categories=[letters])
    path = link(parts(smtp.wait_for(1)[0])[0], "/subscribe/manage/")
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert client.post(path, {"categories": [news.pk]}).status_code == 403  # CSRF
    response = client.post(path, {"categories": [news.pk], "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and "Saved." in response.text
    assert subscriber.category_slugs() == ["news"]
    assert subscriber.consent_events.last().kind == "categories"


def test_publishing_without_emailing_sends_nothing(smtp, publish, site):
    confirmed("one@example.org")
    publish(notify_subscribers=False)
    assert Issue.objects.count() == 0
    assert smtp.messages == []


def test_editing_a_published_post_sends_nothing_again(smtp, publish, site, alice):
    from clarion.posts import frontmatter

    confirmed("one@example.org")
    post = publish("First title", slug="first")
    smtp.wait_for(1)
    doc = frontmatter.Document(
        path="x.md",
        title="Second title",
        slug="first",
        body="Changed.",
        excerpt="",
        status=Post.Status.PUBLISHED,
        date=post.published_at,
        categories=[],
        tags=[],
        author="",
        notify=True,
    )
    from django.db import transaction

    with transaction.atomic():
        post_services.upsert_document(doc)
    # Unpublishing and publishing again does not send again either.
    Post.objects.filter(pk=post.pk).update(status=Post.Status.DRAFT)
    with transaction.atomic():
        post_services.upsert_document(doc)
    assert len(smtp.messages) == 1
    assert Issue.objects.count() == 1


def test_it_sends_for_a_scheduled_post_when_it_falls_due(
    smtp, site, alice, django_capture_on_commit_callbacks
):
    confirmed("one@example.org")
    when = timezone.now() + timedelta(minutes=5)
    Post.objects.create(
        title="Later", body="x", status=Post.Status.SCHEDULED, published_at=when, author=alice
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_services.publish_due_posts() == 0
        assert post_services.publish_due_posts(now=when + timedelta(seconds=1)) == 1
    assert [m["Subject"] for m in smtp.wait_for(1)] == ["Later"]


def test_clarion_publish_sends_too(smtp, site, alice, tmp_path, django_capture_on_commit_callbacks):
    confirmed("one@example.org")
    source = tmp_path / "post.md"
    source.write_text("---\ntitle: From the CLI\nstatus: published\n---\nHello.\n")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("publish", str(source))
    assert [m["Subject"] for m in smtp.wait_for(1)] == ["From the CLI"]


def test_a_subscriber_confirmed_after_publication_gets_nothing(smtp, site, make_post):
    from django.db import transaction

    confirmed("early@example.org")
    post = make_post("Now")  # published; its fan-out has not run yet (on_commit)
    confirmed("late@example.org", at=timezone.now() + timedelta(seconds=1))
    with transaction.atomic():
        issue = Issue.objects.get(post=post)
    sending.fan_out(issue_id=issue.pk)
    assert list(Delivery.objects.values_list("subscriber__email", flat=True)) == [
        "early@example.org"
    ]


def test_a_hard_bounce_marks_the_address_and_is_not_retried(smtp, publish, site):
    smtp.handler.rcpt_replies["gone@example.org"] = "550 5.1.1 No such user"
    confirmed("gone@example.org")
    confirmed("fine@example.org")
    publish()
    smtp.wait_for(1)
    gone = Delivery.objects.get(subscriber__email="gone@example.org")
    assert gone.status == Delivery.Status.FAILED
    assert gone.last_error.startswith("550")
    subscriber = gone.subscriber
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.BOUNCED
    assert subscriber.consent_events.last().kind == "bounced"
    assert Delivery.objects.get(subscriber__email="fine@example.org").status == "sent"


def test_a_temporary_failure_is_retried_with_backoff(smtp, publish, site):
    smtp.handler.rcpt_replies["busy@example.org"] = "451 4.7.1 Try again later"
    confirmed("busy@example.org")
    publish()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert delivery.last_error.startswith("451")
    # Not due yet: the sweep leaves it alone.
    assert tasks.sweep()["requeued"] == 0
    del smtp.handler.rcpt_replies["busy@example.org"]
    later = timezone.now() + timedelta(minutes=10)
    assert tasks.sweep(now=later)["requeued"] == 1  # the ImmediateBackend runs it now
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    Issue.objects.update(heartbeat_at=None)
    tasks.sweep()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 2
    assert len(smtp.messages) == 1


def test_a_delivery_that_keeps_failing_gives_up(smtp, publish, site):
    smtp.handler.rcpt_replies["busy@example.org"] = "451 4.7.1 Try again later"
    confirmed("busy@example.org")
    publish()
    for _ in range(len(sending.RETRY_DELAYS)):
        Delivery.objects.update(next_attempt_at=timezone.now())
        Issue.objects.update(heartbeat_at=None)
        tasks.sweep()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == len(sending.RETRY_DELAYS) + 1
    assert delivery.last_error.startswith("gave up after 6 attempts")


def test_the_sweep_reclaims_deliveries_whose_worker_died(
    smtp, site, make_post, django_capture_on_commit_callbacks
):
    confirmed("one@example.org")
    post = make_post("Orphaned")  # on_commit never ran: as if the process died
    issue = Issue.objects.get(post=post)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep()["refanned"] == 0  # its task may still be queued
        later = timezone.now() + timedelta(seconds=sending.lease_seconds() + 1)
        assert tasks.sweep(now=later)["refanned"] == 1  # its task was lost: do it again
    assert len(smtp.wait_for(1)) == 1
    # A worker claimed a batch and died: its lease expires and the sweep requeues it.
    confirmed("two@example.org")
    Delivery.objects.create(issue=issue, subscriber=Subscriber.objects.get(email="two@example.org"))
    token, rows = sending.claim(issue_id=issue.pk, limit=10, worker="dead")
    assert [r.subscriber.email for r in rows] == ["two@example.org"]
    assert sending.send_batch(issue_id=issue.pk) == 0  # nothing due: it is leased
    later = timezone.now() + timedelta(seconds=sending.lease_seconds() + 1)
    Issue.objects.update(heartbeat_at=None)
    assert tasks.sweep(now=later)["reclaimed"] == 1
    assert [m["To"] for m in smtp.wait_for(2)][1] == "two@example.org"
    assert Delivery.objects.filter(status="sent").count() == 2


def test_non_ascii_titles_and_bodies_arrive_intact(smtp, publish, site):
    confirmed("one@example.org")
    title = "Lettre à l’ambassadeur — 北朝鮮の脱北者 " + "très long " * 12
    body = "Ünïcödé paragraph " * 80 + "\n\nA line with a . at the start:\n\n.dot"
    publish(title, body=body)
    message = smtp.wait_for(1)[0]
    assert message["Subject"] == title.strip()
    text, html = parts(message)
    assert ("Ünïcödé paragraph " * 80).strip() + "\n\nA line" in text.replace("\r\n", "\n")
    assert ".dot" in text


def test_other_backends_get_the_same_email(publish, site, settings, mailoutbox):
    """The file outbox and anymail providers get a Django EmailMessage, not raw SMTP."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    subscriber = confirmed("one@example.org")
    post = publish("Via locmem")
    [message] = mailoutbox
    issue = Issue.objects.get(post=post)
    assert message.extra_headers["Message-ID"] == issue.message_id(subscriber.pk)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in message.body
    assert "/unsubscribe/" in message.alternatives[0][0]
    assert Delivery.objects.get().status == Delivery.Status.SENT
