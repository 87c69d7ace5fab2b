"""Test settings: the real settings, with a throwaway data folder and fast hashing."""

import os
import tempfile

os.environ.setdefault("CLARION_DATA_DIR", tempfile.mkdtemp(prefix="clarion-test-"))
os.environ.setdefault("CLARION_SECRET_KEY", "test-secret-key-" + "x" * 40)

from clarion.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CLARION_TICK_SECONDS = 1
WHITENOISE_AUTOREFRESH = True
