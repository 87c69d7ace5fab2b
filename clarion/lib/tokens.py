"""Signed, salted, expiring tokens for links in emails (double opt-in, unsubscribe).

Modelled on django.contrib.auth.tokens: the token names an object and a digest of the
state it is valid for (here the email address), so changing that state invalidates it.
Signing uses SECRET_KEY and SECRET_KEY_FALLBACKS, so rotating the key keeps old links working
while the old key is listed as a fallback.
"""

from __future__ import annotations

import hashlib

from django.core import signing


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def make(purpose: str, pk: int, state: str) -> str:
    return signing.TimestampSigner(salt=f"clarion.{purpose}").sign(f"{pk}.{_digest(state)}")


def read(purpose: str, token: str, *, max_age_seconds: int) -> tuple[int, str] | None:
    """Return (pk, state digest) for a valid token, or None when forged or expired."""
    try:
        value = signing.TimestampSigner(salt=f"clarion.{purpose}").unsign(
            token, max_age=max_age_seconds
        )
    except (signing.BadSignature, ValueError):
        return None
    pk, _, state = value.partition(".")
    if not pk.isdigit():
        return None
    return int(pk), state


def matches(state_digest: str, state: str) -> bool:
    return state_digest == _digest(state)
