from django.test import override_settings


@override_settings(CLARION_THROTTLE_RATES={"suggest": "3/m"})
def test_suggestions_are_throttled_per_address(client, demo_site):
    answers = [
        client.get("/search/suggest/", {"q": "Shen"}, REMOTE_ADDR="203.0.113.7").status_code
        for _ in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]
    other = client.get("/search/suggest/", {"q": "Shen"}, REMOTE_ADDR="203.0.113.8")
    assert other.status_code == 200
    assert other.json()
