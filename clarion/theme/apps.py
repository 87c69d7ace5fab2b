from django.apps import AppConfig


class ThemeConfig(AppConfig):
    name = "clarion.theme"
    verbose_name = "Theme"
