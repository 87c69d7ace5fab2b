"""Clarion's one settings module, read from the environment (see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from clarion.lib import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()
config.load_dotenv_file(DATA_DIR)

SECRET_KEY = config.secret_key(DATA_DIR)
DEBUG = config.envbool("CLARION_DEBUG", False)

SITE_URL = config.env("CLARION_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise SystemExit(f"CLARION_SITE_URL: expected http(s)://host[:port], got {SITE_URL!r}")
SITE_DOMAIN = _site.hostname

ALLOWED_HOSTS = [SITE_DOMAIN, "127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS += [h.strip() for h in config.env("CLARION_ALLOWED_HOSTS").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

INSTALLED_APPS = [
    "clarion.theme",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "clarion.posts",
    "clarion.editor",
    "clarion.newsletter",
    "clarion.search",
    "clarion.importers",
    "clarion.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clarion.posts.middleware.SiteLocaleMiddleware",
    "clarion.posts.middleware.RedirectFallbackMiddleware",
]

ROOT_URLCONF = "clarion.urls"
WSGI_APPLICATION = "clarion.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clarion.posts.context_processors.site",
            ],
        },
    },
]

_database_url = config.env("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=600)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "clarion.sqlite3",
            "OPTIONS": {
                # A web process and a worker share one file: wait for locks instead of
                # failing, and take the write lock at BEGIN so upgrades cannot deadlock.
                "init_command": "PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL;"
                " PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
if config.env("CLARION_TEST_DATABASE_NAME"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = config.env("CLARION_TEST_DATABASE_NAME")

CACHES = {"default": config.cache_settings(config.env("CLARION_CACHE_URL"))}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

for _key, _value in config.email_settings(config.env("CLARION_EMAIL_URL"), DATA_DIR).items():
    globals()[_key] = _value
DEFAULT_FROM_EMAIL = config.env("CLARION_FROM_EMAIL", f"Clarion <noreply@{SITE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(config.env("CLARION_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names + gzip/brotli copies; whitenoise then serves them with
        # far-future cache headers (collectstatic runs in `clarion serve`).
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
WHITENOISE_MAX_AGE = 3600

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "admin:login"

DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
CLARION_MAX_UPLOAD_BYTES = config.envint("CLARION_MAX_UPLOAD_MB", 10) * 1024 * 1024
# Behind a reverse proxy: the header holding the client's address for sign-in throttling
# (e.g. X-Forwarded-For; its right-most entry is used). See docs/authoring.md.
CLARION_CLIENT_IP_HEADER = config.env("CLARION_CLIENT_IP_HEADER")

# How often the worker looks for scheduled posts that are due, in seconds.
CLARION_TICK_SECONDS = config.envint("CLARION_TICK_SECONDS", 10)

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if _site.scheme == "https":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = config.envbool("CLARION_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = config.envint("CLARION_HSTS_SECONDS", 31536000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": config.env("CLARION_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Jobs the worker runs every CLARION_TICK_SECONDS (dotted paths to functions of no arguments).
CLARION_PERIODIC_JOBS = [
    "clarion.posts.services.publish_due_posts",
    "clarion.newsletter.sending.sweep",
]

# Newsletter sending (docs/newsletter.md): emails per claimed batch (one SMTP connection
# each), and how long a worker may hold a batch before the sweep gives it to another.
CLARION_NEWSLETTER_BATCH_SIZE = config.envint("CLARION_NEWSLETTER_BATCH_SIZE", 500)
CLARION_NEWSLETTER_LEASE_SECONDS = config.envint("CLARION_NEWSLETTER_LEASE_SECONDS", 120)
# Subscribe requests allowed per client address per window (seconds).
CLARION_SUBSCRIBE_RATE_LIMIT = config.envint("CLARION_SUBSCRIBE_RATE_LIMIT", 10)
CLARION_SUBSCRIBE_RATE_WINDOW = config.envint("CLARION_SUBSCRIBE_RATE_WINDOW", 3600)
# Bounce/complaint webhooks (/newsletter/webhooks/ESP/tracking/) require this shared secret
# as HTTP basic auth, "user:password".
if config.env("CLARION_WEBHOOK_SECRET"):
    ANYMAIL = {
        **globals().get("ANYMAIL", {}),
        "WEBHOOK_SECRET": config.env("CLARION_WEBHOOK_SECRET"),
    }
