"""Body size limits and /healthz."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse


class BodySizeLimitMiddleware:
    """Refuse a request whose declared body is larger than any form or upload may be,
    before anything reads it (Django's own limits apply to bodies it parses)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.\n", status=400, content_type="text/plain")
        if length > settings.CLARION_MAX_REQUEST_BYTES:
            return HttpResponse(
                "This request is too large.\n", status=413, content_type="text/plain"
            )
        return self.get_response(request)


class HealthCheckMiddleware:
    """Answer /healthz before sessions, locale or anything else that needs the database,
    so an unreachable database gives a 503 with JSON rather than an error page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in ("/healthz", "/healthz/") and request.method in ("GET", "HEAD"):
            from .health import check

            report = check()
            response = JsonResponse(report, status=200 if report["ok"] else 503)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
