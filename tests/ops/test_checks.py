from clarion.ops.checks import check_backup_schedule, check_throttle_rates


def test_it_reports_a_bad_backup_interval(settings):
    settings.CLARION_BACKUP_EVERY = "daily"
    [error] = check_backup_schedule()
    assert error.id == "clarion.ops.E001" and "CLARION_BACKUP_EVERY" in error.msg
    settings.CLARION_BACKUP_EVERY = "24h"
    assert check_backup_schedule() == []


def test_it_reports_a_bad_throttle_rate(settings):
    settings.CLARION_THROTTLE_RATES = {"subscribe": "lots", "suggest": "120/m"}
    [error] = check_throttle_rates()
    assert error.id == "clarion.ops.E002" and "'subscribe'" in error.msg
