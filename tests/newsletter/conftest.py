import logging
import re

import pytest

from .smtpsink import SMTPSink

# aiosmtpd logs every SMTP command at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@pytest.fixture
def smtp(settings):
    """A real SMTP server; Django's SMTP backend sends to it for the test's duration."""
    with SMTPSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 10
        yield sink


@pytest.fixture
def reader():
    """A browser-like client: CSRF checks on, as in production."""
    from django.test import Client

    return Client(enforce_csrf_checks=True, HTTP_USER_AGENT="Mozilla/5.0 (test reader)")


@pytest.fixture
def subscribe(reader, django_capture_on_commit_callbacks):
    """Post the subscribe form as a reader would (with its CSRF token), running what the
    request queued on commit."""

    def post(email, *, categories=(), form="page", page="/", client=reader, **extra):
        response = client.get("/subscribe/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
        data = {"email": email, "form": form, "page": page, "csrfmiddlewaretoken": token}
        if categories:
            data["categories"] = [c.pk for c in categories]
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/subscribe/", data, **extra)

    return post


def link(text: str, path: str) -> str:
    """The first absolute link in ``text`` whose path starts with ``path``."""
    found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s\"<>]*)", text)
    assert found, f"no {path} link in {text!r}"
    return found.group(1)
