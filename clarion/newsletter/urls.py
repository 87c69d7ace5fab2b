from django.urls import include, path

from . import views

app_name = "newsletter"

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", views.confirm, name="confirm"),
    path("subscribe/manage/<str:token>/", views.manage, name="manage"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # Bounce and complaint webhooks of the configured provider (see docs/newsletter.md).
    path("newsletter/webhooks/", include("anymail.urls")),
]
