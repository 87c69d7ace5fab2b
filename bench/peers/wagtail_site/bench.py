"""Settings of the benchmark's Wagtail site: `wagtail start`'s production settings (DEBUG
off, ManifestStaticFilesStorage), the blog app, and this machine's address."""

import os

from .production import *  # noqa: F403
from .production import INSTALLED_APPS

SECRET_KEY = os.environ["WAGTAIL_BENCH_SECRET_KEY"]
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["blog", *INSTALLED_APPS]
WAGTAIL_SITE_NAME = "David Alton"
WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8514"
