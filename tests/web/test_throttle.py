import pytest
from django.core.cache import cache
from django.test import override_settings

from clarion.web.models import ThrottleCounter
from clarion.web.throttle import Rate, Throttle, client_address, client_key, forget_old_windows

pytestmark = pytest.mark.urls("tests.web.urls")


def post(client, address, **extra):
    return client.post("/subscribe-test/", {"email": "x"}, REMOTE_ADDR=address, **extra)


def test_it_parses_rates():
    assert Rate.parse("5/10m") == Rate(5, 600)
    assert Rate.parse("120/m") == Rate(120, 60)
    assert Rate.parse(" 3 / 2h ") == Rate(3, 7200)
    for bad in ("5", "five/m", "5/10y", "5/2d"):
        with pytest.raises(ValueError):
            Rate.parse(bad)


def test_it_keys_clients_by_a_keyed_hash_and_ipv6_hosts_by_their_64(settings):
    key = client_key("203.0.113.9")
    assert "203.0.113.9" not in key and len(key) == 40
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:203.0.113.9") == key
    settings.SECRET_KEY = "another-secret-" + "y" * 40
    assert client_key("203.0.113.9") != key


def test_it_trusts_forwarded_addresses_only_from_configured_proxies(rf, settings):
    request = rf.post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7")
    assert client_address(request) == "10.0.0.2"
    settings.CLARION_PROXY_COUNT = 1
    assert client_address(request) == "198.51.100.7"


def test_it_refuses_a_flood_politely_while_others_get_through(client, db, settings):
    settings.CLARION_THROTTLE_RATES = {**settings.CLARION_THROTTLE_RATES, "subscribe": "10/10m"}
    # 1,000 here to keep the suite fast; bench/load.py sends the full 5,000 to a live server.
    flood = [post(client, "203.0.113.66") for _ in range(1000)]
    statuses = [r.status_code for r in flood]
    assert statuses[:10] == [200] * 10
    assert set(statuses[10:]) == {429}
    refused = flood[-1]
    assert "Please wait a moment" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 600
    # Other readers, interleaved or after, are unaffected; GET is never throttled.
    assert post(client, "198.51.100.1").status_code == 200
    assert post(client, "2001:db8::1").status_code == 200
    assert client.get("/subscribe-test/", REMOTE_ADDR="203.0.113.66").status_code == 200
    assert ThrottleCounter.objects.get(hits=1000).scope == "subscribe"


def test_it_counts_in_fixed_windows(db):
    throttle = Throttle("suggest", "2/m")
    key = client_key("192.0.2.1")
    start = 1_700_000_040.0  # a window boundary
    assert [throttle.hit(key, now=start + i).allowed for i in range(3)] == [True, True, False]
    assert throttle.hit(key, now=start + 60).allowed is True
    assert throttle.hit(key, now=start + 59).retry_after == 1


def test_it_forgets_windows_older_than_a_day(db):
    throttle = Throttle("subscribe", "1/m")
    throttle.hit("old", now=1_000_000_000.0)
    throttle.hit("new")
    assert forget_old_windows() == 1
    assert list(ThrottleCounter.objects.values_list("client", flat=True)) == ["new"]


REDIS = {"BACKEND": "django.core.cache.backends.redis.RedisCache"}


def redis_cache():
    import redis

    from tests.conftest import IN_CI

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/8").ping()
    except redis.RedisError as exc:
        if IN_CI:
            raise
        pytest.skip(f"Redis not available: {exc}")
    return {"default": {**REDIS, "LOCATION": "redis://127.0.0.1:6379/8"}}


def test_it_shares_counts_through_redis_without_touching_the_database(client, db):
    with override_settings(CACHES=redis_cache()):
        cache.clear()
        statuses = [post(client, "203.0.113.77").status_code for _ in range(12)]
        assert statuses == [200] * 10 + [429] * 2
        # A second "process" (a fresh client of the same Redis) sees the same count.
        import redis

        keys = redis.Redis.from_url("redis://127.0.0.1:6379/8").keys("*clarion:throttle:*")
        assert len(keys) == 1
        cache.clear()
    assert not ThrottleCounter.objects.exists()
