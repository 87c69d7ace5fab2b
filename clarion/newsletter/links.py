"""The signed links Clarion puts in emails: confirm, unsubscribe, manage (clarion.lib.tokens).

Below both the messages that carry them and the services that read them back.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from clarion.lib import tokens

from .models import Subscriber


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def confirm_url(subscriber: Subscriber) -> str:
    token = tokens.make("newsletter.confirm", subscriber.pk, subscriber.confirmation_state())
    return absolute(reverse("newsletter:confirm", args=[token]))


def unsubscribe_url(subscriber_id: int, email: str) -> str:
    token = tokens.make("newsletter.unsubscribe", subscriber_id, email)
    return absolute(reverse("newsletter:unsubscribe", args=[token]))


def manage_url(subscriber_id: int, email: str) -> str:
    token = tokens.make("newsletter.manage", subscriber_id, email)
    return absolute(reverse("newsletter:manage", args=[token]))
