import socket
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

from clarion.editor.models import LoginFailure

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def sign_in(client, username, password, address="203.0.113.7"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def signed_in_ok(response):
    return response.status_code == 302 and response["Location"] == "/admin/"


@pytest.fixture
def ada(make_user):
    return make_user("ada", "Author")


def test_it_throttles_an_account_after_repeated_failures_from_one_address(client, ada, settings):
    settings.CLARION_LOGIN_FAILURES_PER_ACCOUNT = 5
    for _ in range(5):
        response = sign_in(client, "ada", "wrong")
        assert "Please enter the correct username and password" in response.content.decode()
    response = sign_in(client, "ADA", PASSWORD)  # right password, same account, any case
    assert response.status_code == 200
    assert "Too many failed sign-in attempts. Try again in 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Once the failures leave the window, the right password works.
    LoginFailure.objects.update(
        created_at=LoginFailure.objects.first().created_at - timedelta(minutes=16)
    )
    assert signed_in_ok(sign_in(client, "ada", PASSWORD))


def test_it_throttles_an_address_trying_many_accounts(client, ada, settings):
    settings.CLARION_LOGIN_FAILURES_PER_ADDRESS = 20
    for n in range(20):
        sign_in(client, f"guess{n}", "wrong")
    response = sign_in(client, "ada", PASSWORD)
    assert "Too many failed sign-in attempts from your address" in response.content.decode()
    assert "reset your password" not in response.content.decode()  # a reset would not help
    assert signed_in_ok(sign_in(client, "ada", PASSWORD, address="198.51.100.1"))


def test_a_stranger_cannot_lock_the_real_user_out_from_another_address(client, ada, settings):
    settings.CLARION_LOGIN_FAILURES_PER_ACCOUNT = 5
    for _ in range(12):
        sign_in(client, "ada", "wrong", address="198.51.100.66")
    stranger = sign_in(client, "ada", PASSWORD, address="198.51.100.66")
    assert "Too many failed sign-in attempts" in stranger.content.decode()
    assert signed_in_ok(sign_in(client, "ada", PASSWORD, address="203.0.113.7"))


def test_a_successful_sign_in_clears_the_failures(client, ada, settings):
    settings.CLARION_LOGIN_FAILURES_PER_ACCOUNT = 5
    for _ in range(4):
        sign_in(client, "ada", "wrong")
    assert LoginFailure.objects.filter(username="ada").count() == 4
    assert signed_in_ok(sign_in(client, "ada", PASSWORD))
    assert LoginFailure.objects.count() == 0
    client.logout()
    for _ in range(4):
        sign_in(client, "ada", "wrong")
    assert signed_in_ok(sign_in(client, "ada", PASSWORD))


def test_it_uses_the_proxy_header_only_when_configured(ada, settings, rf):
    from clarion.editor.throttle import client_address

    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.5")
    assert client_address(request) == "127.0.0.1"
    settings.CLARION_PROXY_COUNT = 1
    assert client_address(request) == "192.0.2.5"


def test_passwords_are_hashed_with_argon2_in_production():
    from clarion import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth.hashers import Argon2PasswordHasher

    assert Argon2PasswordHasher().encode("x", Argon2PasswordHasher().salt()).startswith("argon2$")


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; Django sends to it over SMTP."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield sink
    controller.stop()


def test_the_sign_in_page_offers_a_password_reset(client):
    page = client.get(LOGIN).content.decode()
    assert 'href="/admin/password_reset/"' in page


def test_a_forgotten_password_is_reset_by_email(client, ada, smtp, settings):
    import re

    response = client.post("/admin/password_reset/", {"email": "ada@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/password_reset/done/"
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message.rcpt_tos == ["ada@example.org"]
    text = message.content.decode()
    link = re.search(rf"{settings.SITE_URL}(/admin/reset/\S+/)", text).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new = "another long pass phrase 42"
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/reset/done/"
    assert get_user_model().objects.get(username="ada").check_password(new)


def test_a_reset_for_an_unknown_address_looks_the_same(client, smtp):
    response = client.post("/admin/password_reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/password_reset/done/"
    assert smtp.messages == []


def test_a_password_reset_lifts_the_lock_as_the_message_says(client, ada, smtp, settings):
    import re

    settings.CLARION_LOGIN_FAILURES_PER_ACCOUNT = 5
    for _ in range(5):
        sign_in(client, "ada", "wrong")
    locked = sign_in(client, "ada", PASSWORD).content.decode()
    assert "Try again in 15 minutes, or reset your password" in locked
    client.post("/admin/password_reset/", {"email": "ada@example.org"})
    link = re.search(rf"{settings.SITE_URL}(/admin/reset/\S+/)", smtp.messages[0].content.decode())[
        1
    ]
    form_page = client.get(link, follow=True)
    new = "another long pass phrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done["Location"] == "/admin/reset/done/"
    assert LoginFailure.objects.filter(username="ada").count() == 0
    assert signed_in_ok(sign_in(client, "ada", new))


def test_a_failed_password_reset_keeps_the_lock(client, ada, smtp, settings):
    import re

    settings.CLARION_LOGIN_FAILURES_PER_ACCOUNT = 5
    for _ in range(5):
        sign_in(client, "ada", "wrong")
    client.post("/admin/password_reset/", {"email": "ada@example.org"})
    link = re.search(rf"{settings.SITE_URL}(/admin/reset/\S+/)", smtp.messages[0].content.decode())[
        1
    ]
    form_page = client.get(link, follow=True)
    mismatch = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "a long one 1", "new_password2": "x"}
    )
    assert mismatch.status_code == 200
    assert LoginFailure.objects.filter(username="ada").count() == 5
    assert not signed_in_ok(sign_in(client, "ada", PASSWORD))
