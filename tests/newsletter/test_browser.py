"""A reader subscribes from the sidebar, confirms with the button and unsubscribes, in a
real Chromium."""

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
    confirm_url = live_server.url + link(text, "/subscribe/confirm/")
    page.goto(confirm_url)
    page.wait_for_selector("button:has-text('Confirm my subscription')")
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING  # GET did nothing
    page.click("button:has-text('Confirm my subscription')")
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

    # The old confirmation link, pressed again after leaving, does not subscribe them.
    page.goto(confirm_url)
    page.wait_for_selector("text=This link does not work")
    assert page.locator("button:has-text('Confirm my subscription')").count() == 0
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    page.close()
