from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from clarion.web.throttle import client_address, refusal, throttle

from . import links, services, tasks
from .forms import CategoriesForm, SubscribeForm


def _evidence(request, *, page: str = "", wording: str = "", detail: str = ""):
    return services.Evidence(
        page=page,
        wording=wording,
        detail=detail,
        ip=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:1000],
    )


def _page(request, page: str) -> str:
    """The page the form was on, as an absolute URL on this site (never another's)."""
    if page.startswith("/") and not page.startswith("//"):
        return links.absolute(page)
    referer = request.META.get("HTTP_REFERER", "")
    if referer.startswith(settings.SITE_URL + "/"):
        return referer[:500]
    return links.absolute(request.path)


@never_cache
@require_http_methods(["GET", "POST"])
@throttle("subscribe")  # per client address: settings.CLARION_THROTTLE_RATES["subscribe"]
def subscribe(request):
    if request.method == "GET":
        return render(request, "newsletter/subscribe.html", {"form": SubscribeForm()})
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "newsletter/subscribe.html", {"form": form}, status=400)
    data = form.cleaned_data
    due = services.subscribe_request(
        email=data["email"],
        category_ids=[c.pk for c in data["categories"]],
        evidence=_evidence(request, page=_page(request, data["page"]), wording=form.wording()),
    )
    if due:
        tasks.wake_subscriber_email(*due)
    # The same answer whatever the address's state: the form reveals nobody's subscription.
    return render(request, "newsletter/check_inbox.html")


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    # Mail scanners follow links: GET shows a button, only its POST (with the page's CSRF
    # token) confirms, so nobody is subscribed by a machine that opened their mail.
    if request.method == "GET":
        subscriber = services.subscriber_from_token("confirm", token)
    else:
        subscriber = services.subscriber_confirm_link(
            token=token,
            evidence=_evidence(
                request, page=links.absolute(request.path), detail="confirmation page"
            ),
        )
    if subscriber is None:
        # Says what may have happened (used, replaced, expired) without saying which.
        return render(request, "newsletter/confirm.html", {"email": ""}, status=404)
    if request.method == "GET":
        return render(request, "newsletter/confirm.html", {"email": subscriber.email})
    return render(
        request,
        "newsletter/confirmed.html",
        {"manage_url": links.manage_url(subscriber.pk, subscriber.email)},
    )


@csrf_exempt  # RFC 8058: mail clients POST here with no cookie or token; the URL's own
# signed token is the proof, and unsubscribing is the only thing this view can do.
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    subscriber = services.subscriber_from_token("unsubscribe", token)
    if subscriber is None:
        # Only wrong tokens count against an address: one-click unsubscribes arrive from a
        # few mail providers' servers on behalf of many readers, and must never be refused.
        refused = refusal(request, "unsubscribe") if request.method == "POST" else None
        if refused is not None:
            return refused
        return render(request, "newsletter/bad_link.html", {"kind": "unsubscribe"}, status=404)
    if request.method == "GET":
        # Link scanners follow links: only a POST unsubscribes.
        return render(request, "newsletter/unsubscribe.html", {"email": subscriber.email})
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    services.subscriber_unsubscribe(
        subscriber=subscriber,
        evidence=_evidence(
            request,
            page=links.absolute(request.path),
            detail="one-click (RFC 8058)" if one_click else "unsubscribe page",
        ),
    )
    return render(request, "newsletter/unsubscribed.html", {"email": subscriber.email})


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request, token):
    subscriber = services.subscriber_from_token("manage", token)
    if subscriber is None:
        return render(request, "newsletter/bad_link.html", {"kind": "manage"}, status=404)
    saved = False
    if request.method == "POST":
        form = CategoriesForm(request.POST)
        if form.is_valid():
            services.subscriber_set_categories(
                subscriber=subscriber,
                category_ids=[c.pk for c in form.cleaned_data["categories"]],
                evidence=_evidence(request, page=links.absolute(request.path)),
            )
            saved = True
    else:
        form = CategoriesForm(initial={"categories": list(subscriber.categories.all())})
    return render(
        request,
        "newsletter/manage.html",
        {
            "form": form,
            "subscriber": subscriber,
            "saved": saved,
            "unsubscribe_url": links.unsubscribe_url(subscriber.pk, subscriber.email),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
