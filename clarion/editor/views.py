"""The editor's endpoints for its script: live Markdown preview and image upload.

Both are mounted through the admin (``admin_view``: signed-in staff only, CSRF-checked) and
answer plain HTML or JSON; the editor works without them when JavaScript is off.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.http import require_POST

from clarion.posts import markdown

from . import images


@require_POST
def preview_markdown(request):
    """Render the posted ``body`` with the public renderer and sanitiser."""
    user = request.user
    if not (user.has_perm("posts.add_post") or user.has_perm("posts.change_post")):
        return HttpResponseForbidden("You cannot write posts.")
    body = request.POST.get("body", "")
    # The preview renders on every pause in typing: no more than a post may hold.
    problem = markdown.too_long(body)
    if problem:
        return HttpResponse(
            problem,
            status=413,
            content_type="text/plain; charset=utf-8",
        )
    html = markdown.render(body)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["X-Word-Count"] = str(len(markdown.to_text(html).split()))
    # The fragment is for insertion into the editor page, never to be run as a page itself.
    response["Content-Security-Policy"] = "default-src 'none'; img-src * data:; sandbox"
    return response


@require_POST
def upload_image(request):
    """Store the posted ``file`` (with ``alt``); answer its Markdown, or a clear error."""
    if not request.user.has_perm("editor.add_mediaitem"):
        return JsonResponse({"error": "You cannot upload images."}, status=403)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "Choose an image to upload."}, status=400)
    alt = request.POST.get("alt", "")
    try:
        item = images.store(upload, user=request.user, alt=alt)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse(
        {
            "id": item.pk,
            "url": item.url,
            "srcset": item.srcset(),
            "markdown": item.markdown(),
            "width": item.width,
            "height": item.height,
        },
        status=201,
    )
