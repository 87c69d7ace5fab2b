"""The admin's password reset, with its email built like every other Clarion email
(``clarion.newsletter.messages``: both parts, the one footer, a Message-ID on the site's
domain rather than the machine's host name, which Django's own form would use)."""

from __future__ import annotations

import logging

from django.contrib.auth import forms

from clarion.newsletter import messages

log = logging.getLogger(__name__)


class PasswordResetForm(forms.PasswordResetForm):
    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        # Django's templates are not used (emails/password-reset-*); like Django, a failure
        # is logged, never shown: the page must not tell whether the address has an account.
        try:
            messages.password_reset(context["email"], context).send()
        except Exception:
            log.exception("Failed to send password reset email to %s", context["user"].pk)
