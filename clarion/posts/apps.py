from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "clarion.posts"
    verbose_name = "Publishing"

    def ready(self):
        from . import handlers  # noqa: F401
