"""Templated email: every message Clarion sends is built here.

``make_message(name, to, ctx)`` renders ``emails/<name>-subject.txt``, ``-body.txt`` and
``-body.html`` into one multipart message whose Message-ID is on the site's domain (Python's
default, the host name, is ``localhost`` on most servers and marks mail as suspicious).
"""

from __future__ import annotations

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def render_parts(name: str, ctx: dict) -> tuple[str, str, str]:
    subject = render_to_string(f"emails/{name}-subject.txt", ctx)
    subject = " ".join(subject.split())  # headers must not contain line breaks
    text = render_to_string(f"emails/{name}-body.txt", ctx)
    html = render_to_string(f"emails/{name}-body.html", ctx)
    return subject, text, html


def build(
    *,
    subject: str,
    text: str,
    html: str,
    to: str,
    from_email: str | None = None,
    headers: dict | None = None,
    message_id: str | None = None,
    reply_to: str | None = None,
) -> EmailMultiAlternatives:
    headers = dict(headers or {})
    headers["Message-ID"] = message_id or make_msgid(domain=settings.SITE_DOMAIN)
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


def make_message(name: str, to: str, ctx: dict, **kwargs) -> EmailMultiAlternatives:
    subject, text, html = render_parts(name, ctx)
    return build(subject=subject, text=text, html=html, to=to, **kwargs)


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
