from django.apps import AppConfig
from django.core import checks


class SearchConfig(AppConfig):
    name = "clarion.search"
    verbose_name = "Search"

    def ready(self):
        from . import checks as search_checks
        from . import handlers  # noqa: F401

        checks.register(search_checks.check_full_text_search, checks.Tags.database)
