from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "clarion.web"
    verbose_name = "Public web"
