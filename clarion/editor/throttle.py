"""Sign-in throttling per account-and-address pair and per address, in a table of our own.

Works on any database without Redis (django-ratelimit refuses the database cache). Each
failed sign-in is a LoginFailure row. As django-axes' combination mode
(AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]) does, an account is locked only for
the address its failures came from, so a stranger guessing from elsewhere cannot lock the
real user out; a looser limit per address, over all accounts, stops one client spraying many
accounts. A locked pair or address is refused before its password is even checked; a
successful sign-in, and a successful password reset, clear the account's failures.
(Not django-axes itself: it would bring its own tables, middleware and backend for what
two queries on this table do.)
"""

from __future__ import annotations

import ipaddress
import math
from datetime import timedelta

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from .models import LoginFailure


def window() -> timedelta:
    return timedelta(seconds=getattr(settings, "CLARION_LOGIN_WINDOW_SECONDS", 900))


def max_per_account() -> int:
    return getattr(settings, "CLARION_LOGIN_FAILURES_PER_ACCOUNT", 5)


def max_per_address() -> int:
    return getattr(settings, "CLARION_LOGIN_FAILURES_PER_ADDRESS", 20)


def client_address(request) -> str | None:
    """The client's IP address, found as every throttle finds it (CLARION_PROXY_COUNT
    trusted proxies; see clarion.web.throttle), or None when it is not an address."""
    if request is None:
        return None
    from clarion.web.throttle import client_address as shared_client_address

    try:
        return str(ipaddress.ip_address(shared_client_address(request)))
    except ValueError:
        return None


def normalise_username(username) -> str:
    return str(username or "").strip().lower()[:150]


def retry_after(username: str, address: str | None, now=None) -> timedelta | None:
    """How long until this account may try again from this address, or None if it may now."""
    waits = [wait for wait, _ in _locks(username, address, now)]
    return max(waits) if waits else None


def _locks(username: str, address: str | None, now=None) -> list[tuple[timedelta, str]]:
    """Each lock in force on this sign-in, as (time left, "account" or "address")."""
    now = now or timezone.now()
    recent = LoginFailure.objects.recent(window(), now)
    pair = Q(username=normalise_username(username))
    pair &= Q(address=address) if address else Q(address__isnull=True)
    checks = [(pair, max_per_account(), "account")]
    if address:
        checks.append((Q(address=address), max_per_address(), "address"))
    waits = []
    for query, limit, kind in checks:
        times = list(
            recent.filter(query)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:limit]
        )
        if len(times) >= limit:
            # Free again when the oldest of the last `limit` failures leaves the window.
            waits.append((times[-1] + window() - now, kind))
    return waits


def record_failure(username: str, address: str | None) -> None:
    now = timezone.now()
    LoginFailure.objects.filter(created_at__lt=now - window()).delete()
    LoginFailure.objects.create(
        username=normalise_username(username), address=address, created_at=now
    )


def clear_account(username: str) -> None:
    """Lift every lock on the account, from every address (after a password reset)."""
    LoginFailure.objects.filter(username=normalise_username(username)).delete()


def clear(username: str, address: str | None) -> None:
    query = Q(username=normalise_username(username))
    if address:
        query |= Q(address=address)
    LoginFailure.objects.filter(query).delete()


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many failed sign-in attempts. Try again in %(minutes)s, "
        "or reset your password.",
        # A password reset does not lift this one: it is the address, not the account.
        "throttled_address": "Too many failed sign-in attempts from your address. "
        "Try again in %(minutes)s.",
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            locks = _locks(username, client_address(self.request))
            if locks:
                wait, kind = max(locks)
                minutes = max(1, math.ceil(wait.total_seconds() / 60))
                code = "throttled" if kind == "account" else "throttled_address"
                raise ValidationError(
                    self.error_messages[code],
                    code="throttled",
                    params={"minutes": f"{minutes} minute{'s' if minutes != 1 else ''}"},
                )
        return super().clean()


class LockLiftingSetPasswordForm(SetPasswordForm):
    """The password reset's new-password form: saving it lifts the account's sign-in locks,
    as the throttled message promises."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        clear_account(user.get_username())
        return user


@receiver(user_login_failed, dispatch_uid="clarion.editor.login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs):
    username = credentials.get("username")
    if username:
        record_failure(username, client_address(request))


@receiver(user_logged_in, dispatch_uid="clarion.editor.logged_in")
def _on_logged_in(sender, request, user, **kwargs):
    clear(user.get_username(), client_address(request))
