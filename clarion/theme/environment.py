"""The Jinja2 environment of the public theme (``clarion/theme/jinja2/``).

Readers' pages are rendered by Jinja2, which compiles each template to Python once;
Django's template language walks a node tree for every render. On an uncached post page
Django's templates took about 2 ms of the 5.9 ms a render cost (docs/benchmarks.md,
"HTTP serving"). The admin, the editor and emails keep Django's templates
(``templates/``): they are rendered rarely and use Django's admin templates.

The globals and filters below are the few Django template tags and filters the theme
used, with Django's own functions behind them so the output is the same: ``url`` is
``{% url %}``, ``static`` is ``{% static %}``, ``date`` is Django's ``date`` filter (after
converting to the site's time zone, as Django's template language does before that
filter), ``now`` is ``{% now %}``.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat, timezone
from jinja2 import Environment


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, arg: str | None = None) -> str:
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return defaultfilters.date(value, arg)


def now(format_string: str) -> str:
    return dateformat.format(timezone.localtime(), format_string)


def environment(**options) -> Environment:
    env = Environment(**options)
    env.globals.update(url=url, static=static, now=now)
    env.filters.update(
        date=date,
        truncatechars=defaultfilters.truncatechars,
        intcomma=intcomma,
        pluralize=defaultfilters.pluralize,
    )
    return env
