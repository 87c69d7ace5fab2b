"""Guessing unsubscribe tokens is throttled per address; real one-click unsubscribes never
are, however many arrive from one mail provider's server."""

from django.test import override_settings

from clarion.newsletter import links
from clarion.newsletter.models import Subscriber

PROVIDER = "192.0.2.25"


@override_settings(CLARION_THROTTLE_RATES={"unsubscribe": "3/10m"})
def test_wrong_tokens_are_throttled_but_real_unsubscribes_are_not(client, db):
    answers = [
        client.post(f"/unsubscribe/not-a-token-{i}/", REMOTE_ADDR=PROVIDER).status_code
        for i in range(5)
    ]
    assert answers == [404, 404, 404, 429, 429]
    for i in range(5):
        reader = Subscriber.objects.create(email=f"r{i}@example.org", status="confirmed")
        url = links.unsubscribe_url(reader.pk, reader.email)
        path = "/" + url.split("/", 3)[3]
        response = client.post(path, {"List-Unsubscribe": "One-Click"}, REMOTE_ADDR=PROVIDER)
        assert response.status_code == 200
        reader.refresh_from_db()
        assert reader.status == Subscriber.Status.UNSUBSCRIBED
