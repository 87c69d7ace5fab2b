"""CSRF tokens on cached pages: rendered as a sentinel, each reader given a token of their own.

Pages carry the subscribe form and so a CSRF token. Pages are rendered for the cache with a
fixed sentinel in place of the token; each reader gets the sentinel replaced with a token of
their own (``get_token``'s format), so one reader's token is never served to another. These
are the helpers both serving paths (pagecache.py) use: tokens, the sentinel and the cookie.
"""

from __future__ import annotations

import operator
import re
import time

from django.http.cookie import SimpleCookie
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.http import http_date

from clarion.lib.randomness import token_bytes

from .cache import hit_settings

# Exactly as long as a real masked token and alphanumeric like one, so nothing that
# measures or escapes the token can tell them apart; it never occurs in real content.
CSRF_SENTINEL = "cLaRiOnPaGeCaChECsRfSeNtInEl" + "0" * 36
SENTINEL_BYTES = CSRF_SENTINEL.encode()

_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {c: i for i, c in enumerate(_CHARS)}
# Random bytes at or above this would favour the first characters: they are dropped.
_UNBIASED = 256 - 256 % len(_CHARS)
# Byte b becomes character b % 62 and bytes from _UNBIASED up are deleted, in one C call.
_TO_CHARS = bytes(ord(_CHARS[b % len(_CHARS)]) for b in range(256))
_BIASED = bytes(range(_UNBIASED, 256))

# A cookie FastPath may answer with a token for: anything else goes to Django, which
# replaces a legacy or damaged one.
WELL_FORMED_SECRET = re.compile(f"[{re.escape(CSRF_ALLOWED_CHARS)}]{{{CSRF_SECRET_LENGTH}}}")


def random_csrf_string() -> str:
    """What ``django.middleware.csrf._get_new_csrf_string`` returns (32 of the 62 allowed
    characters, uniformly from the OS's CSPRNG), from 48 random bytes instead of 64
    ``SystemRandom.choice`` calls: that was a third of a cache hit's time. The bytes come
    from clarion.lib.randomness, which reads the CSPRNG in blocks."""
    chars = b""
    while len(chars) < CSRF_SECRET_LENGTH:
        chars += token_bytes(48).translate(_TO_CHARS, _BIASED)
    return chars[:CSRF_SECRET_LENGTH].decode("ascii")


def csrf_token(request) -> str:
    """``django.middleware.csrf.get_token`` for a request CsrfViewMiddleware has read:
    the same masked format (mask + secret ciphered by it), checked by the same middleware
    (the tests post forms with these tokens); a new reader gets a new secret and cookie."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = random_csrf_string()
        request.META["CSRF_COOKIE"] = secret
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    return masked(secret)


# ``_mask_cipher_secret`` adds each secret character's index in the alphabet to the mask
# character's, modulo 62. Done here on bytes: two translations to indexes, one C-level map
# of additions, one translation back (a third of the time of a dict lookup per character).
_TO_INDEX = bytes(_INDEX.get(chr(b), 0) for b in range(256))
_FROM_SUM = bytes(ord(_CHARS[s % len(_CHARS)]) for s in range(2 * len(_CHARS))).ljust(256, b"?")


def masked(secret: str) -> str:
    """A masked token for this secret, as ``django.middleware.csrf._mask_cipher_secret``."""
    mask = random_csrf_string()
    sums = map(
        operator.add,
        secret.encode("ascii").translate(_TO_INDEX),
        mask.encode("ascii").translate(_TO_INDEX),
    )
    return mask + bytes(sums).translate(_FROM_SUM).decode("ascii")


def csrf_sentinel(request):
    """Context processor: while a page is being rendered for the cache, ``{% csrf_token %}``
    writes the sentinel (listed after Django's built-in csrf processor, so it wins)."""
    if getattr(request, "_page_cache_rendering", False):
        return {"csrf_token": CSRF_SENTINEL}
    return {}


_cookie_template: tuple[tuple, str] = ((), "")


def csrf_cookie(secret: str) -> str:
    """The Set-Cookie value CsrfViewMiddleware would send (HttpResponse.set_cookie's).

    Built with SimpleCookie once a second (its expiry date moves) and then reused with each
    reader's secret put in: SimpleCookie and http_date cost more than the rest of a hit."""
    conf = hit_settings()
    global _cookie_template
    now = int(time.time())
    key = (now, id(conf))
    if _cookie_template[0] != key:
        _cookie_template = (key, _build_csrf_cookie(CSRF_SENTINEL[:CSRF_SECRET_LENGTH], now))
    return _cookie_template[1].replace(CSRF_SENTINEL[:CSRF_SECRET_LENGTH], secret, 1)


def _build_csrf_cookie(secret: str, now: float) -> str:
    conf = hit_settings()
    cookie = SimpleCookie()
    cookie[conf.CSRF_COOKIE_NAME] = secret
    morsel = cookie[conf.CSRF_COOKIE_NAME]
    morsel["max-age"] = conf.CSRF_COOKIE_AGE
    morsel["expires"] = http_date(now + conf.CSRF_COOKIE_AGE)
    morsel["path"] = conf.CSRF_COOKIE_PATH
    if conf.CSRF_COOKIE_DOMAIN:
        morsel["domain"] = conf.CSRF_COOKIE_DOMAIN
    if conf.CSRF_COOKIE_SECURE:
        morsel["secure"] = True
    if conf.CSRF_COOKIE_HTTPONLY:
        morsel["httponly"] = True
    if conf.CSRF_COOKIE_SAMESITE:
        morsel["samesite"] = conf.CSRF_COOKIE_SAMESITE
    return morsel.OutputString()
