"""System checks for the operator's settings (ids clarion.ops.E00N)."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_backup_schedule(app_configs=None, **kwargs):
    from .backup import BackupError, parse_every

    try:
        parse_every(settings.CLARION_BACKUP_EVERY or "")
    except BackupError as exc:
        return [Error(str(exc), hint="See docs/operating.md#backups", id="clarion.ops.E001")]
    return []


@register()
def check_throttle_rates(app_configs=None, **kwargs):
    from clarion.web.throttle import Rate

    errors = []
    for scope, rate in settings.CLARION_THROTTLE_RATES.items():
        try:
            Rate.parse(rate)
        except ValueError as exc:
            errors.append(
                Error(
                    f"CLARION_THROTTLE_RATES[{scope!r}]: {exc}",
                    hint="e.g. 10/10m; see docs/operating.md#abuse-per-address-throttling",
                    id="clarion.ops.E002",
                )
            )
    return errors
