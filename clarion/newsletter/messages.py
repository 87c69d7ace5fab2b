"""Every email Clarion sends is built here: one small function per kind, one ``make_message``.

A kind is three templates, ``emails/<kind>-subject.txt``, ``-body.txt`` and ``-body.html``;
every body ends with the one footer (``emails/footer.txt`` and ``emails/footer.html``). A
message has both parts, a Message-ID on the site's own domain (the host of CLARION_SITE_URL:
Python's default, the machine's host name, is ``localhost`` on most servers and marks mail as
suspicious) and, when it is list mail (a newsletter issue), the List-* headers of RFC 2369,
2919 and 8058 with a one-click unsubscribe. The other kinds go to one person who asked for
them (a confirmation's address is not on the list yet) and carry none.

A newsletter issue sends one body to many people, differing only in a few links. Its
templates are rendered once per issue with placeholders for those links (``render_issue``);
over SMTP each email is a substitution into a MIME skeleton encoded once (``Skeleton``),
because Django's EmailMessage costs about 1.5 ms per message here, more than the SMTP
exchange itself. Other backends (anymail, the file outbox) get the same parts and headers as
an ``EmailMultiAlternatives`` from ``build``. The tests parse what an SMTP server receives.
"""

from __future__ import annotations

import binascii
import re
import secrets
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, make_msgid
from django.template.loader import render_to_string
from django.urls import reverse
from markdownify import ATX, MarkdownConverter

from clarion.posts.models import SiteSettings

from . import links
from .models import Issue, NewsletterSettings, Subscriber

# Placeholders rendered into an issue's stored bodies, replaced per subscriber: rendering
# the templates once per issue instead of once per email is what makes 100,000 cheap.
UNSUBSCRIBE = "CLARION-UNSUBSCRIBE-URL"
MANAGE = "CLARION-MANAGE-URL"


# The one builder ------------------------------------------------------------------------


def render(kind: str, ctx: dict) -> tuple[str, str, str]:
    """(subject, text, html) of one kind of email; every kind knows the site."""
    ctx = {"site": SiteSettings.load(), "site_url": settings.SITE_URL, **ctx}
    subject = render_to_string(f"emails/{kind}-subject.txt", ctx)
    subject = " ".join(subject.split())  # headers must not contain line breaks
    text = render_to_string(f"emails/{kind}-body.txt", ctx)
    html = render_to_string(f"emails/{kind}-body.html", ctx)
    return subject, text, html


def new_message_id() -> str:
    """A fresh Message-ID on the site's domain, whatever the machine's host name."""
    return make_msgid(domain=settings.SITE_DOMAIN)


def list_headers(*, unsubscribe_url: str, list_name: str) -> dict:
    """Headers every newsletter email carries (RFC 2369, RFC 2919, RFC 8058)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        # One-click: a mail client POSTs List-Unsubscribe=One-Click to the URL above.
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f'"{list_name.replace(chr(34), "")}" <newsletter.{settings.SITE_DOMAIN}>',
        "Precedence": "bulk",
        "Auto-Submitted": "auto-generated",
    }


def build(
    *,
    subject: str,
    text: str,
    html: str,
    to: str,
    from_email: str | None = None,
    reply_to: str | None = None,
    message_id: str | None = None,
    headers: dict | None = None,
) -> EmailMultiAlternatives:
    headers = dict(headers or {})
    headers["Message-ID"] = message_id or new_message_id()
    message = EmailMultiAlternatives(
        subject,
        text,
        from_email or settings.DEFAULT_FROM_EMAIL,
        [to],
        headers=headers,
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(html, "text/html")
    return message


def make_message(
    kind: str, to: str, ctx: dict, *, from_email: str | None = None, reply_to: str | None = None
) -> EmailMultiAlternatives:
    """One email of ``kind`` to one person who asked for it: not list mail, so no List-*
    headers (an issue's emails get theirs from ``IssueMessages``)."""
    subject, text, html = render(kind, ctx)
    return build(
        subject=subject, text=text, html=html, to=to, from_email=from_email, reply_to=reply_to
    )


def _from_newsletter() -> dict:
    newsletter = NewsletterSettings.load()
    return {"from_email": newsletter.sender(), "reply_to": newsletter.reply_to or None}


# The kinds ------------------------------------------------------------------------------


def confirmation(subscriber: Subscriber) -> EmailMultiAlternatives:
    """Double opt-in: the link that makes a pending subscription active."""
    ctx = {
        "subscriber": subscriber,
        "confirm_url": links.confirm_url(subscriber),
        "manage_url": links.manage_url(subscriber.pk, subscriber.email),
        "valid_days": NewsletterSettings.load().confirmation_valid_days,
    }
    return make_message("confirm-subscription", subscriber.email, ctx, **_from_newsletter())


def already_subscribed(subscriber: Subscriber) -> EmailMultiAlternatives:
    """The answer to a subscribe request for an address that is already subscribed."""
    ctx = {
        "subscriber": subscriber,
        "manage_url": links.manage_url(subscriber.pk, subscriber.email),
    }
    return make_message("already-subscribed", subscriber.email, ctx, **_from_newsletter())


def password_reset(to: str, ctx: dict) -> EmailMultiAlternatives:
    """The admin's "forgotten your password" link; ``ctx`` is Django's PasswordResetForm's.
    The link is on CLARION_SITE_URL, like every link in every email: Django's ``domain``
    and ``protocol`` come from the request's Host header, which any port passes
    (``Host: localhost:6666``), so a forged request could send a link elsewhere."""
    path = reverse("password_reset_confirm", kwargs={"uidb64": ctx["uid"], "token": ctx["token"]})
    return make_message("password-reset", to, {**ctx, "reset_url": links.absolute(path)})


def render_issue(issue: Issue) -> None:
    """Store the issue's subject and bodies (with placeholders), rendered once, so every
    subscriber and every retry gets the same email even if the post is edited later."""
    post = issue.post
    full = NewsletterSettings.load().content == NewsletterSettings.Content.FULL
    ctx = {
        "post": post,
        "post_url": links.absolute(post.get_absolute_url()),
        "full": full,
        "body_html": absolute_links(post.body_html),
        "body_text": text_version(absolute_links(post.body_html)),
        "summary": post.summary,
        "unsubscribe_url": UNSUBSCRIBE,
        "manage_url": MANAGE,
    }
    issue.subject, issue.body_text, issue.body_html = render("new-post", ctx)


class _TextConverter(MarkdownConverter):
    """HTML to the text part of an email: Markdown is what plain-text mail has long used for
    structure (headings, lists, quotes, *emphasis*), and every link keeps its address."""

    def convert_a(self, el, text, parent_tags):
        # Heading permalinks and footnote references point into the web page itself.
        if (el.get("href") or "").startswith("#"):
            own = {"header-anchor", "footnote-backref"} & set(el.get("class") or [])
            return "" if own else text
        return super().convert_a(el, text, parent_tags)

    def convert_img(self, el, text, parent_tags):
        alt = el.get("alt") or ""
        return f"[{alt}]" if alt else ""


_TEXT = _TextConverter(
    heading_style=ATX,
    bullets="*-+",
    escape_asterisks=False,
    escape_underscores=False,
    escape_misc=False,
)
_BLANK_LINES = re.compile(r"\n{3,}")


def text_version(html: str) -> str:
    """The plain-text version of an email's HTML: paragraphs apart, headings and lists kept,
    each link's URL written out (markdownify, the importer's library, rather than
    hand-made regular expressions, which ran paragraphs together and lost the links)."""
    return _BLANK_LINES.sub("\n\n", _TEXT.convert(html)).strip() + "\n"


_RELATIVE = re.compile(r'(\s(?:href|src))="/(?!/)')


def absolute_links(html: str) -> str:
    """Email clients resolve no relative links: make a post's own links absolute."""
    return _RELATIVE.sub(rf'\1="{settings.SITE_URL}/', html)


class IssueMessages:
    """The email of one issue (``render_issue``) for each subscriber: the same parts, with
    the subscriber's own links and List-* headers, and a Message-ID stable across retries.
    ``raw()`` is the SMTP fast path; ``message()`` the same email for other backends."""

    def __init__(self, issue: Issue, *, eight_bit: bool = False):
        self.issue = issue
        self.eight_bit = eight_bit
        newsletter = NewsletterSettings.load()
        self.sender = newsletter.sender()
        self.reply_to = newsletter.reply_to or None
        self.list_name = SiteSettings.load().title
        self.skeleton = Skeleton(
            subject=issue.subject,
            text=issue.body_text,
            html=issue.body_html,
            from_email=self.sender,
            reply_to=self.reply_to,
        )
        self.envelope_from = self.skeleton.envelope_from

    def links(self, subscriber_id: int, email: str) -> tuple[dict[str, str], dict[str, str]]:
        unsubscribe = links.unsubscribe_url(subscriber_id, email)
        manage = links.manage_url(subscriber_id, email)
        headers = list_headers(unsubscribe_url=unsubscribe, list_name=self.list_name)
        return {UNSUBSCRIBE: unsubscribe, MANAGE: manage}, headers

    def raw(self, subscriber_id: int, email: str) -> bytes:
        substitutions, headers = self.links(subscriber_id, email)
        return self.skeleton.render(
            to=email,
            message_id=self.issue.message_id(subscriber_id),
            substitutions=substitutions,
            headers=headers,
            eight_bit=self.eight_bit,
        )

    def message(self, subscriber_id: int, email: str) -> EmailMultiAlternatives:
        substitutions, headers = self.links(subscriber_id, email)
        text, html = self.issue.body_text, self.issue.body_html
        for placeholder, value in substitutions.items():
            text = text.replace(placeholder, value)
            html = html.replace(placeholder, value)
        return build(
            subject=self.issue.subject,
            text=text,
            html=html,
            to=email,
            from_email=self.sender,
            reply_to=self.reply_to,
            message_id=self.issue.message_id(subscriber_id),
            headers=headers,
        )


# The fast path's MIME --------------------------------------------------------------------


def _header_value(value: str) -> str:
    if value.isascii() and len(value) < 900 and "\n" not in value:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _address(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8")


def _encode(text: str, eight_bit: bool) -> tuple[bytes, bytes]:
    """(Content-Transfer-Encoding, body). 8bit, like Django, when the server takes it and no
    line is longer than SMTP allows (RFC 5322 §2.1.1); quoted-printable otherwise. 8bit also
    keeps the line count low, and SMTP servers do their work per line."""
    body = text.replace("\r\n", "\n").encode("utf-8")
    if (eight_bit or body.isascii()) and max(map(len, body.split(b"\n"))) <= 998:
        return b"8bit" if not body.isascii() else b"7bit", body.replace(b"\n", b"\r\n")
    return b"quoted-printable", binascii.b2a_qp(body, istext=True).replace(b"\n", b"\r\n")


class Skeleton:
    """A multipart/alternative message with placeholders, rendered for one recipient by
    ``render(to=…, message_id=…, substitutions={placeholder: value}, headers={…})``. The
    output is ordinary MIME, as ``build`` would make it, at a fraction of the cost."""

    def __init__(
        self,
        *,
        subject: str,
        text: str,
        html: str,
        from_email: str,
        reply_to: str | None = None,
    ):
        self.envelope_from = parseaddr(from_email)[1]
        self.text = text
        self.html = html
        boundary = "===============" + secrets.token_hex(16) + "=="
        self.boundary = boundary.encode()
        head = [
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "MIME-Version: 1.0",
            f"Subject: {_header_value(subject)}",
            f"From: {_address(from_email)}",
        ]
        if reply_to:
            head.append(f"Reply-To: {_address(reply_to)}")
        self.head = ("\r\n".join(head) + "\r\n").encode()

    def render(
        self,
        *,
        to: str,
        message_id: str,
        substitutions: dict[str, str],
        headers: dict[str, str],
        eight_bit: bool = True,
    ) -> bytes:
        text, html = self.text, self.html
        for placeholder, value in substitutions.items():
            text = text.replace(placeholder, value)
            html = html.replace(placeholder, value)
        lines = [f"To: {to}", f"Date: {formatdate()}", f"Message-ID: {message_id}"]
        lines += [f"{name}: {_header_value(value)}" for name, value in headers.items()]
        b = self.boundary
        text_encoding, text_body = _encode(text, eight_bit)
        html_encoding, html_body = _encode(html, eight_bit)
        return b"".join(
            [
                self.head,
                ("\r\n".join(lines) + "\r\n\r\n").encode(),
                b"--" + b + b"\r\n",
                b'Content-Type: text/plain; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: " + text_encoding + b"\r\n\r\n",
                text_body,
                b"\r\n--" + b + b"\r\n",
                b'Content-Type: text/html; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: " + html_encoding + b"\r\n\r\n",
                html_body,
                b"\r\n--" + b + b"--\r\n",
            ]
        )
