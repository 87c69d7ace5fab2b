"""The client's address as throttles and consent records should see it."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """REMOTE_ADDR, or the right-most address in the header named by
    CLARION_CLIENT_IP_HEADER when a trusted proxy sets it (the proxy appends the address it
    saw; earlier entries are the client's own claims). Empty if neither is an IP address."""
    header = getattr(settings, "CLARION_CLIENT_IP_HEADER", "")
    raw = ""
    if header:
        raw = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        raw = raw.split(",")[-1].strip()
    raw = raw or request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return ""
