"""A stand-in for the public POST endpoints, throttled exactly as they are."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from clarion.web.throttle import throttle


@csrf_exempt
@throttle("subscribe")
def subscribe(request):
    return HttpResponse("Check your inbox.\n" if request.method == "POST" else "form")


urlpatterns = [
    path("subscribe-test/", subscribe),
    path("", include("clarion.urls")),
]
