from functools import wraps

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import Http404
from django.urls import URLPattern, include, path

from . import views

app_name = "newsletter"


def _only_with_secret(view):
    """Without a shared secret anyone could post "bounced" for any address and silently
    unsubscribe it, so the webhooks answer 404 until CLARION_WEBHOOK_SECRET is set."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"):
            raise Http404("Webhooks are not configured.")
        return view(request, *args, **kwargs)

    return guarded


webhook_patterns = (
    [
        URLPattern(p.pattern, _only_with_secret(p.callback), p.default_args, p.name)
        for p in anymail_urls.urlpatterns
    ],
    "anymail",
)

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", views.confirm, name="confirm"),
    path("subscribe/manage/<str:token>/", views.manage, name="manage"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # Bounce and complaint webhooks of the configured provider (see docs/newsletter.md).
    path("newsletter/webhooks/", include(webhook_patterns)),
]
