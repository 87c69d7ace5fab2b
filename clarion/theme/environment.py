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
filter), ``now`` is ``{% now %}``. ``isodatetime`` is the one way a datetime is written into
an attribute or JSON-LD (see its docstring).
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import defaultfilters
from django.templatetags.static import static as django_static
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import get_language
from jinja2 import Environment


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


# A listing page formats twenty dates and links nine static files, the same on every
# request; both are pure functions of their arguments (and of the time zone and language,
# or of the static files' manifest), so they are remembered: 0.3 ms of a home page.
@functools.lru_cache(maxsize=256)
def static(path: str) -> str:
    return django_static(path)


@receiver(setting_changed)
def _forget_static(**kwargs) -> None:
    if kwargs["setting"] in ("STATIC_URL", "STORAGES", "STATIC_ROOT"):
        static.cache_clear()


def date(value, arg: str | None = None) -> str:
    if isinstance(value, datetime) and timezone.is_aware(value):
        return _date(value, arg, timezone.get_current_timezone_name(), get_language())
    return defaultfilters.date(value, arg)


@functools.lru_cache(maxsize=4096)
def _date(value: datetime, arg, time_zone: str, language) -> str:
    return defaultfilters.date(timezone.localtime(value), arg)


# A post page shortens its summary three times (description, Open Graph, Twitter), and
# Django's Truncator walks every character each time: 0.5 ms of a 3.5 ms page. The result
# depends only on the text, the length and the language (the ellipsis is translated).
# Typed, so a safe string and a plain one with the same text are remembered apart: the
# result keeps its input's safety.
def truncatechars(value, arg) -> str:
    if isinstance(value, str):
        return _truncatechars(value, arg, get_language())
    return defaultfilters.truncatechars(value, arg)


@functools.lru_cache(maxsize=4096, typed=True)
def _truncatechars(value: str, arg, language) -> str:
    return defaultfilters.truncatechars(value, arg)


def isodatetime(value: datetime) -> str:
    """``value`` in the site's time zone as a valid global date and time string (HTML's
    ``<time datetime>``, Open Graph, JSON-LD): to the second, since HTML allows at most three
    fraction digits and Django's ``date('c')`` writes six. A naive value is taken to be in
    the site's time zone."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    else:
        value = timezone.make_aware(value)
    return value.isoformat(timespec="seconds")


def now(format_string: str) -> str:
    return dateformat.format(timezone.localtime(), format_string)


def environment(**options) -> Environment:
    env = Environment(**options)
    env.globals.update(url=url, static=static, now=now)
    env.filters.update(
        date=date,
        isodatetime=isodatetime,
        truncatechars=truncatechars,
        intcomma=intcomma,
        pluralize=defaultfilters.pluralize,
    )
    return env
