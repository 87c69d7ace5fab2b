from django.apps import AppConfig


class EditorConfig(AppConfig):
    name = "clarion.editor"
