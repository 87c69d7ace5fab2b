from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EditorConfig(AppConfig):
    name = "clarion.editor"
    verbose_name = "Writing"

    def ready(self):
        from django.contrib import admin

        from . import handlers, throttle

        # Customise the default admin site rather than replacing it: the sign-in form
        # refuses throttled accounts and addresses with a clear message.
        admin.site.login_form = throttle.ThrottledAdminAuthenticationForm
        admin.site.site_header = "Clarion"
        admin.site.site_title = "Clarion"
        admin.site.index_title = "Write and publish"
        handlers.connect_user_groups()
        post_migrate.connect(
            handlers.set_up_roles_after_migrate,
            sender=self,
            dispatch_uid="clarion.editor.set_up_roles",
        )
