"""A reader subscribes from the sidebar, confirms and unsubscribes, in a real Chromium."""

import pytest

from clarion.newsletter.models import Subscriber

from .conftest import link
from .smtpsink import parts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_subscribes_confirms_and_unsubscribes(browser, live_server, smtp, site, settings):
    settings.SITE_URL = live_server.url
    page = browser.new_page()
    page.goto(live_server.url + "/")
    page.fill("#subscribe-email", "reader@example.org")
    page.click(".subscribe-form button[type=submit]")
    page.wait_for_selector("text=Check your inbox")

    [message] = smtp.wait_for(1)
    text, _ = parts(message)
    page.goto(live_server.url + link(text, "/subscribe/confirm/"))
    page.wait_for_selector("text=You are subscribed")
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED

    # The manage link from the confirmation page: choose nothing, save (CSRF token from
    # the page), then unsubscribe with the one button.
    page.click("text=Choose which categories you get")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved.")
    page.click("text=Unsubscribe from all emails")
    page.wait_for_selector("button:has-text('Unsubscribe')")
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED  # GET did nothing
    page.click("button:has-text('Unsubscribe')")
    page.wait_for_selector("text=You are unsubscribed")
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    page.close()
