from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "clarion.newsletter"
    verbose_name = "Newsletter"

    def ready(self):
        from anymail.signals import tracking
        from django.core import checks

        from clarion.posts.signals import post_published

        from . import handlers
        from .checks import check_site_url

        checks.register(check_site_url)

        post_published.connect(
            handlers.issue_on_publish, dispatch_uid="clarion.newsletter.issue_on_publish"
        )
        tracking.connect(
            handlers.address_on_tracking_event,
            dispatch_uid="clarion.newsletter.address_on_tracking_event",
        )
