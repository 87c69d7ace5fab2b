import time
from datetime import timedelta

import pytest
from django.utils import timezone

from clarion.posts import services
from clarion.posts.models import Category, Post, Tag
from clarion.posts.signals import post_published

from .conftest import post_form

ADD = "/admin/posts/post/add/"

pytestmark = pytest.mark.django_db


def change_url(post):
    return f"/admin/posts/post/{post.pk}/change/"


@pytest.fixture
def announcements():
    sent = []

    def receiver(sender, post, notify, **kwargs):
        sent.append((post.pk, notify))

    post_published.connect(receiver, dispatch_uid="test-announcements")
    yield sent
    post_published.disconnect(dispatch_uid="test-announcements")


@pytest.fixture
def author(make_user, signed_in):
    user = make_user("ada", "Author")
    return signed_in(user), user


def test_it_saves_a_draft_that_is_not_on_the_home_page(author, client):
    c, user = author
    response = c.post(ADD, post_form(title="Quiet draft", _save_draft="Save draft"))
    post = Post.objects.get(title="Quiet draft")
    assert response.status_code == 302
    assert response["Location"] == change_url(post)
    assert post.status == Post.Status.DRAFT
    assert post.author.user == user
    assert post.slug == "quiet-draft"
    assert "Quiet draft" not in client.get("/").content.decode()


def test_it_publishes_now_and_announces_once(author, client, announcements):
    c, _ = author
    c.post(ADD, post_form(title="Out today", _publish="Publish"))
    post = Post.objects.get(title="Out today")
    assert post.status == Post.Status.PUBLISHED
    assert post.published_at <= timezone.now()
    assert announcements == [(post.pk, True)]
    assert [c.name for c in post.categories.all()] == ["Uncategorized"]
    assert "Out today" in client.get("/").content.decode()
    # Saving the live post again announces nothing more.
    c.post(change_url(post), post_form(title="Out today", status="published", _continue="1"))
    assert len(announcements) == 1


def test_it_publishes_without_emailing_when_unticked(author, announcements):
    c, _ = author
    c.post(ADD, post_form(title="Quiet one", notify_subscribers=None, _publish="Publish"))
    post = Post.objects.get(title="Quiet one")
    assert announcements == [(post.pk, False)]


def test_it_schedules_a_post_that_appears_once_due(author, client, announcements):
    c, _ = author
    due = timezone.now() + timedelta(seconds=3)
    response = c.post(ADD, post_form(title="Later", published_at=due, _schedule="Schedule"))
    assert response.status_code == 302
    post = Post.objects.get(title="Later")
    assert post.status == Post.Status.SCHEDULED
    assert "Later" not in client.get("/").content.decode()
    assert services.publish_due_posts() == 0
    time.sleep(max(0.0, (post.published_at - timezone.now()).total_seconds()) + 0.2)
    assert services.publish_due_posts() == 1
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED
    assert announcements == [(post.pk, True)]
    assert "Later" in client.get("/").content.decode()


def test_it_refuses_to_schedule_without_a_future_date(author):
    c, _ = author
    response = c.post(ADD, post_form(title="When?", _schedule="Schedule"))
    assert response.status_code == 200
    assert "choose a date and time in the future" in response.content.decode()
    assert not Post.objects.filter(title="When?").exists()


def test_it_creates_categories_and_tags_typed_inline(make_user, signed_in):
    c = signed_in(make_user("eve", "Editor"))
    existing = Tag.objects.create(name="Human rights", slug="human-rights")
    c.post(
        ADD,
        post_form(
            title="Filed",
            new_categories="Foreign policy, Letters",
            new_tags="human rights, North Korea, North Korea",
            _save_draft="1",
        ),
    )
    post = Post.objects.get(title="Filed")
    assert sorted(c.name for c in post.categories.all()) == ["Foreign policy", "Letters"]
    assert sorted(t.name for t in post.tags.all()) == ["Human rights", "North Korea"]
    assert Tag.objects.filter(name__iexact="human rights").get() == existing
    assert Category.objects.filter(name="Letters").count() == 1


def test_it_shows_the_site_time_zone_and_the_buttons(author):
    c, _ = author
    page = c.get(ADD).content.decode()
    assert "Europe/London" in page
    for label in ("Save draft", "Save and preview", "Schedule", "Publish"):
        assert label in page
    assert "editor/editor.js" in page
    assert "<script>" not in page.split("</head>")[1]  # no inline scripts in the body


def confirmed_subscribers_three():
    return 3


def test_publishing_asks_for_confirmation_when_it_will_email(author, settings, announcements):
    settings.CLARION_SUBSCRIBER_COUNT = "tests.editor.test_publishing.confirmed_subscribers_three"
    c, _ = author
    response = c.post(ADD, post_form(title="Big news", _publish="Publish"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "will email 3 subscribers" in page
    assert 'name="_email_confirmed" value="publish"' in page
    assert "Publish and email 3 subscribers" in page
    assert not Post.objects.filter(title="Big news").exists()
    response = c.post(ADD, post_form(title="Big news", _email_confirmed="publish"))
    assert response.status_code == 302
    post = Post.objects.get(title="Big news")
    assert post.status == Post.Status.PUBLISHED
    assert announcements == [(post.pk, True)]


def test_it_does_not_ask_when_not_emailing(author, settings):
    settings.CLARION_SUBSCRIBER_COUNT = "tests.editor.test_publishing.confirmed_subscribers_three"
    c, _ = author
    response = c.post(ADD, post_form(title="No email", notify_subscribers=None, _publish="1"))
    assert response.status_code == 302
    assert Post.objects.get(title="No email").status == Post.Status.PUBLISHED


def test_the_confirmation_counts_the_newsletters_confirmed_subscribers(author):
    from clarion.newsletter.models import Subscriber

    for i, status in enumerate(["confirmed", "confirmed", "pending", "unsubscribed"]):
        Subscriber.objects.create(email=f"reader{i}@example.org", status=status)
    c, _ = author
    response = c.post(ADD, post_form(title="Counted", _publish="Publish"))
    assert "will email 2 subscribers" in response.content.decode()
    assert not Post.objects.filter(title="Counted").exists()


def test_save_and_preview_opens_the_draft_preview(author):
    c, _ = author
    response = c.post(ADD, post_form(title="Peek", status="published", _preview="1"))
    post = Post.objects.get(title="Peek")
    assert post.status == Post.Status.DRAFT
    assert response["Location"] == post.get_preview_url()
    page = c.get(response["Location"]).content.decode()
    assert "Peek" in page and "Only signed-in staff can see it" in page
