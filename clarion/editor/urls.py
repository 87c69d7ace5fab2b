"""Password reset by email for the admin, with Django's own views and the admin's templates.

Mounted under /admin/ before the admin site itself; the admin's sign-in page shows
“Forgotten your password?” because a URL named ``admin_password_reset`` exists.
"""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .accounts import PasswordResetForm
from .throttle import LockLiftingSetPasswordForm

urlpatterns = [
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(
            form_class=PasswordResetForm,
            success_url=reverse_lazy("password_reset_done"),
            extra_context={"site_header": "Clarion"},
        ),
        name="admin_password_reset",
    ),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=LockLiftingSetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
