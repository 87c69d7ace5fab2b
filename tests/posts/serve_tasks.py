"""Tasks that the `clarion serve` shutdown test enqueues (importable by the worker)."""

import time
from pathlib import Path

from django_tasks import task


@task()
def write_marker(path: str, seconds: float = 0.0) -> None:
    time.sleep(seconds)
    Path(path).write_text("done")
