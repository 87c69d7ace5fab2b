"""Every kind of email comes from one builder (clarion.newsletter.messages): both parts, the
one footer, list headers on list mail only, a Message-ID on the site's domain. Each kind is
sent as the site sends it, to a real SMTP server, and parsed as a mail client would."""

import email
import email.policy
import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from clarion.newsletter import messages
from clarion.newsletter.models import Issue, Subscriber

from .smtpsink import parts

pytestmark = pytest.mark.django_db

TEMPLATES = Path(messages.__file__).parent.parent / "theme" / "templates" / "emails"
KINDS = ["confirm-subscription", "already-subscribed", "new-post", "password-reset"]


def unix(texts) -> tuple[str, ...]:
    return tuple(text.replace("\r\n", "\n") for text in texts)


@pytest.fixture
def send_every_kind(smtp, subscribe, make_post, django_capture_on_commit_callbacks, client):
    """Sends one email of each kind through the site's own paths; returns them by kind."""

    def send():
        subscribe("new@example.org")
        Subscriber.objects.create(
            email="old@example.org",
            status=Subscriber.Status.CONFIRMED,
            confirmed_at=timezone.now() - timedelta(days=1),
        )
        subscribe("old@example.org")
        with django_capture_on_commit_callbacks(execute=True):
            make_post("A new letter", body="Dear Foreign Secretary,\n\nWords.")
        get_user_model().objects.create_user("ada", "ada@example.org", "a long pass phrase 42")
        assert client.post("/admin/password_reset/", {"email": "ada@example.org"}).status_code
        sent = smtp.wait_for(4)
        by_kind = {
            "confirm-subscription": [m for m in sent if m["To"] == "new@example.org"],
            "already-subscribed": [m for m in sent if m["Subject"].startswith("Your subscr")],
            "new-post": [m for m in sent if m["Subject"] == "A new letter"],
            "password-reset": [m for m in sent if m["To"] == "ada@example.org"],
        }
        assert {kind: len(found) for kind, found in by_kind.items()} == dict.fromkeys(KINDS, 1)
        return {kind: found[0] for kind, found in by_kind.items()}

    return send


def test_every_kind_has_a_text_and_an_html_part_and_the_one_footer(send_every_kind, site):
    for kind, message in send_every_kind().items():
        assert message.get_content_type() == "multipart/alternative", kind
        text, html = unix(parts(message))
        body, _, footer = text.rpartition("\n--\n")
        assert body.strip() and footer.strip(), kind
        assert text.count("\n--\n") == 1, kind
        assert html.count('class="footer"') == 1, kind
        assert site.title in footer and "http://127.0.0.1:8000" in footer, kind


def test_every_body_template_includes_the_footer_template():
    bodies = sorted(TEMPLATES.glob("*-body.*"))
    assert {p.name.removesuffix("-body.txt").removesuffix("-body.html") for p in bodies} == set(
        KINDS
    )
    for path in bodies:
        suffix = path.suffix
        assert f'{{% include "emails/footer{suffix}" %}}' in path.read_text(), path.name


def test_list_mail_carries_one_click_unsubscribe_and_one_to_one_mail_does_not(send_every_kind):
    sent = send_every_kind()
    newsletter = sent.pop("new-post")
    assert newsletter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(newsletter["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith("<http://127.0.0.1:8000/unsubscribe/")
    assert unsubscribe.strip("<>") in parts(newsletter)[0]  # the footer's link is the same
    assert newsletter["Precedence"] == "bulk"
    for kind, message in sent.items():
        assert message["List-Unsubscribe"] is None, kind
        assert message["List-Unsubscribe-Post"] is None, kind
        assert message["Precedence"] is None, kind


def test_message_ids_are_on_the_site_domain_not_the_machine_host_name(send_every_kind, settings):
    settings.SITE_URL, settings.SITE_DOMAIN = "https://news.example.org", "news.example.org"
    assert socket.getfqdn() != "news.example.org"  # so the default would differ
    for kind, message in send_every_kind().items():
        assert message["Message-ID"].endswith("@news.example.org>"), kind
    assert messages.new_message_id().endswith("@news.example.org>")


def test_the_smtp_fast_path_and_other_backends_get_the_same_email(site, make_post, settings):
    """The bulk sender's raw MIME (rendered once per issue) and the EmailMessage that other
    backends get are one email: the same headers and the same parts."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    subscriber = Subscriber.objects.create(
        email="one@example.org",
        status=Subscriber.Status.CONFIRMED,
        confirmed_at=timezone.now() - timedelta(days=1),
    )
    issue = Issue.objects.get(post=make_post("Lettre à l’ambassadeur", body="Ünïcödé."))
    messages.render_issue(issue)
    built = messages.IssueMessages(issue, eight_bit=True)
    raw = email.message_from_bytes(
        built.raw(subscriber.pk, subscriber.email), policy=email.policy.default
    )
    django = email.message_from_bytes(
        built.message(subscriber.pk, subscriber.email).message().as_bytes(),
        policy=email.policy.default,
    )
    for header in [
        "Subject",
        "From",
        "To",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "List-Id",
        "Precedence",
        "Auto-Submitted",
    ]:
        assert str(raw[header]).strip() == str(django[header]).strip(), header
    assert raw["Message-ID"] == issue.message_id(subscriber.pk)
    assert unix(parts(raw)) == unix(parts(django))  # SMTP's line ends are CRLF
    assert "CLARION-" not in "".join(parts(raw))  # every placeholder was filled


_URL = re.compile(r"https?://[^\s\"'<>)]+")


def test_a_password_reset_link_is_on_the_site_url_whatever_the_host_header(smtp, client, settings):
    settings.SITE_URL = "https://news.example.org"
    get_user_model().objects.create_user("ada", "ada@example.org", "a long pass phrase 42")
    # localhost is allowed (ALLOWED_HOSTS), and Django accepts any port with it.
    response = client.post(
        "/admin/password_reset/", {"email": "ada@example.org"}, HTTP_HOST="localhost:6666"
    )
    assert response.status_code == 302
    (message,) = smtp.wait_for(1)
    text, html = parts(message)
    links = _URL.findall(text) + _URL.findall(html)
    assert any("/admin/reset/" in link for link in _URL.findall(text))
    assert any("/admin/reset/" in link for link in _URL.findall(html))
    for link in links:
        assert (link + "/").startswith("https://news.example.org/"), link
    assert "6666" not in text + html and "localhost" not in text + html


def test_the_text_part_of_a_new_post_email_is_a_faithful_text_version(
    smtp, subscribe, make_post, django_capture_on_commit_callbacks, settings
):
    Subscriber.objects.create(
        email="old@example.org",
        status=Subscriber.Status.CONFIRMED,
        confirmed_at=timezone.now() - timedelta(days=1),
    )
    body = (
        "Dear Foreign Secretary,\n\n"
        "We write about [the treaty](https://treaty.example/text) and "
        "[our letter](/letters/one/).\n\n"
        "## What we ask\n\n"
        "- Sign it\n- Ratify it\n\n"
        "1. First\n2. Second\n\n"
        "> Quoted with *emphasis*.\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        make_post("A new letter", body=body)
    (message,) = [m for m in smtp.wait_for(1) if m["Subject"] == "A new letter"]
    text, _ = parts(message)
    text = text.replace("\r\n", "\n")
    assert "Dear Foreign Secretary,\n\nWe write about" in text  # paragraphs apart
    assert "[the treaty](https://treaty.example/text)" in text
    assert f"[our letter]({settings.SITE_URL}/letters/one/)" in text  # absolute, written out
    assert "\n## What we ask\n" in text
    assert "\n* Sign it\n* Ratify it\n" in text
    assert "\n1. First\n2. Second\n" in text
    assert "\n> Quoted with *emphasis*.\n" in text
    assert "header-anchor" not in text and "](#" not in text


def test_every_link_of_every_kind_is_written_out_in_its_text_part(send_every_kind):
    for kind, message in send_every_kind().items():
        text, html = parts(message)
        hrefs = set(re.findall(r'href="(https?://[^"]+)"', html))
        assert hrefs, kind
        for href in hrefs:
            assert href.replace("&amp;", "&") in text, (kind, href)
