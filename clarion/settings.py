"""Clarion's one settings module, read from the environment (see docs/configuration.md)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF

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
    "clarion.web",
    "clarion.posts",
    "clarion.editor",
    "clarion.newsletter",
    "clarion.search",
    "clarion.importers",
    "clarion.ops",
    "csp",
]

MIDDLEWARE = [
    "clarion.web.middleware.RequestIdMiddleware",
    # Outside every other middleware, so a hit skips them all and the stored page keeps the
    # headers they added when it was rendered (docs/deploy.md, "The page cache").
    "clarion.web.pagecache.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "clarion.web.middleware.PermissionsPolicyMiddleware",
    "clarion.ops.middleware.HealthCheckMiddleware",
    "clarion.ops.middleware.BodySizeLimitMiddleware",
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

# Readers' pages are Jinja2 (clarion/theme/jinja2/, clarion/theme/environment.py says why);
# the admin, the editor and emails are Django templates. Jinja2 is asked first.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "clarion.theme.environment.environment",
            "context_processors": [
                "clarion.posts.context_processors.site",
                "csp.context_processors.nonce",
                "clarion.web.csrf.csrf_sentinel",
            ],
        },
    },
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
                "csp.context_processors.nonce",
                "clarion.web.csrf.csrf_sentinel",
            ],
        },
    },
]

_database_url = config.env("DATABASE_URL")
if _database_url:
    DATABASES = {"default": config.database_settings(_database_url)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "clarion.sqlite3",
            "OPTIONS": {
                # A web process and a worker share one file: wait for locks instead of
                # failing, and take the write lock at BEGIN so upgrades cannot deadlock.
                # Reads through a memory map (up to 1 GiB of the file) and a 16 MB page
                # cache per connection, instead of a read() per page: a search touching a
                # thousand posts went from ~20 ms to ~8 ms (docs/benchmarks.md).
                "init_command": "PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL;"
                " PRAGMA synchronous=NORMAL; PRAGMA mmap_size=1073741824;"
                " PRAGMA cache_size=-16384;",
                "transaction_mode": "IMMEDIATE",
            },
            # Reopening the file and re-running the PRAGMAs cost more than a page-cache
            # hit does; keep each thread's connection, as for PostgreSQL.
            "CONN_MAX_AGE": 600,
        }
    }
if config.env("CLARION_TEST_DATABASE_NAME"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = config.env("CLARION_TEST_DATABASE_NAME")

CACHES = {"default": config.cache_settings(config.env("CLARION_CACHE_URL"))}

# The page cache (docs/deploy.md): rendered public pages for anonymous readers.
CLARION_PAGE_CACHE = config.envbool("CLARION_PAGE_CACHE", True)
# How long a rendered page is kept at most (scheduled posts go live by the clock).
CLARION_PAGE_CACHE_SECONDS = config.envint("CLARION_PAGE_CACHE_SECONDS", 300)
# On SQLite, requests read the content generation from a file shared by every process, and
# check it against the database this often (clarion/web/generation.py): the longest a
# change made outside Clarion (a restored backup, a manual edit) takes to show.
CLARION_GENERATION_CHECK_SECONDS = config.envint("CLARION_GENERATION_CHECK_SECONDS", 1)
# What browsers and CDNs are told: short, since a new post must show up quickly.
CLARION_HTTP_MAX_AGE = config.envint("CLARION_HTTP_MAX_AGE", 60)
CLARION_HTTP_STALE_SECONDS = config.envint("CLARION_HTTP_STALE_SECONDS", 60)

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
    # Uploads: MEDIA_ROOT, or S3-compatible storage for several machines (docs/deploy.md).
    "default": config.media_storage(config.env("CLARION_MEDIA_STORAGE_URL")),
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

# How often the worker looks for scheduled posts that are due, in seconds.
CLARION_TICK_SECONDS = config.envint("CLARION_TICK_SECONDS", 10)

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: forms carry the token in the page ({% csrf_token %}).
CSRF_COOKIE_HTTPONLY = True
# Load balancers probe /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
if _site.scheme == "https":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = config.envbool("CLARION_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = config.envint("CLARION_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = config.envbool("CLARION_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = config.envbool("CLARION_HSTS_PRELOAD", False)
# HSTS for subdomains and the preload list bind every other site of the domain for a year:
# the operator opts in (docs/operating.md), so Django's reminders are silenced.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

# Nothing from other sites: scripts carry a nonce (request.csp_nonce / CSP_NONCE in
# templates), uploaded images may come from CLARION_MEDIA_HOST when media lives elsewhere.
_media_host = config.env("CLARION_MEDIA_HOST")
# Markdown tables align cells with style="text-align:…" attributes: allow exactly those three
# (CSP 'unsafe-hashes'), and no other inline style.
_cell_styles = [
    f"'sha256-{base64.b64encode(hashlib.sha256(v.encode()).digest()).decode()}'"
    for v in ("text-align:left", "text-align:center", "text-align:right")
]
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"] if config.envbool("CLARION_CSP_SKIP_ADMIN") else [],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-hashes'", *_cell_styles],
        "img-src": [SELF, "data:", *([_media_host] if _media_host else [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
# Browser features no page of the site uses, switched off for every page (and anything
# embedded in one).
CLARION_PERMISSIONS_POLICY = [
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
    "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get", "usb",
    "browsing-topics", "interest-cohort",
]  # fmt: skip

# Every request body: uploads may be CLARION_MAX_UPLOAD_MB, anything else far less
# (DATA_UPLOAD_MAX_MEMORY_SIZE bounds what Django parses of forms and JSON).
CLARION_MAX_REQUEST_BYTES = CLARION_MAX_UPLOAD_BYTES + 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Per-address limits on public POSTs (clarion.web.throttle); "N/[k]s|m|h|d".
CLARION_THROTTLE_ENABLED = config.envbool("CLARION_THROTTLE", True)
CLARION_THROTTLE_RATES = {
    "subscribe": config.env("CLARION_THROTTLE_SUBSCRIBE", "10/10m"),
    "unsubscribe": config.env("CLARION_THROTTLE_UNSUBSCRIBE", "30/10m"),
    "suggest": config.env("CLARION_THROTTLE_SUGGEST", "120/m"),
}
# Reverse proxies in front of the site whose X-Forwarded-For entries are trusted.
CLARION_PROXY_COUNT = config.envint("CLARION_PROXY_COUNT", 0)

# /healthz: the worker must have ticked within this many seconds; optionally, no email may
# have waited longer than CLARION_HEALTH_EMAIL_MAX_AGE seconds (0: not checked).
CLARION_HEALTH_WORKER_MAX_AGE = config.envint("CLARION_HEALTH_WORKER_MAX_AGE", 60)
CLARION_HEALTH_EMAIL_MAX_AGE = config.envint("CLARION_HEALTH_EMAIL_MAX_AGE", 0)

# Scheduled backups (clarion.ops.jobs.scheduled_backup): e.g. "24h"; empty is off.
CLARION_BACKUP_EVERY = config.env("CLARION_BACKUP_EVERY")
CLARION_BACKUP_KEEP = config.envint("CLARION_BACKUP_KEEP", 7)
CLARION_BACKUP_DIR = Path(config.env("CLARION_BACKUP_DIR", str(DATA_DIR / "backups")))
# Models ("app_label.model") left out of backups and exports besides the built-in list in
# clarion.ops.sitedata (sessions, throttle windows, heartbeats, task results).
CLARION_BACKUP_EXCLUDE: list[str] = []

CLARION_ACCESS_LOG = config.envbool("CLARION_ACCESS_LOG", True)
_log_format = config.env("CLARION_LOG_FORMAT", "plain").lower()
if _log_format not in {"plain", "json"}:
    raise SystemExit(f"CLARION_LOG_FORMAT: expected plain or json, got {_log_format!r}")
# One line per event on stdout, tagged with the request id; email addresses and tokens are
# removed from every record before any handler sees it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "clarion.web.logs.RequestIdFilter"},
        "redact": {"()": "clarion.web.logs.RedactFilter"},
        "warning_without_traceback": {"()": "clarion.web.logs.WarningWithoutTraceback"},
    },
    "formatters": {
        "plain": {"()": "clarion.web.logs.PlainFormatter"},
        "json": {"()": "clarion.web.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "clarion.web.logs.BufferedStreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": _log_format,
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": config.env("CLARION_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own 4xx/5xx lines repeat the access log's; its 5xx tracebacks still pass.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # A bad Host header or another refused request: one line at WARNING, no traceback.
        # A logger's filters see only its own records, so each of Django's is named.
        **{
            f"django.security.{name}": {"filters": ["warning_without_traceback"]}
            for name in (
                "DisallowedHost",
                "DisallowedRedirect",
                "DisallowedModelAdminLookup",
                "DisallowedModelAdminToField",
                "InvalidSessionKey",
                "RequestDataTooBig",
                "SuspiciousFileOperation",
                "SuspiciousMultipartForm",
                "SuspiciousOperation",
                "SuspiciousSession",
                "TooManyFieldsSent",
                "TooManyFilesSent",
            )
        },
    },
}

# Site search: "…backends.database" picks the database's own full-text search
# (docs/search.md); "clarion.search.backends.fallback" forces plain matching.
CLARION_SEARCH_BACKEND = config.env("CLARION_SEARCH_BACKEND", "clarion.search.backends.database")

# Jobs the worker runs every CLARION_TICK_SECONDS (dotted paths to functions of no arguments).
CLARION_PERIODIC_JOBS = [
    "clarion.posts.services.publish_due_posts",
    "clarion.newsletter.tasks.sweep",
    "clarion.ops.jobs.heartbeat",
    "clarion.ops.jobs.clean_throttle",
    "clarion.ops.jobs.scheduled_backup",
    "clarion.ops.jobs.refresh_planner_statistics",
]

# Newsletter sending (docs/newsletter.md): emails per claimed batch (one SMTP connection
# each), and how long a worker may hold a batch before the sweep gives it to another.
CLARION_NEWSLETTER_BATCH_SIZE = config.envint("CLARION_NEWSLETTER_BATCH_SIZE", 500)
CLARION_NEWSLETTER_LEASE_SECONDS = config.envint("CLARION_NEWSLETTER_LEASE_SECONDS", 120)
# Bounce/complaint webhooks (/newsletter/webhooks/ESP/tracking/) require this shared secret
# as HTTP basic auth, "user:password".
if config.env("CLARION_WEBHOOK_SECRET"):
    ANYMAIL = {
        **globals().get("ANYMAIL", {}),
        "WEBHOOK_SECRET": config.env("CLARION_WEBHOOK_SECRET"),
    }
