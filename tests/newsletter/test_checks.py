from clarion.newsletter.checks import check_site_url


def test_it_warns_when_the_site_is_not_https(settings):
    settings.SITE_URL = "http://news.example.org"
    [warning] = check_site_url()
    assert warning.id == "clarion.newsletter.W001"


def test_it_accepts_https_and_local_addresses(settings):
    settings.SITE_URL = "https://news.example.org"
    assert check_site_url() == []
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert check_site_url() == []
