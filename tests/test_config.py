import pytest

from clarion.lib import config


def test_the_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("CLARION_SECRET_KEY", raising=False)
    first = config.secret_key(tmp_path)
    assert len(first) > 40
    assert config.secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_an_explicit_secret_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CLARION_SECRET_KEY", "from-the-environment")
    assert config.secret_key(tmp_path) == "from-the-environment"


def test_settings_can_come_from_files(tmp_path, monkeypatch):
    secret = tmp_path / "db-url"
    secret.write_text("postgres://u@h/db\n")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL_FILE", str(secret))
    assert config.env("DATABASE_URL") == "postgres://u@h/db"


def test_the_default_email_is_a_file_outbox_in_the_data_folder(tmp_path):
    settings = config.email_settings("", tmp_path)
    assert settings["EMAIL_BACKEND"].endswith("filebased.EmailBackend")
    assert settings["EMAIL_FILE_PATH"] == str(tmp_path / "outbox")


def test_smtp_urls_are_understood(tmp_path):
    settings = config.email_settings("smtp://me%40x.org:p%40ss@mail.example:587?tls=1", tmp_path)
    assert settings["EMAIL_HOST"] == "mail.example"
    assert settings["EMAIL_PORT"] == 587
    assert settings["EMAIL_HOST_USER"] == "me@x.org"
    assert settings["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert settings["EMAIL_USE_TLS"] is True
    assert config.email_settings("smtps://h", tmp_path)["EMAIL_USE_SSL"] is True


def test_provider_urls_use_anymail(tmp_path):
    settings = config.email_settings("anymail://postmark?server_token=abc", tmp_path)
    assert settings["EMAIL_BACKEND"] == "anymail.backends.postmark.EmailBackend"
    assert settings["ANYMAIL"] == {"SERVER_TOKEN": "abc"}


@pytest.mark.parametrize("url", ["gopher://x", "anymail://nobody"])
def test_unknown_email_urls_stop_with_a_clear_message(tmp_path, url):
    with pytest.raises(SystemExit, match="CLARION_EMAIL_URL"):
        config.email_settings(url, tmp_path)


def test_cache_urls():
    assert config.cache_settings("")["BACKEND"].endswith("LocMemCache")
    redis = config.cache_settings("redis://127.0.0.1:6379/1")
    assert redis == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    }
    with pytest.raises(SystemExit, match="CLARION_CACHE_URL"):
        config.cache_settings("memcached://x")
