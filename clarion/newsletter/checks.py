from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning


def check_site_url(app_configs=None, **kwargs):
    """Unsubscribe links (List-Unsubscribe, RFC 8058) must be HTTPS for Gmail and Yahoo to
    offer one-click unsubscribe; plain HTTP is fine only on this machine."""
    site = urlsplit(settings.SITE_URL)
    if site.scheme == "https" or site.hostname in {"127.0.0.1", "localhost", "::1"}:
        return []
    return [
        Warning(
            f"CLARION_SITE_URL ({settings.SITE_URL}) is not HTTPS: links in newsletter emails, "
            "one-click unsubscribe included, will use plain HTTP.",
            hint="Serve the site over HTTPS and set CLARION_SITE_URL=https://… "
            "(docs/newsletter.md).",
            id="clarion.newsletter.W001",
        )
    ]
