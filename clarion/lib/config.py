"""Reading Clarion's configuration from the environment.

Kept free of Django imports: ``clarion.settings`` uses it before Django is set up.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


def env(name: str, default: str = "") -> str:
    """Return ``name`` from the environment, or from ``NAME_FILE`` (Docker/systemd secrets)."""
    value = os.environ.get(name)
    if value is not None:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return default


def envbool(name: str, default: bool = False) -> bool:
    value = env(name, "1" if default else "0").strip().lower()
    return value in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = env(name, "")
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}: expected a whole number, got {value!r}") from None


def data_dir() -> Path:
    path = Path(env("CLARION_DATA_DIR", "./clarion-data")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_dotenv_file(folder: Path) -> None:
    """Read ``folder/.env``; real environment variables win over the file."""
    from dotenv import load_dotenv

    dotenv = folder / ".env"
    if dotenv.is_file():
        load_dotenv(dotenv, override=False)


def secret_key(folder: Path) -> str:
    """Return CLARION_SECRET_KEY, or a key generated once and kept in the data folder."""
    key = env("CLARION_SECRET_KEY")
    if key:
        return key
    path = folder / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def redact_url(url: str) -> str:
    """``url`` with its password (and every query value, which may hold API keys) hidden,
    for error messages."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = netloc.replace(":" + parts.password + "@", ":***@", 1)
        query = "&".join(f"{k}=***" for k in parse_qs(parts.query, keep_blank_values=True))
        return parts._replace(netloc=netloc, query=query).geturl()
    except ValueError:
        # Not even a URL (an unquoted character, a bad IPv6 address): show only its scheme.
        return url.split(":", 1)[0] + ":…" if ":" in url else "…"


def _port(name: str, url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:
        raise SystemExit(
            f"{name}: the port is not a number 1-65535 in {redact_url(url)!r}"
        ) from None


def database_settings(url: str) -> dict:
    """Translate DATABASE_URL (``postgres://user:pass@host:5432/name``, ``sqlite:///path``)
    into Django's ``DATABASES["default"]``, refusing a URL dj-database-url cannot read."""
    import dj_database_url

    _port("DATABASE_URL", url)
    try:
        database = dj_database_url.parse(url, conn_max_age=600)
    except (ValueError, dj_database_url.ParseError):
        # Its messages list the schemes or repeat the URL, password included.
        scheme = url.split("://", 1)[0] if "://" in url else url[:20]
        known = "postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:///PATH"
        raise SystemExit(
            f"DATABASE_URL: cannot read {redact_url(url)!r} (scheme {scheme!r}): expected {known}"
        ) from None
    if database["ENGINE"] == "django.db.backends.sqlite3" and not database.get("NAME"):
        raise SystemExit("DATABASE_URL: a sqlite URL needs a file path (sqlite:///PATH)")
    return database


def _make_outbox(name: str, path: Path, parents: bool = False) -> None:
    try:
        path.mkdir(parents=parents, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"{name}: cannot create the email outbox {path}: {exc.strerror}") from None


def email_settings(url: str, folder: Path) -> dict:
    """Translate CLARION_EMAIL_URL into Django email settings.

    ``smtp://user:pass@host:587?tls=1``, ``smtps://…`` (implicit TLS), ``console:``,
    ``file:///path`` and ``anymail://ESP?…`` (e.g. ``anymail://postmark?server_token=…``).
    The default is a file outbox in the data folder, so the demo needs no mail server.
    """
    if not url:
        outbox = folder / "outbox"
        _make_outbox("CLARION_DATA_DIR", outbox)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(outbox),
        }
    try:
        parts = urlsplit(url)
    except ValueError:
        raise SystemExit(f"CLARION_EMAIL_URL: not a URL: {redact_url(url)!r}") from None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    scheme = parts.scheme.lower()
    if scheme in {"smtp", "smtps", "submission"}:
        port = _port("CLARION_EMAIL_URL", url)
        timeout = query.get("timeout", "30")
        if not timeout.isdigit() or int(timeout) < 1:
            raise SystemExit(f"CLARION_EMAIL_URL: timeout must be whole seconds, got {timeout!r}")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": port or (465 if scheme == "smtps" else 587 if query else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": query.get("tls", "0") in {"1", "true", "yes"},
            "EMAIL_USE_SSL": scheme == "smtps" or query.get("ssl", "0") in {"1", "true", "yes"},
            "EMAIL_TIMEOUT": int(timeout),
        }
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "file":
        path = Path(unquote(parts.path) or folder / "outbox")
        _make_outbox("CLARION_EMAIL_URL", path, parents=True)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(path),
        }
    if scheme == "anymail":
        esp = (parts.hostname or parts.netloc).lower()
        backend_names = {
            "amazon_ses": "amazon_ses",
            "ses": "amazon_ses",
            "mailgun": "mailgun",
            "postmark": "postmark",
            "sendgrid": "sendgrid",
            "brevo": "brevo",
            "mailjet": "mailjet",
            "resend": "resend",
            "sparkpost": "sparkpost",
            "mandrill": "mandrill",
            "mailersend": "mailersend",
            "postal": "postal",
        }
        if esp not in backend_names:
            raise SystemExit(f"CLARION_EMAIL_URL: unknown anymail provider {esp!r}")
        return {
            "EMAIL_BACKEND": f"anymail.backends.{backend_names[esp]}.EmailBackend",
            "ANYMAIL": {k.upper(): v for k, v in query.items()},
        }
    raise SystemExit(
        f"CLARION_EMAIL_URL: unsupported scheme {scheme!r} in {redact_url(url)!r} "
        "(expected smtp://, smtps://, console:, file:// or anymail://)"
    )


def cache_settings(url: str) -> dict:
    if not url:
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "clarion",
        }
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        raise SystemExit(f"CLARION_CACHE_URL: not a URL: {redact_url(url)!r}") from None
    if scheme in {"redis", "rediss", "unix"}:
        _port("CLARION_CACHE_URL", url)
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme in {"locmem", "memory"}:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise SystemExit(
        f"CLARION_CACHE_URL: unsupported scheme {scheme!r} in {redact_url(url)!r} "
        "(expected redis://, rediss://, unix://, locmem: or dummy:)"
    )


def media_storage(url: str) -> dict:
    """Translate CLARION_MEDIA_STORAGE_URL into a ``STORAGES["default"]`` entry.

    Empty: files under MEDIA_ROOT. ``s3://BUCKET[/PREFIX]?endpoint_url=…&region_name=…&
    custom_domain=…`` stores uploads in any S3-compatible service through django-storages
    (``pip install 'clarion[s3]'``); credentials come from AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, as boto3 reads them.
    """
    if not url:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    parts = urlsplit(url)
    if parts.scheme.lower() != "s3" or not parts.hostname:
        raise SystemExit(
            f"CLARION_MEDIA_STORAGE_URL: expected s3://bucket[/prefix]?…, got {redact_url(url)!r}"
        )
    known = {"endpoint_url", "region_name", "custom_domain", "addressing_style", "querystring_auth"}
    options: dict = {"bucket_name": parts.netloc, "file_overwrite": False}
    if parts.path.strip("/"):
        options["location"] = parts.path.strip("/")
    for key, value in ((k, v[-1]) for k, v in parse_qs(parts.query).items()):
        if key not in known:
            names = ", ".join(sorted(known))
            raise SystemExit(f"CLARION_MEDIA_STORAGE_URL: unknown option {key!r} (known: {names})")
        options[key] = value.lower() in {"1", "true", "yes"} if key == "querystring_auth" else value
    # Public images: plain URLs, no expiring signatures, unless asked for.
    options.setdefault("querystring_auth", False)
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
