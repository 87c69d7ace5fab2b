"""Serving uploaded files so that none of them can run as a page of this site."""

from __future__ import annotations

from django.utils.http import content_disposition_header
from django.views.static import serve

# Shown in the page (inline); everything else, SVG included (it can carry script), downloads.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"}
SANDBOX = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def serve_media(request, path, document_root):
    response = serve(request, path, document_root=document_root)
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    inline = content_type in INLINE_TYPES
    response["Content-Disposition"] = content_disposition_header(
        not inline, path.rsplit("/", 1)[-1]
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Set here, so the site-wide policy (which only fills an absent header) leaves it alone.
    response["Content-Security-Policy"] = SANDBOX
    return response
